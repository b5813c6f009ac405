"""User records and people search."""

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from protocol import models as wire
from server.db import models
from server.errors import not_found


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
    session: AsyncSession, caller_id: str, query: str, limit: int
) -> list[wire.User]:
    """People whose username or display name starts with (or contains) ``query``, caller excluded;
    prefix matches first."""
    term = _escape_like(query.strip().lower())
    if not term:
        return []
    contains = f"%{term}%"
    rows = await session.scalars(
        select(models.User)
        .where(
            models.User.id != caller_id,
            or_(
                models.User.username.like(contains, escape="\\"),
                models.User.display_name.ilike(contains, escape="\\"),
            ),
        )
        .order_by(models.User.username)
        .limit(limit * 3)
    )
    users = list(rows)
    users.sort(key=lambda u: (not u.username.startswith(query.strip().lower()), u.username))
    return [user_record(u) for u in users[:limit]]
