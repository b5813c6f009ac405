"""``/search/messages``: full-text search in my conversations."""

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query

from protocol import limits
from protocol.models import MessageType, Page, SearchHit
from server.api.deps import CallerId, Context
from server.api.params import Cursor, Limit
from server.services.search import SearchFilters, search_messages
from server.services.times import as_utc

router = APIRouter(prefix="/search", tags=["search"])

OptionalId = Annotated[str | None, Query(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]


@router.get("/messages")
async def search(
    context: Context,
    caller_id: CallerId,
    q: Annotated[str, Query(min_length=1, max_length=256, description="words to find")],
    conversation_id: OptionalId = None,
    sender_id: OptionalId = None,
    type: Annotated[MessageType | None, Query(description="message type")] = None,
    after: datetime | None = None,
    before: datetime | None = None,
    cursor: Cursor = None,
    limit: Limit = limits.DEFAULT_PAGE_SIZE,
) -> Page[SearchHit]:
    """Messages containing every word of ``q`` (as prefixes), best first, with ``[[ ]]``
    highlights in ``snippet`` and ``match_offsets`` into the text."""
    filters = SearchFilters(
        conversation_id=conversation_id,
        sender_id=sender_id,
        message_type=type,
        after=as_utc(after),
        before=as_utc(before),
    )
    return await search_messages(context, caller_id, q, filters, cursor, limit)
