"""Pinned messages of a conversation."""

from fastapi import APIRouter, Response, status
from pydantic import BaseModel

from server.api.deps import CallerId, Context
from server.api.params import PathId
from server.services import pins

router = APIRouter(prefix="/conversations/{conversation_id}/messages", tags=["pins"])


class PinnedMessages(BaseModel):
    """The conversation's pinned message ids, oldest pin first."""

    pinned_message_ids: list[str]


@router.post("/{message_id}/pin")
async def pin_message(
    conversation_id: PathId, message_id: PathId, context: Context, caller_id: CallerId
) -> PinnedMessages:
    """Pin a message (200, also when already pinned); groups: owners and admins only."""
    ids = await pins.set_pinned(context, caller_id, conversation_id, message_id, pinned=True)
    return PinnedMessages(pinned_message_ids=ids)


@router.delete("/{message_id}/pin", status_code=status.HTTP_204_NO_CONTENT)
async def unpin_message(
    conversation_id: PathId, message_id: PathId, context: Context, caller_id: CallerId
) -> Response:
    """Unpin a message (204, also when it was not pinned)."""
    await pins.set_pinned(context, caller_id, conversation_id, message_id, pinned=False)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
