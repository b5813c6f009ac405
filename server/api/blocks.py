"""Blocking people (document 001 §2.3)."""

from fastapi import APIRouter, Response, status

from protocol import limits
from protocol.models import Page
from protocol.rest import BlockedUser
from server.api.deps import CallerId, Context
from server.api.params import Cursor, Limit, PathId
from server.services import blocks

router = APIRouter(prefix="/users", tags=["blocks"])


@router.get("/blocked")
async def blocked_users(
    context: Context,
    caller_id: CallerId,
    cursor: Cursor = None,
    limit: Limit = limits.DEFAULT_PAGE_SIZE,
) -> Page[BlockedUser]:
    """Everyone I blocked, most recent first; cursor-paginated."""
    return await blocks.blocked_users(context, caller_id, cursor, limit)


@router.post("/{user_id}/block")
async def block_user(user_id: PathId, context: Context, caller_id: CallerId) -> BlockedUser:
    """Block someone (200, also when already blocked): neither of us can then send, react or
    forward to the other."""
    return await blocks.block_user(context, caller_id, user_id)


@router.delete("/{user_id}/block", status_code=status.HTTP_204_NO_CONTENT)
async def unblock_user(user_id: PathId, context: Context, caller_id: CallerId) -> Response:
    """Unblock (204, also when there was no block)."""
    await blocks.unblock_user(context, caller_id, user_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
