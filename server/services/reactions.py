"""Reactions (document 001 §2.1): idempotent add, no-op remove, grouped summaries."""

from collections.abc import Sequence

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from protocol.errors import ErrorCode
from protocol.events import ServerEvent
from protocol.models import ReactionSummary
from protocol.reactions import is_allowed_reaction
from protocol.socket import ReactionEvent
from server.context import ServerContext
from server.db import models
from server.db.models import new_id
from server.db.types import utcnow
from server.errors import ApiError
from server.services import access
from server.services.serializers import camel_reactions, summarize_reactions
from server.services.unit_of_work import UnitOfWork, conversation_room
from server.services.upsert import insert_ignore

Reaction = models.MessageReaction


async def summaries_for(
    session: AsyncSession, message_ids: Sequence[str], viewer_id: str | None
) -> dict[str, list[ReactionSummary]]:
    """The reaction summary of each message (one query), from ``viewer_id``'s point of view;
    messages without reactions are absent."""
    if not message_ids:
        return {}
    rows = await session.execute(
        select(Reaction.message_id, Reaction.emoji, Reaction.user_id)
        .where(Reaction.message_id.in_(message_ids))
        .order_by(Reaction.created_at, Reaction.id)
    )
    pairs: dict[str, list[tuple[str, str]]] = {}
    for message_id, emoji, user_id in rows:
        pairs.setdefault(message_id, []).append((emoji, user_id))
    return {mid: summarize_reactions(items, viewer_id) for mid, items in pairs.items()}


def _require_allowed(emoji: str) -> None:
    if not is_allowed_reaction(emoji):
        raise ApiError(ErrorCode.VALIDATION_ERROR, "emoji is not an allowed reaction")


async def _require_may_react(
    session: AsyncSession, caller_id: str, message_id: str
) -> models.Message:
    """The message, when the caller may react to it. In a direct chat a block between the two
    members refuses; in a group a block between the caller and the message's sender refuses."""
    row, conversation, _member = await access.require_message(session, caller_id, message_id)
    if row.deleted_at is not None:
        raise access.message_gone()
    await access.require_direct_unblocked(session, caller_id, conversation)
    if not access.is_direct(conversation) and row.sender_id != caller_id:
        await access.require_not_blocked(session, caller_id, [row.sender_id])
    return row


async def _announce(
    uow: UnitOfWork, event: ServerEvent, row: models.Message, emoji: str, caller_id: str
) -> list[ReactionSummary]:
    summary = (await summaries_for(uow.session, [row.id], None)).get(row.id, [])
    await uow.log(
        event,
        ReactionEvent(
            message_id=row.id,
            conversation_id=row.conversation_id,
            emoji=emoji,
            user_id=caller_id,
            reactions=camel_reactions(summary),
        ),
        rooms=[conversation_room(row.conversation_id)],
        conversation_id=row.conversation_id,
    )
    return summary


def _mine(summary: Sequence[ReactionSummary], caller_id: str) -> list[ReactionSummary]:
    return [
        item.model_copy(update={"reacted_by_me": caller_id in item.user_ids}) for item in summary
    ]


async def add_reaction(
    context: ServerContext, caller_id: str, message_id: str, emoji: str
) -> list[ReactionSummary]:
    """React with ``emoji`` (idempotent: reacting twice changes nothing and logs nothing) and
    return the message's summary. Refusals: VALIDATION_ERROR (emoji not whitelisted), NOT_FOUND,
    CONFLICT (deleted message), BLOCKED."""
    _require_allowed(emoji)
    async with context.db.write() as uow:
        row = await _require_may_react(uow.session, caller_id, message_id)
        values = {
            "id": new_id(),
            "message_id": row.id,
            "user_id": caller_id,
            "emoji": emoji,
            "created_at": utcnow(),
        }
        if await insert_ignore(uow.session, Reaction, values):
            summary = await _announce(uow, ServerEvent.REACTION_ADDED, row, emoji, caller_id)
        else:
            summary = (await summaries_for(uow.session, [row.id], None)).get(row.id, [])
        return _mine(summary, caller_id)


async def remove_reaction(
    context: ServerContext, caller_id: str, message_id: str, emoji: str
) -> list[ReactionSummary]:
    """Take back the caller's ``emoji`` reaction (a no-op when there is none) and return the
    message's summary. Refusals: VALIDATION_ERROR, NOT_FOUND."""
    _require_allowed(emoji)
    async with context.db.write() as uow:
        row, _conversation, _member = await access.require_message(
            uow.session, caller_id, message_id
        )
        result = await uow.session.execute(
            delete(Reaction).where(
                Reaction.message_id == row.id,
                Reaction.user_id == caller_id,
                Reaction.emoji == emoji,
            )
        )
        if getattr(result, "rowcount", 0):
            summary = await _announce(uow, ServerEvent.REACTION_REMOVED, row, emoji, caller_id)
        else:
            summary = (await summaries_for(uow.session, [row.id], None)).get(row.id, [])
        return _mine(summary, caller_id)


async def drop_reactions(uow: UnitOfWork, row: models.Message) -> None:
    """Delete every reaction on a message being deleted, logging ``reaction_removed`` for each
    (oldest first; each carries the summary left after it, the last an empty one)."""
    reactions = list(
        await uow.session.scalars(
            select(Reaction)
            .where(Reaction.message_id == row.id)
            .order_by(Reaction.created_at, Reaction.id)
        )
    )
    if not reactions:
        return
    await uow.session.execute(delete(Reaction).where(Reaction.message_id == row.id))
    for index, reaction in enumerate(reactions):
        left = [(later.emoji, later.user_id) for later in reactions[index + 1 :]]
        await uow.log(
            ServerEvent.REACTION_REMOVED,
            ReactionEvent(
                message_id=row.id,
                conversation_id=row.conversation_id,
                emoji=reaction.emoji,
                user_id=reaction.user_id,
                reactions=camel_reactions(summarize_reactions(left, None)),
            ),
            rooms=[conversation_room(row.conversation_id)],
            conversation_id=row.conversation_id,
        )


async def reactions_of(
    context: ServerContext, caller_id: str, message_id: str
) -> list[ReactionSummary]:
    """The summary of a message the caller can see: ``[{emoji, count, reacted_by_me}]``."""
    async with context.db.read() as session:
        row, _conversation, _member = await access.require_message(session, caller_id, message_id)
        return (await summaries_for(session, [row.id], caller_id)).get(row.id, [])
