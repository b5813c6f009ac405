"""A group's audit log: who did what to whom, and when (member actions, role changes, mutes,
bans, renames, locks, pins and admins' deletions), readable by its owner and admins."""

from typing import Any

from sqlalchemy import select

from protocol import models as wire
from server.context import ServerContext
from server.db import models
from server.db.types import utcnow
from server.services import access
from server.services.cursors import after_time_key, time_key_cursor
from server.services.unit_of_work import UnitOfWork

Entry = models.RoomAuditLog


def record(
    uow: UnitOfWork,
    conversation_id: str,
    actor_id: str,
    action: str,
    target_id: str | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    """Add an entry to the group's log, in the caller's transaction."""
    uow.session.add(
        Entry(
            conversation_id=conversation_id,
            actor_id=actor_id,
            target_id=target_id,
            action=action,
            metadata_=details,
            created_at=utcnow(),
        )
    )


async def list_entries(
    context: ServerContext, caller_id: str, conversation_id: str, cursor: str | None, limit: int
) -> wire.Page[wire.AuditEntry]:
    """The log, newest first, keyset-paginated by time and id (owners and admins).
    Refusals: NOT_A_MEMBER / NOT_FOUND, NOT_A_GROUP, FORBIDDEN, VALIDATION_ERROR (cursor)."""
    query = select(Entry).where(Entry.conversation_id == conversation_id)
    if cursor:
        query = query.where(after_time_key(cursor, Entry.created_at, Entry.id, newest_first=True))
    async with context.db.read() as session:
        await access.require_group_manager(session, caller_id, conversation_id)
        rows = list(
            await session.scalars(
                query.order_by(Entry.created_at.desc(), Entry.id).limit(limit + 1)
            )
        )
    page, has_more = rows[:limit], len(rows) > limit
    return wire.Page[wire.AuditEntry](
        items=[
            wire.AuditEntry(
                id=row.id,
                actor_id=row.actor_id,
                target_id=row.target_id,
                action=row.action,
                details=row.metadata_ or {},
                created_at=row.created_at,
            )
            for row in page
        ],
        next_cursor=time_key_cursor(page[-1].created_at, page[-1].id) if has_more else None,
        has_more=has_more,
    )
