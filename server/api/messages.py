"""Messages: history, send (idempotent on client_id), edit with history, delete, read marks,
forward."""

from fastapi import APIRouter, Response, status

from protocol import limits
from protocol.errors import ErrorCode
from protocol.models import Message, MessageEdit, MessageReceipt, Page
from protocol.rest import (
    EditMessageRequest,
    ForwardRequest,
    ForwardResponse,
    MarkReadRequest,
    SendMessageRequest,
)
from server.api.deps import CallerId, Context
from server.api.params import Cursor, Limit, PathId
from server.errors import ApiError
from server.services import forward, messages, receipts

router = APIRouter(tags=["messages"])


def _seq_cursor(cursor: str | None) -> int | None:
    if cursor is None or cursor == "":
        return None
    if not cursor.isdigit() or len(cursor) > 12:
        raise ApiError(ErrorCode.VALIDATION_ERROR, "invalid cursor")
    return int(cursor)


@router.get("/conversations/{conversation_id}/messages")
async def list_messages(
    conversation_id: PathId,
    context: Context,
    caller_id: CallerId,
    cursor: Cursor = None,
    limit: Limit = limits.DEFAULT_PAGE_SIZE,
) -> Page[Message]:
    """History, newest first, each message with its reactions as I see them; pass
    ``next_cursor`` back as ``cursor`` for older messages."""
    before = _seq_cursor(cursor)
    return await messages.list_messages(context, caller_id, conversation_id, before, limit)


@router.post("/messages", status_code=status.HTTP_201_CREATED)
async def send_message(
    body: SendMessageRequest, context: Context, caller_id: CallerId, response: Response
) -> Message:
    """Send a message (201). The same ``client_id`` again returns the stored message (200)."""
    message, created = await messages.send_message(context, caller_id, body)
    if not created:
        response.status_code = status.HTTP_200_OK
    return message


@router.post("/messages/forward", status_code=status.HTTP_201_CREATED)
async def forward_messages(
    body: ForwardRequest, context: Context, caller_id: CallerId
) -> ForwardResponse:
    """Forward messages to up to 5 of my conversations: one new message per (message, target)."""
    return ForwardResponse(messages=await forward.forward_messages(context, caller_id, body))


@router.get("/messages/{message_id}")
async def get_message(message_id: PathId, context: Context, caller_id: CallerId) -> Message:
    """One message, with its reactions as I see them (404 when it does not exist or is not in
    one of my conversations)."""
    return await messages.get_message(context, caller_id, message_id)


@router.patch("/messages/{message_id}")
async def edit_message(
    message_id: PathId, body: EditMessageRequest, context: Context, caller_id: CallerId
) -> Message:
    """Edit my own message; the previous text goes to its edit history."""
    return await messages.edit_message(context, caller_id, message_id, body.text)


@router.get("/messages/{message_id}/edits")
async def message_edits(
    message_id: PathId, context: Context, caller_id: CallerId
) -> list[MessageEdit]:
    """Earlier texts of a message, oldest first."""
    return await messages.message_edits(context, caller_id, message_id)


@router.get("/messages/{message_id}/receipts")
async def message_receipts(
    message_id: PathId, context: Context, caller_id: CallerId
) -> list[MessageReceipt]:
    """Whether and when each other member got and read a message (404 when it does not exist
    or is not in one of my conversations)."""
    return await receipts.message_receipts(context, caller_id, message_id)


@router.delete(
    "/conversations/{conversation_id}/messages/{message_id}",
    status_code=status.HTTP_204_NO_CONTENT,
)
async def delete_message(
    conversation_id: PathId, message_id: PathId, context: Context, caller_id: CallerId
) -> Response:
    """Soft-delete a message (mine; in groups owners and admins may delete any)."""
    await messages.delete_message(context, caller_id, message_id, conversation_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/conversations/{conversation_id}/read", status_code=status.HTTP_204_NO_CONTENT)
async def mark_read(
    conversation_id: PathId, body: MarkReadRequest, context: Context, caller_id: CallerId
) -> Response:
    """Everything up to and including ``message_id`` is read (never moves backwards)."""
    await receipts.mark_read(context, caller_id, conversation_id, body.message_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
