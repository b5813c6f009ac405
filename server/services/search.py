"""Full-text message search in the caller's conversations: SQLite FTS5 (``MATCH`` with prefix
terms, bm25 ranking) or PostgreSQL (``to_tsquery('simple', 'term:*')``, ``ts_rank``).

The user's query is reduced to plain words first (``highlight.query_terms``), so full-text
syntax in it can never cause an error. Deleted messages are not indexed, so never found.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, column, func, literal_column, or_, select, table, text
from sqlalchemy.ext.asyncio import AsyncSession

from protocol.models import ConversationType, MessageType, Page, SearchHit
from server.context import ServerContext
from server.db import models
from server.services.cursors import decode_cursor, encode_cursor
from server.services.highlight import match_offsets, query_terms, snippet
from server.services.reactions import summaries_for
from server.services.serializers import message_record

Msg = models.Message
Conv = models.Conversation
Member = models.ConversationMember


@dataclass(frozen=True)
class SearchFilters:
    """Optional narrowing of a search."""

    conversation_id: str | None = None
    sender_id: str | None = None
    message_type: MessageType | None = None
    after: datetime | None = None
    before: datetime | None = None


def _ranked_query(session: AsyncSession, caller_id: str, terms: list[str]) -> tuple[Any, Any]:
    """The base query of hits (message, conversation title, rank; lower rank is better)."""
    base = select(Msg, Conv.title, Conv.room_type)
    if session.get_bind().dialect.name == "postgresql":
        tsquery = func.to_tsquery("simple", " & ".join(f"{term}:*" for term in terms))
        vector: Any = literal_column("messages.search_vector")
        rank: Any = -func.ts_rank(vector, tsquery)
        query = base.add_columns(rank.label("rank")).where(vector.op("@@")(tsquery))
    else:
        rank = func.bm25(literal_column("messages_fts"))
        fts = table("messages_fts", column("rowid"))
        match = " AND ".join(f'"{term}"*' for term in terms)
        query = (
            base.add_columns(rank.label("rank"))
            .join_from(Msg, fts, fts.c.rowid == literal_column("messages.rowid"))
            .where(text("messages_fts MATCH :fts_query").bindparams(fts_query=match))
        )
    query = (
        query.join(Conv, Conv.id == Msg.conversation_id)
        .join(
            Member, and_(Member.conversation_id == Msg.conversation_id, Member.user_id == caller_id)
        )
        .where(Msg.deleted_at.is_(None), Msg.text.is_not(None))
    )
    return query, rank


def _filtered(query: Any, filters: SearchFilters) -> Any:
    if filters.conversation_id:
        query = query.where(Msg.conversation_id == filters.conversation_id)
    if filters.sender_id:
        query = query.where(Msg.sender_id == filters.sender_id)
    if filters.message_type:
        query = query.where(Msg.message_type == filters.message_type.value)
    if filters.after:
        query = query.where(Msg.created_at > filters.after)
    if filters.before:
        query = query.where(Msg.created_at < filters.before)
    return query


async def _peer_names(
    session: AsyncSession, caller_id: str, conversation_ids: list[str]
) -> dict[str, str]:
    if not conversation_ids:
        return {}
    rows = await session.execute(
        select(Member.conversation_id, models.User.display_name)
        .join(models.User, models.User.id == Member.user_id)
        .where(Member.conversation_id.in_(conversation_ids), Member.user_id != caller_id)
    )
    return {conversation_id: name for conversation_id, name in rows}


async def search_messages(
    context: ServerContext,
    caller_id: str,
    query: str,
    filters: SearchFilters,
    cursor: str | None,
    limit: int,
) -> Page[SearchHit]:
    """Messages of the caller's conversations containing every word of ``query`` (each as a
    prefix), best match first; each hit with match offsets and a ``[[highlighted]]`` snippet.
    A query without any word finds nothing."""
    terms = query_terms(query)
    if not terms:
        return Page[SearchHit](items=[])
    async with context.db.read() as session:
        statement, rank = _ranked_query(session, caller_id, terms)
        statement = _filtered(statement, filters)
        if cursor:
            last_rank, last_id = decode_cursor(cursor, (float, str))
            statement = statement.where(
                or_(rank > last_rank, and_(rank == last_rank, Msg.id > last_id))
            )
        rows = (await session.execute(statement.order_by(rank, Msg.id).limit(limit + 1))).all()
        page, has_more = rows[:limit], len(rows) > limit
        direct = [row[0].conversation_id for row in page if row[2] == ConversationType.DIRECT.value]
        names = await _peer_names(session, caller_id, direct)
        reactions = await summaries_for(session, [row[0].id for row in page], caller_id)
    hits = []
    for message, title, _room_type, rank_value in page:
        offsets = match_offsets(message.text or "", terms)
        hits.append(
            SearchHit(
                message=message_record(message, reactions.get(message.id, [])),
                conversation_title=names.get(message.conversation_id, title),
                snippet=snippet(message.text or "", offsets),
                match_offsets=offsets,
                rank=float(-rank_value),
            )
        )
    last = page[-1] if page else None
    return Page[SearchHit](
        items=hits,
        next_cursor=encode_cursor([float(last[3]), last[0].id]) if has_more and last else None,
        has_more=has_more,
    )
