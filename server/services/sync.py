"""``GET /sync``: the event log replayed to one user, and its pruning.

A user sees an event when it belongs to one of their current conversations or is addressed to
them (``user_id``). Pruning deletes entries older than ``event_retention_seconds`` (never the
newest, so ids never restart) and leaves a marker recording the highest id it removed; a
``since`` below that marker answers 410 SYNC_EXPIRED.
"""

from datetime import timedelta

from sqlalchemy import delete, func, or_, select

from protocol.errors import ErrorCode
from protocol.models import SyncEvent, SyncPage
from server.context import ServerContext
from server.db import models
from server.db.types import utcnow
from server.errors import ApiError

Event = models.Event
Member = models.ConversationMember

PRUNED_MARKER = "log_pruned"
"""Type of the marker row pruning leaves (visible to nobody: no conversation, no user)."""


async def prune_event_log(context: ServerContext) -> int:
    """Delete events older than the retention period (keeping the newest entry) and record the
    highest deleted id; returns how many were deleted."""
    cutoff = utcnow() - timedelta(seconds=context.settings.event_retention_seconds)
    async with context.db.write() as uow:
        session = uow.session
        newest = await session.scalar(select(func.max(Event.id)))
        if newest is None:
            return 0
        expired = (Event.created_at < cutoff, Event.id < newest, Event.type != PRUNED_MARKER)
        through = await session.scalar(select(func.max(Event.id)).where(*expired))
        if through is None:
            return 0
        result = await session.execute(delete(Event).where(*expired))
        await session.execute(delete(Event).where(Event.type == PRUNED_MARKER))
        session.add(Event(type=PRUNED_MARKER, data={"through": through}, created_at=utcnow()))
        return int(getattr(result, "rowcount", 0))


async def _needs_pruning(context: ServerContext) -> bool:
    cutoff = utcnow() - timedelta(seconds=context.settings.event_retention_seconds)
    async with context.db.read() as session:
        oldest = await session.scalar(
            select(Event.id)
            .where(Event.created_at < cutoff, Event.type != PRUNED_MARKER)
            .order_by(Event.created_at)
            .limit(1)
        )
        newest = await session.scalar(select(func.max(Event.id)))
    return oldest is not None and oldest != newest


async def _horizon(context: ServerContext) -> int:
    """The highest event id pruning removed (0 when nothing was ever pruned)."""
    async with context.db.read() as session:
        data = await session.scalar(
            select(Event.data).where(Event.type == PRUNED_MARKER).order_by(Event.id.desc()).limit(1)
        )
    through = data.get("through") if isinstance(data, dict) else None
    return through if isinstance(through, int) else 0


async def sync_events(
    context: ServerContext, caller_id: str, since: int | None, limit: int
) -> SyncPage:
    """Events after ``since`` the caller may see, oldest first, at most ``limit``; with no
    ``since`` no events and ``next`` = the current head (where a full resync starts from).

    Prunes the log first when it holds expired entries. Refusal: SYNC_EXPIRED (410) when
    entries after ``since`` were pruned."""
    if await _needs_pruning(context):
        await prune_event_log(context)
    if since is None:
        async with context.db.read() as session:
            head = await session.scalar(select(func.max(Event.id)))
        return SyncPage(events=[], next=head or 0, has_more=False)
    if since < await _horizon(context):
        raise ApiError(ErrorCode.SYNC_EXPIRED, "that point is no longer kept; resync in full")
    mine = select(Member.conversation_id).where(Member.user_id == caller_id)
    async with context.db.read() as session:
        rows = list(
            await session.scalars(
                select(Event)
                .where(
                    Event.id > since,
                    or_(Event.conversation_id.in_(mine), Event.user_id == caller_id),
                )
                .order_by(Event.id)
                .limit(limit + 1)
            )
        )
    page, has_more = rows[:limit], len(rows) > limit
    return SyncPage(
        events=[
            SyncEvent(
                id=row.id,
                type=row.type,
                conversation_id=row.conversation_id,
                data={**row.data, "eventId": row.id},
                created_at=row.created_at,
            )
            for row in page
        ],
        next=page[-1].id if page else since,
        has_more=has_more,
    )
