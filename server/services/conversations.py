"""Conversations: create (direct chats are unique per pair), list with previews, unread counts
and the caller's settings (pinned first), one conversation, its members."""

from collections.abc import Sequence
from typing import Any

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from protocol import models as wire
from protocol.errors import ErrorCode
from protocol.events import ServerEvent
from protocol.rest import CreateGroupRequest
from protocol.socket import ConversationEvent
from server.context import ServerContext
from server.db import models
from server.db.types import utcnow
from server.errors import ApiError, not_found
from server.services import access
from server.services.cursors import (
    after_time_key,
    cursor_time,
    decode_cursor,
    encode_cursor,
    time_key_cursor,
)
from server.services.serializers import message_record, settings_record
from server.services.unit_of_work import UnitOfWork, conversation_room
from server.services.users import user_record

Conv = models.Conversation
Member = models.ConversationMember
Settings = models.ConversationUserSettings
Msg = models.Message
LastMessage = aliased(Msg, name="last_message")
Others = aliased(Member, name="others")

_PIN_GROUP = case((Settings.is_pinned.is_(True), 0), else_=1)
_PIN_RANK = func.coalesce(Settings.pin_rank, 0)


def _listing(caller_id: str) -> Any:
    """One query for the caller's conversations with everything a list row shows."""
    unread = (
        select(func.count())
        .select_from(Msg)
        .where(
            Msg.conversation_id == Conv.id,
            Msg.seq > Member.last_read_seq,
            Msg.sender_id != caller_id,
            Msg.deleted_at.is_(None),
        )
        .scalar_subquery()
    )
    member_count = (
        select(func.count())
        .select_from(Others)
        .where(Others.conversation_id == Conv.id)
        .scalar_subquery()
    )
    return (
        select(Conv, Member, Settings, LastMessage, unread, member_count)
        .join(Member, and_(Member.conversation_id == Conv.id, Member.user_id == caller_id))
        .outerjoin(
            Settings, and_(Settings.conversation_id == Conv.id, Settings.user_id == caller_id)
        )
        .outerjoin(LastMessage, LastMessage.id == Conv.last_message_id)
    )


async def _records(
    session: AsyncSession, caller_id: str, rows: Sequence[Any]
) -> list[wire.Conversation]:
    """Conversation records for listing rows: peers and pins come from one query each."""
    ids = [row[0].id for row in rows]
    direct_ids = [row[0].id for row in rows if access.is_direct(row[0])]
    peers: dict[str, models.User] = {}
    if direct_ids:
        for conversation_id, user in await session.execute(
            select(Member.conversation_id, models.User)
            .join(models.User, models.User.id == Member.user_id)
            .where(Member.conversation_id.in_(direct_ids), Member.user_id != caller_id)
        ):
            peers[conversation_id] = user
    pins: dict[str, list[str]] = {}
    if ids:
        for conversation_id, message_id in await session.execute(
            select(models.PinnedMessage.conversation_id, models.PinnedMessage.message_id)
            .where(models.PinnedMessage.conversation_id.in_(ids))
            .order_by(models.PinnedMessage.pinned_at, models.PinnedMessage.id)
        ):
            pins.setdefault(conversation_id, []).append(message_id)
    records = []
    for conversation, member, settings, last, unread, member_count in rows:
        peer = peers.get(conversation.id)
        records.append(
            wire.Conversation(
                id=conversation.id,
                type=wire.ConversationType(conversation.room_type),
                title=peer.display_name if peer else conversation.title,
                peer=user_record(peer) if peer else None,
                created_at=conversation.created_at,
                updated_at=conversation.updated_at,
                last_message=message_record(last) if last else None,
                last_seq=conversation.last_seq,
                unread_count=unread,
                my_role=wire.MemberRole(member.role),
                locked=conversation.is_locked,
                allow_forward_out=conversation.allow_forward_out,
                member_count=member_count,
                pinned_message_ids=pins.get(conversation.id, []),
                settings=settings_record(settings),
            )
        )
    return records


def _sort_key(row: Any) -> list[str | int | float | None]:
    conversation, _member, settings = row[0], row[1], row[2]
    pinned = settings is not None and settings.is_pinned
    return [
        0 if pinned else 1,
        (settings.pin_rank or 0) if settings is not None else 0,
        conversation.updated_at.isoformat(),
        conversation.id,
    ]


def _after(cursor: str) -> Any:
    """Rows after ``cursor`` in (pinned first, pin_rank, newest activity, id) order."""
    group, rank, updated, last_id = decode_cursor(cursor, (int, int, str, str))
    updated_at = cursor_time(updated)
    pin_group, pin_rank = _PIN_GROUP, _PIN_RANK
    return or_(
        pin_group > group,
        and_(
            pin_group == group,
            or_(
                pin_rank > rank,
                and_(
                    pin_rank == rank,
                    or_(
                        Conv.updated_at < updated_at,
                        and_(Conv.updated_at == updated_at, Conv.id < last_id),
                    ),
                ),
            ),
        ),
    )


async def list_conversations(
    context: ServerContext, caller_id: str, archived: bool, cursor: str | None, limit: int
) -> wire.Page[wire.Conversation]:
    """The caller's conversations (or their archive): pinned first by ``pin_rank``, then by the
    newest activity; keyset-paginated."""
    query = _listing(caller_id).where(func.coalesce(Settings.is_archived, False).is_(archived))
    if cursor:
        query = query.where(_after(cursor))
    query = query.order_by(_PIN_GROUP, _PIN_RANK, Conv.updated_at.desc(), Conv.id.desc())
    async with context.db.read() as session:
        rows = (await session.execute(query.limit(limit + 1))).all()
        page, has_more = rows[:limit], len(rows) > limit
        items = await _records(session, caller_id, page)
    return wire.Page[wire.Conversation](
        items=items,
        next_cursor=encode_cursor(_sort_key(page[-1])) if has_more and page else None,
        has_more=has_more,
    )


async def conversation_record(
    session: AsyncSession, caller_id: str, conversation_id: str
) -> wire.Conversation:
    """One conversation from the caller's point of view; NOT_A_MEMBER (403) or NOT_FOUND."""
    rows = (await session.execute(_listing(caller_id).where(Conv.id == conversation_id))).all()
    if not rows:
        raise await access.refuse_non_member(session, conversation_id)
    return (await _records(session, caller_id, rows))[0]


async def get_conversation(
    context: ServerContext, caller_id: str, conversation_id: str
) -> wire.Conversation:
    """``GET /conversations/{id}``."""
    async with context.db.read() as session:
        return await conversation_record(session, caller_id, conversation_id)


def member_record(member: Member, user: models.User) -> wire.Member:
    """A membership row as the wire shows it."""
    return wire.Member(
        user=user_record(user),
        role=wire.MemberRole(member.role),
        joined_at=member.joined_at,
        last_read_seq=member.last_read_seq,
        last_delivered_seq=member.last_delivered_seq,
        muted_until=member.muted_until,
    )


async def list_members(
    context: ServerContext, caller_id: str, conversation_id: str, cursor: str | None, limit: int
) -> wire.Page[wire.Member]:
    """The members of a conversation the caller belongs to, in joining order (keyset-paginated
    by joining time and user id)."""
    query = (
        select(Member, models.User)
        .join(models.User, models.User.id == Member.user_id)
        .where(Member.conversation_id == conversation_id)
    )
    if cursor:
        query = query.where(
            after_time_key(cursor, Member.joined_at, Member.user_id, newest_first=False)
        )
    async with context.db.read() as session:
        await access.require_member(session, caller_id, conversation_id)
        rows = (
            await session.execute(query.order_by(Member.joined_at, Member.user_id).limit(limit + 1))
        ).all()
    page, has_more = rows[:limit], len(rows) > limit
    last = page[-1][0] if page else None
    return wire.Page[wire.Member](
        items=[member_record(member, user) for member, user in page],
        next_cursor=time_key_cursor(last.joined_at, last.user_id)
        if has_more and last is not None
        else None,
        has_more=has_more,
    )


async def _announce_new(
    uow: UnitOfWork, conversation: models.Conversation, member_ids: Sequence[str]
) -> None:
    uow.join_rooms(member_ids, conversation.id)
    await uow.log(
        ServerEvent.CONVERSATION_UPDATED,
        ConversationEvent(conversation_id=conversation.id, title=conversation.title),
        rooms=[conversation_room(conversation.id)],
        conversation_id=conversation.id,
    )


async def _existing_direct(context: ServerContext, caller_id: str, key: str) -> str | None:
    async with context.db.read() as session:
        return await session.scalar(select(Conv.id).where(Conv.direct_key == key))


async def create_direct(
    context: ServerContext, caller_id: str, user_id: str
) -> tuple[wire.Conversation, bool]:
    """The direct chat between the caller and ``user_id``, created when missing (True then).

    Refusals: VALIDATION_ERROR (yourself), NOT_FOUND (no such user), BLOCKED (creating a new
    chat with someone blocked either way; an existing chat is still returned)."""
    if user_id == caller_id:
        raise ApiError(ErrorCode.VALIDATION_ERROR, "you cannot start a direct chat with yourself")
    key = ":".join(sorted((caller_id, user_id)))
    existing = await _existing_direct(context, caller_id, key)
    if existing is None:
        try:
            async with context.db.write() as uow:
                if await uow.session.get(models.User, user_id) is None:
                    raise not_found("user")
                await access.require_not_blocked(uow.session, caller_id, [user_id])
                now = utcnow()
                conversation = Conv(
                    room_type=wire.ConversationType.DIRECT.value,
                    direct_key=key,
                    created_by=caller_id,
                    created_at=now,
                    updated_at=now,
                )
                uow.session.add(conversation)
                await uow.session.flush()
                uow.session.add_all(
                    Member(conversation_id=conversation.id, user_id=uid, joined_at=now)
                    for uid in (caller_id, user_id)
                )
                await uow.session.flush()
                await _announce_new(uow, conversation, [caller_id, user_id])
                return await conversation_record(uow.session, caller_id, conversation.id), True
        except IntegrityError:
            existing = await _existing_direct(context, caller_id, key)
            if existing is None:
                raise
    async with context.db.read() as session:
        return await conversation_record(session, caller_id, existing), False


async def create_group(
    context: ServerContext, caller_id: str, body: CreateGroupRequest
) -> wire.Conversation:
    """A private group owned by the caller with ``member_ids`` as members.

    Refusals: NOT_FOUND (an unknown user), BLOCKED (a member and the caller are blocked either
    way: nobody can be put in a group with someone they blocked, or who blocked them)."""
    member_ids = [uid for uid in dict.fromkeys(body.member_ids) if uid != caller_id]
    async with context.db.write() as uow:
        session = uow.session
        if member_ids:
            known = set(
                await session.scalars(select(models.User.id).where(models.User.id.in_(member_ids)))
            )
            if len(known) != len(member_ids):
                raise not_found("user")
            await access.require_not_blocked(session, caller_id, member_ids)
        now = utcnow()
        conversation = Conv(
            room_type=wire.ConversationType.PRIVATE_GROUP.value,
            title=body.title,
            created_by=caller_id,
            created_at=now,
            updated_at=now,
        )
        session.add(conversation)
        await session.flush()
        session.add(
            Member(
                conversation_id=conversation.id,
                user_id=caller_id,
                role=wire.MemberRole.OWNER.value,
                joined_at=now,
            )
        )
        session.add_all(
            Member(conversation_id=conversation.id, user_id=uid, joined_at=now)
            for uid in member_ids
        )
        await session.flush()
        await _announce_new(uow, conversation, [caller_id, *member_ids])
        return await conversation_record(session, caller_id, conversation.id)
