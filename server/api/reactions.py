"""Reactions on a message (document 001 §2.1)."""

from typing import Annotated

from fastapi import APIRouter, Path, Response, status

from protocol.models import ReactionSummary
from protocol.rest import ReactionRequest
from server.api.deps import CallerId, Context
from server.api.params import PathId
from server.services import reactions

router = APIRouter(prefix="/messages/{message_id}/reactions", tags=["reactions"])

Emoji = Annotated[str, Path(min_length=1, max_length=16)]


@router.post("")
async def add_reaction(
    message_id: PathId, body: ReactionRequest, context: Context, caller_id: CallerId
) -> list[ReactionSummary]:
    """React (idempotent: 200 every time); returns the message's reaction summary."""
    return await reactions.add_reaction(context, caller_id, message_id, body.emoji)


@router.delete("/{emoji}", status_code=status.HTTP_204_NO_CONTENT)
async def remove_reaction(
    message_id: PathId, emoji: Emoji, context: Context, caller_id: CallerId
) -> Response:
    """Take back my reaction (204, also when there was none)."""
    await reactions.remove_reaction(context, caller_id, message_id, emoji)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("")
async def list_reactions(
    message_id: PathId, context: Context, caller_id: CallerId
) -> list[ReactionSummary]:
    """``[{emoji, count, reacted_by_me, user_ids}]`` in the order each emoji was first used."""
    return await reactions.reactions_of(context, caller_id, message_id)
