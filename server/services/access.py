"""Who may do what: membership, roles and blocks (checked in both directions)."""

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped
from sqlalchemy.sql import Select

from protocol.errors import ErrorCode
from protocol.models import ConversationType, MemberRole
from server.db import models
from server.errors import ApiError, not_found

Member = models.ConversationMember
Block = models.UserBlock

MANAGER_ROLES = frozenset({MemberRole.OWNER.value, MemberRole.ADMIN.value})
"""Roles that may moderate a group (delete others' messages, pin)."""


async def conversation_ids_of(session: AsyncSession, user_id: str) -> list[str]:
    """The ids of every conversation ``user_id`` belongs to (the socket joins their rooms)."""
    rows = await session.scalars(select(Member.conversation_id).where(Member.user_id == user_id))
    return list(rows)


def send_refusal(
    role: str | None, muted_until: datetime | None, locked: bool, now: datetime
) -> ApiError | None:
    """Why a member with ``role`` may not post in a conversation right now, or None when they
    may: NOT_A_MEMBER (no role), MUTED with ``until`` (an admin muted them until a time after
    ``now``), LOCKED (the owner locked the group; owners and admins still post).

    ``muted_until`` is ``conversation_members.muted_until``, ``locked`` is
    ``conversations.is_locked``. Direct chats are never muted or locked."""
    if role is None:
        return not_a_member()
    if muted_until is not None and muted_until > now:
        return ApiError(ErrorCode.MUTED, "an admin muted you in this group", until=muted_until)
    if locked and role not in MANAGER_ROLES:
        return ApiError(ErrorCode.LOCKED, "only owners and admins can post in this locked group")
    return None


def not_a_member() -> ApiError:
    """403 NOT_A_MEMBER."""
    return ApiError(ErrorCode.NOT_A_MEMBER, "you are not a member of this conversation")


def blocked() -> ApiError:
    """403 BLOCKED."""
    return ApiError(ErrorCode.BLOCKED, "one of you has blocked the other")


async def refuse_non_member(session: AsyncSession, conversation_id: str) -> ApiError:
    """The error for a caller who is not a member: 404 when the conversation does not exist,
    else 403 NOT_A_MEMBER."""
    found = await session.scalar(
        select(models.Conversation.id).where(models.Conversation.id == conversation_id)
    )
    return not_a_member() if found else not_found("conversation")


async def require_member(
    session: AsyncSession, user_id: str, conversation_id: str, *, for_update: bool = False
) -> Member:
    """The caller's membership row (locked until the transaction ends with ``for_update``, on
    PostgreSQL); NOT_A_MEMBER (403) or NOT_FOUND (404) otherwise."""
    query = select(Member).where(
        Member.conversation_id == conversation_id, Member.user_id == user_id
    )
    member = await session.scalar(query.with_for_update() if for_update else query)
    if member is None:
        raise await refuse_non_member(session, conversation_id)
    return member


async def require_conversation(
    session: AsyncSession, user_id: str, conversation_id: str
) -> tuple[models.Conversation, Member]:
    """The conversation and the caller's membership, in one query; 403/404 otherwise."""
    row = (
        await session.execute(
            select(models.Conversation, Member)
            .join(Member, Member.conversation_id == models.Conversation.id)
            .where(models.Conversation.id == conversation_id, Member.user_id == user_id)
        )
    ).first()
    if row is None:
        raise await refuse_non_member(session, conversation_id)
    return row[0], row[1]


def others_in(conversation_id: Mapped[str] | str, user_id: str | ColumnElement[str]) -> Select[Any]:
    """The ids of the members of a conversation other than ``user_id`` (a subquery)."""
    return select(Member.user_id).where(
        Member.conversation_id == conversation_id, Member.user_id != user_id
    )


def block_between(
    user_id: str | ColumnElement[str], others: Select[Any] | Sequence[str]
) -> ColumnElement[bool]:
    """SQL true when ``user_id`` blocked one of ``others`` or one of them blocked ``user_id``."""
    return exists().where(
        or_(
            and_(Block.blocker_id == user_id, Block.blocked_id.in_(others)),
            and_(Block.blocked_id == user_id, Block.blocker_id.in_(others)),
        )
    )


async def is_blocked(
    session: AsyncSession, user_id: str, others: Select[Any] | Sequence[str]
) -> bool:
    """True when ``user_id`` and any of ``others`` are blocked in either direction."""
    if isinstance(others, Sequence):
        if not others:
            return False
        others = list(others)
    return bool(await session.scalar(select(block_between(user_id, others))))


async def require_not_blocked(
    session: AsyncSession, user_id: str, others: Select[Any] | Sequence[str]
) -> None:
    """BLOCKED (403) when ``user_id`` and any of ``others`` are blocked in either direction."""
    if await is_blocked(session, user_id, others):
        raise blocked()


async def require_direct_unblocked(
    session: AsyncSession, user_id: str, conversation: models.Conversation
) -> None:
    """BLOCKED (403) when ``conversation`` is a direct chat whose two members are blocked either
    way (group conversations pass)."""
    if is_direct(conversation):
        await require_not_blocked(session, user_id, others_in(conversation.id, user_id))


def is_direct(conversation: models.Conversation) -> bool:
    """True for a 1-on-1 chat."""
    return conversation.room_type == ConversationType.DIRECT.value


def not_a_group() -> ApiError:
    """400 NOT_A_GROUP: direct chats have no members to manage."""
    return ApiError(ErrorCode.NOT_A_GROUP, "direct chats have no group administration")


async def require_group_manager(
    session: AsyncSession, user_id: str, conversation_id: str
) -> tuple[models.Conversation, Member]:
    """The group and the caller's membership when the caller is its owner or an admin (no row
    lock: for reads). NOT_A_MEMBER / NOT_FOUND, NOT_A_GROUP or FORBIDDEN otherwise."""
    conversation, member = await require_conversation(session, user_id, conversation_id)
    if is_direct(conversation):
        raise not_a_group()
    if member.role not in MANAGER_ROLES:
        raise ApiError(ErrorCode.FORBIDDEN, "only the group's owner and admins can do this")
    return conversation, member


def may_moderate(conversation: models.Conversation, member: Member) -> bool:
    """True when ``member`` may act on anyone's messages: group owners and admins."""
    return not is_direct(conversation) and member.role in MANAGER_ROLES


async def require_message(
    session: AsyncSession, user_id: str, message_id: str
) -> tuple[models.Message, models.Conversation, Member]:
    """A message the caller can see, its conversation and the caller's membership (one query).

    NOT_FOUND (404) when it does not exist or the caller is not a member (its existence is not
    revealed to outsiders)."""
    row = (
        await session.execute(
            select(models.Message, models.Conversation, Member)
            .join(models.Conversation, models.Conversation.id == models.Message.conversation_id)
            .join(
                Member,
                and_(
                    Member.conversation_id == models.Message.conversation_id,
                    Member.user_id == user_id,
                ),
            )
            .where(models.Message.id == message_id)
        )
    ).first()
    if row is None:
        raise not_found("message")
    return row[0], row[1], row[2]


def message_gone() -> ApiError:
    """409 CONFLICT for an action on a deleted message."""
    return ApiError(ErrorCode.CONFLICT, "the message was deleted")
