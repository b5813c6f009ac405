"""``/reports`` (anyone) and ``/admin/reports`` (administrators)."""

from fastapi import APIRouter, status

from protocol import limits
from protocol.models import Page
from protocol.rest import ReportRequest
from server.api.deps import CallerId, Context
from server.api.params import Cursor, Limit, PathId
from server.services import reports
from server.services.reports import ReportRecord, ReportReview, ReportStatus

router = APIRouter(tags=["reports"])


@router.post("/reports", status_code=status.HTTP_201_CREATED)
async def file_report(body: ReportRequest, context: Context, caller_id: CallerId) -> ReportRecord:
    """Report a message and/or a user."""
    return await reports.file_report(context, caller_id, body)


@router.get("/admin/reports")
async def list_reports(
    context: Context,
    caller_id: CallerId,
    status: ReportStatus | None = None,
    cursor: Cursor = None,
    limit: Limit = limits.DEFAULT_PAGE_SIZE,
) -> Page[ReportRecord]:
    """Reports, newest first, optionally of one status (administrators only)."""
    return await reports.list_reports(context, caller_id, status, cursor, limit)


@router.patch("/admin/reports/{report_id}")
async def review_report(
    report_id: PathId, body: ReportReview, context: Context, caller_id: CallerId
) -> ReportRecord:
    """Set a report's status (administrators only)."""
    return await reports.review_report(context, caller_id, report_id, body)
