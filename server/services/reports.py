"""Reports of messages or users (document 001 §2.3), and their review by admins."""

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, StringConstraints
from sqlalchemy import and_, or_, select

from protocol.errors import ErrorCode
from protocol.models import Page
from protocol.rest import ReportRequest
from protocol.text import sanitize_text
from server.context import ServerContext
from server.db import models
from server.db.types import utcnow
from server.errors import ApiError, not_found
from server.services import access
from server.services.cursors import cursor_time, decode_cursor, encode_cursor
from server.services.users import get_user

ReportStatus = Literal["PENDING", "REVIEWED", "ACTIONED", "DISMISSED"]


class ReportRecord(BaseModel):
    """A stored report."""

    id: str
    reporter_id: str
    reported_user_id: str | None
    message_id: str | None
    reason: str
    detail: str | None
    status: ReportStatus
    reviewed_by: str | None
    reviewed_at: datetime | None
    review_note: str | None
    created_at: datetime


class ReportReview(BaseModel):
    """``PATCH /admin/reports/{id}``: the review outcome, with the reviewer's note."""

    model_config = ConfigDict(extra="forbid")

    status: ReportStatus
    note: Annotated[str, StringConstraints(max_length=1000)] | None = None


def _record(row: models.Report) -> ReportRecord:
    return ReportRecord.model_validate(row, from_attributes=True)


async def file_report(context: ServerContext, caller_id: str, body: ReportRequest) -> ReportRecord:
    """Store a report of a message the caller can see and/or of a user (a message's sender is
    filled in when only the message is given). Refusals: VALIDATION_ERROR (neither given, or
    reporting yourself), NOT_FOUND (a message the caller cannot see, an unknown user)."""
    if body.message_id is None and body.reported_user_id is None:
        raise ApiError(ErrorCode.VALIDATION_ERROR, "give message_id or reported_user_id")
    async with context.db.write() as uow:
        session = uow.session
        reported = body.reported_user_id
        if body.message_id is not None:
            message, _conversation, _member = await access.require_message(
                session, caller_id, body.message_id
            )
            reported = reported or message.sender_id
        if reported is not None:
            await get_user(session, reported)
        if reported == caller_id:
            raise ApiError(ErrorCode.VALIDATION_ERROR, "you cannot report yourself")
        detail = sanitize_text(body.detail) if body.detail else None
        row = models.Report(
            reporter_id=caller_id,
            reported_user_id=reported,
            message_id=body.message_id,
            reason=body.reason,
            detail=detail or None,
            status="PENDING",
            created_at=utcnow(),
        )
        session.add(row)
        await session.flush()
        return _record(row)


async def _require_admin(context: ServerContext, caller_id: str) -> None:
    async with context.db.read() as session:
        user = await get_user(session, caller_id)
    if not user.is_admin:
        raise ApiError(ErrorCode.FORBIDDEN, "administrators only")


async def list_reports(
    context: ServerContext,
    caller_id: str,
    status: ReportStatus | None,
    cursor: str | None,
    limit: int,
) -> Page[ReportRecord]:
    """Reports, newest first, optionally of one status (admins only: FORBIDDEN otherwise)."""
    await _require_admin(context, caller_id)
    Report = models.Report
    query = select(Report)
    if status is not None:
        query = query.where(Report.status == status)
    if cursor:
        created, last_id = decode_cursor(cursor, (str, str))
        created_at = cursor_time(created)
        query = query.where(
            or_(
                Report.created_at < created_at,
                and_(Report.created_at == created_at, Report.id < last_id),
            )
        )
    async with context.db.read() as session:
        rows = list(
            await session.scalars(
                query.order_by(Report.created_at.desc(), Report.id.desc()).limit(limit + 1)
            )
        )
    page, has_more = rows[:limit], len(rows) > limit
    last = page[-1] if page else None
    return Page[ReportRecord](
        items=[_record(row) for row in page],
        next_cursor=encode_cursor([last.created_at.isoformat(), last.id])
        if has_more and last
        else None,
        has_more=has_more,
    )


async def review_report(
    context: ServerContext, caller_id: str, report_id: str, review: ReportReview
) -> ReportRecord:
    """Set a report's status, recording the reviewer (admins only). NOT_FOUND for an unknown id."""
    await _require_admin(context, caller_id)
    async with context.db.write() as uow:
        row = await uow.session.get(models.Report, report_id)
        if row is None:
            raise not_found("report")
        row.status = review.status
        row.reviewed_by, row.reviewed_at = caller_id, utcnow()
        row.review_note = (sanitize_text(review.note) or None) if review.note else None
        await uow.session.flush()
        return _record(row)
