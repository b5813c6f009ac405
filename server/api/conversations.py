"""``/conversations``: list (pinned first, or the archive), create, one, members."""

from typing import Annotated

from fastapi import APIRouter, Body, Response, status

from protocol import limits
from protocol.models import Conversation, Member, Page
from protocol.rest import CreateConversationRequest, CreateDirectRequest
from server.api.deps import CallerId, Context
from server.api.params import Cursor, Limit, PathId
from server.services import conversations

router = APIRouter(prefix="/conversations", tags=["conversations"])


@router.get("")
async def list_conversations(
    context: Context,
    caller_id: CallerId,
    archived: bool = False,
    cursor: Cursor = None,
    limit: Limit = limits.DEFAULT_PAGE_SIZE,
) -> Page[Conversation]:
    """My conversations with last message, unread count and my settings; pinned first by
    ``pin_rank``, then newest activity. ``archived=true`` lists the archive instead."""
    return await conversations.list_conversations(context, caller_id, archived, cursor, limit)


@router.post("", status_code=status.HTTP_201_CREATED)
async def create_conversation(
    body: Annotated[CreateConversationRequest, Body()],
    context: Context,
    caller_id: CallerId,
    response: Response,
) -> Conversation:
    """Start a direct chat (201; the existing one with 200 when there is one) or create a
    private group owned by the caller (201)."""
    if isinstance(body, CreateDirectRequest):
        conversation, created = await conversations.create_direct(context, caller_id, body.user_id)
        if not created:
            response.status_code = status.HTTP_200_OK
        return conversation
    return await conversations.create_group(context, caller_id, body)


@router.get("/{conversation_id}")
async def get_conversation(
    conversation_id: PathId, context: Context, caller_id: CallerId
) -> Conversation:
    """One of my conversations (403 NOT_A_MEMBER when not mine, 404 when it does not exist)."""
    return await conversations.get_conversation(context, caller_id, conversation_id)


@router.get("/{conversation_id}/members")
async def list_members(
    conversation_id: PathId,
    context: Context,
    caller_id: CallerId,
    cursor: Cursor = None,
    limit: Limit = limits.DEFAULT_PAGE_SIZE,
) -> Page[Member]:
    """The members of one of my conversations in joining order, with roles, read/delivery
    marks and admin mutes; cursor-paginated."""
    return await conversations.list_members(context, caller_id, conversation_id, cursor, limit)
