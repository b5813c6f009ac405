"""``/sync``: replay of the event log after a disconnect."""

from typing import Annotated

from fastapi import APIRouter, Query

from protocol import limits
from protocol.models import SyncPage
from server.api.deps import CallerId, Context
from server.services.sync import sync_events

router = APIRouter(tags=["sync"])


@router.get("/sync")
async def sync(
    context: Context,
    caller_id: CallerId,
    since: Annotated[int | None, Query(ge=0, le=2**62, description="last event id applied")] = None,
    limit: Annotated[
        int, Query(ge=1, le=limits.MAX_SYNC_PAGE_SIZE)
    ] = limits.DEFAULT_SYNC_PAGE_SIZE,
) -> SyncPage:
    """Events after ``since`` that I may see, oldest first; then ask again from ``next`` while
    ``has_more``. Without ``since``: no events, ``next`` is the current head. 410 SYNC_EXPIRED
    when ``since`` is older than the log keeps (do a full resync)."""
    return await sync_events(context, caller_id, since, limit)
