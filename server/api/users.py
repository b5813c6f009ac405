"""``/users``: the caller, and finding people."""

from typing import Annotated

from fastapi import APIRouter, Query

from protocol import limits
from protocol.models import Page, User
from server.api.deps import CallerId, Context
from server.api.params import Cursor, Limit, PathId
from server.services.users import find_users, get_user, user_record

router = APIRouter(prefix="/users", tags=["users"])


@router.get("/me")
async def me(context: Context, caller_id: CallerId) -> User:
    """The signed-in user."""
    async with context.db.read() as session:
        return user_record(await get_user(session, caller_id))


@router.get("")
async def search_users(
    context: Context,
    caller_id: CallerId,
    query: Annotated[str, Query(min_length=1, max_length=64)],
    cursor: Cursor = None,
    limit: Limit = limits.DEFAULT_PAGE_SIZE,
) -> Page[User]:
    """People whose username or display name contains ``query``: username-prefix matches
    first, then by username; cursor-paginated."""
    async with context.db.read() as session:
        return await find_users(session, caller_id, query, cursor, limit)


@router.get("/{user_id}")
async def get_user_by_id(user_id: PathId, context: Context, caller_id: CallerId) -> User:
    """Someone's public profile (404 for an unknown id)."""
    async with context.db.read() as session:
        return user_record(await get_user(session, user_id))
