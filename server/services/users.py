"""User records and people search."""

from sqlalchemy import and_, case, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from protocol import models as wire
from server.db import models
from server.errors import not_found
from server.services.cursors import decode_cursor, encode_cursor


def user_record(user: models.User) -> wire.User:
    """The wire form of a user (no password hash, nothing private)."""
    return wire.User(
        id=user.id,
        username=user.username,
        display_name=user.display_name,
        created_at=user.created_at,
    )


async def get_user(session: AsyncSession, user_id: str) -> models.User:
    """The user with ``user_id``; NOT_FOUND otherwise."""
    user = await session.get(models.User, user_id)
    if user is None:
        raise not_found("user")
    return user


def _escape_like(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


async def find_users(
    session: AsyncSession, caller_id: str, query: str, cursor: str | None, limit: int
) -> wire.Page[wire.User]:
    """People whose username or display name contains ``query`` (case-insensitive), caller
    excluded: username-prefix matches first, then by username; keyset-paginated."""
    wanted = query.strip().lower()
    term = _escape_like(wanted)
    if not term:
        return wire.Page[wire.User](items=[])
    contains = f"%{term}%"
    group = case((models.User.username.like(f"{term}%", escape="\\"), 0), else_=1)
    statement = select(models.User, group).where(
        models.User.id != caller_id,
        or_(
            models.User.username.like(contains, escape="\\"),
            models.User.display_name.ilike(contains, escape="\\"),
        ),
    )
    if cursor:
        last_group, last_name = decode_cursor(cursor, (int, str))
        statement = statement.where(
            or_(group > last_group, and_(group == last_group, models.User.username > last_name))
        )
    rows = (
        await session.execute(statement.order_by(group, models.User.username).limit(limit + 1))
    ).all()
    page, has_more = rows[:limit], len(rows) > limit
    return wire.Page[wire.User](
        items=[user_record(user) for user, _group in page],
        next_cursor=encode_cursor([page[-1][1], page[-1][0].username]) if has_more else None,
        has_more=has_more,
    )
