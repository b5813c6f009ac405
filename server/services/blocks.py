"""Blocking (document 001 §2.3): a block stops sends, reactions and forwards between the two
users in both directions (see ``access``); only the blocker sees the block."""

from sqlalchemy import delete, select

from protocol.errors import ErrorCode
from protocol.events import ServerEvent
from protocol.models import Page
from protocol.rest import BlockedUser
from protocol.socket import BlockEvent
from server.context import ServerContext
from server.db import models
from server.db.models import new_id
from server.db.types import utcnow
from server.errors import ApiError
from server.services.cursors import after_time_key, time_key_cursor
from server.services.unit_of_work import UnitOfWork, user_room
from server.services.upsert import insert_ignore
from server.services.users import get_user, user_record

Block = models.UserBlock


async def _announce(uow: UnitOfWork, event: ServerEvent, caller_id: str, user_id: str) -> None:
    await uow.log(
        event, BlockEvent(user_id=user_id), rooms=[user_room(caller_id)], user_id=caller_id
    )


async def block_user(context: ServerContext, caller_id: str, user_id: str) -> BlockedUser:
    """Block ``user_id`` (idempotent). Refusals: VALIDATION_ERROR (yourself), NOT_FOUND."""
    if user_id == caller_id:
        raise ApiError(ErrorCode.VALIDATION_ERROR, "you cannot block yourself")
    async with context.db.write() as uow:
        user = await get_user(uow.session, user_id)
        values = {"id": new_id(), "blocker_id": caller_id, "blocked_id": user_id}
        if await insert_ignore(uow.session, Block, values | {"created_at": utcnow()}):
            await _announce(uow, ServerEvent.USER_BLOCKED, caller_id, user_id)
        blocked_at = await uow.session.scalar(
            select(Block.created_at).where(
                Block.blocker_id == caller_id, Block.blocked_id == user_id
            )
        )
        assert blocked_at is not None
        return BlockedUser(user=user_record(user), blocked_at=blocked_at)


async def unblock_user(context: ServerContext, caller_id: str, user_id: str) -> None:
    """Lift the caller's block of ``user_id`` (a no-op when there is none)."""
    async with context.db.write() as uow:
        result = await uow.session.execute(
            delete(Block).where(Block.blocker_id == caller_id, Block.blocked_id == user_id)
        )
        if getattr(result, "rowcount", 0):
            await _announce(uow, ServerEvent.USER_UNBLOCKED, caller_id, user_id)


async def blocked_users(
    context: ServerContext, caller_id: str, cursor: str | None, limit: int
) -> Page[BlockedUser]:
    """Everyone the caller blocked, most recent first; keyset-paginated."""
    statement = (
        select(models.User, Block.created_at, Block.id)
        .join(Block, Block.blocked_id == models.User.id)
        .where(Block.blocker_id == caller_id)
    )
    if cursor:
        statement = statement.where(
            after_time_key(cursor, Block.created_at, Block.id, newest_first=True)
        )
    async with context.db.read() as session:
        rows = (
            await session.execute(
                statement.order_by(Block.created_at.desc(), Block.id).limit(limit + 1)
            )
        ).all()
    page, has_more = rows[:limit], len(rows) > limit
    return Page[BlockedUser](
        items=[BlockedUser(user=user_record(user), blocked_at=at) for user, at, _id in page],
        next_cursor=time_key_cursor(page[-1][1], page[-1][2]) if has_more else None,
        has_more=has_more,
    )
