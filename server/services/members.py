"""Group administration (document 001 §2.6): adding, removing, banning and muting members,
roles, leaving, renaming and locking a group.

Every change is logged (``member_joined``, ``member_left``, ``member_updated``,
``conversation_updated``) for the group's members, and ``member_left`` also for the user who
left, so their devices drop the conversation. Added users' sockets join the group's room,
removed users' sockets leave it. Each action is also written to the group's audit log.

Rules: direct chats have no administration (400 NOT_A_GROUP). Owners and admins add, remove,
ban, mute and rename; an admin cannot act on the owner or on another admin (only the owner
can). Only the owner changes roles and locks the group. An owner who leaves hands ownership to
the longest-standing admin, or else to the longest-standing member.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from protocol import limits
from protocol import models as wire
from protocol.errors import ErrorCode
from protocol.events import ServerEvent
from protocol.socket import (
    ConversationEvent,
    MemberEvent,
    MemberRoleChangedEvent,
    RoomLockedEvent,
)
from server.context import ServerContext
from server.db import models
from server.db.types import utcnow
from server.errors import ApiError, not_found
from server.services import access, audit
from server.services.conversations import conversation_record, member_record
from server.services.cursors import after_time_key, time_key_cursor
from server.services.unit_of_work import UnitOfWork, conversation_room, user_room
from server.services.users import user_record

Conv = models.Conversation
Member = models.ConversationMember
Ban = models.ConversationBan

OWNER = wire.MemberRole.OWNER.value
ADMIN = wire.MemberRole.ADMIN.value


@dataclass(frozen=True)
class Group:
    """A group and the caller's membership, read inside a write transaction."""

    conversation: models.Conversation
    me: models.ConversationMember


def forbidden(message: str) -> ApiError:
    """403 FORBIDDEN."""
    return ApiError(ErrorCode.FORBIDDEN, message)


async def _group(session: AsyncSession, caller_id: str, conversation_id: str) -> Group:
    """The group (its row locked until the commit on PostgreSQL, so administration of one group
    takes turns) and the caller's membership; 404 / 403 NOT_A_MEMBER / 400 NOT_A_GROUP."""
    row = (
        await session.execute(
            select(Conv, Member)
            .join(Member, and_(Member.conversation_id == Conv.id, Member.user_id == caller_id))
            .where(Conv.id == conversation_id)
            .with_for_update(of=Conv)
        )
    ).first()
    if row is None:
        raise await access.refuse_non_member(session, conversation_id)
    group = Group(row[0], row[1])
    if access.is_direct(group.conversation):
        raise access.not_a_group()
    return group


def _require_manager(group: Group) -> None:
    if group.me.role not in access.MANAGER_ROLES:
        raise forbidden("only the group's owner and admins can do this")


def _require_owner(group: Group) -> None:
    if group.me.role != OWNER:
        raise forbidden("only the group's owner can do this")


async def _target(session: AsyncSession, group: Group, user_id: str) -> models.ConversationMember:
    """A member the caller may moderate: not themselves, not the owner, and not an admin unless
    the caller is the owner. NOT_FOUND when ``user_id`` is not a member."""
    _require_manager(group)
    if user_id == group.me.user_id:
        raise ApiError(ErrorCode.VALIDATION_ERROR, "you cannot do this to yourself")
    member = await session.scalar(
        select(Member).where(
            Member.conversation_id == group.conversation.id, Member.user_id == user_id
        )
    )
    if member is None:
        raise not_found("member")
    _require_outranks(group.me, member.role)
    return member


def _require_outranks(actor: models.ConversationMember, target_role: str) -> None:
    if target_role == OWNER:
        raise forbidden("nobody can act on the group's owner")
    if target_role == ADMIN and actor.role != OWNER:
        raise forbidden("only the owner can act on an admin")


def _audit(
    uow: UnitOfWork,
    group: Group,
    action: str,
    target_id: str | None,
    details: dict[str, Any] | None = None,
) -> None:
    audit.record(uow, group.conversation.id, group.me.user_id, action, target_id, details)


def _future(moment: datetime | None, what: str) -> None:
    if moment is not None and moment <= utcnow():
        raise ApiError(ErrorCode.VALIDATION_ERROR, f"{what} must be in the future")


async def _log_member(
    uow: UnitOfWork, event: ServerEvent, payload: MemberEvent, *, notify_user: bool = False
) -> None:
    """Log a membership event for the group (and, with ``notify_user``, for its subject, who
    is no longer a member: their own room and their /sync)."""
    rooms = [conversation_room(payload.conversation_id)]
    if notify_user:
        rooms.append(user_room(payload.user_id))
    await uow.log(
        event,
        payload,
        rooms=rooms,
        conversation_id=payload.conversation_id,
        user_id=payload.user_id if notify_user else None,
    )


async def _record(session: AsyncSession, member: models.ConversationMember) -> wire.Member:
    user = await session.get(models.User, member.user_id)
    assert user is not None, "a membership always has its user (ON DELETE CASCADE)"
    return member_record(member, user)


# --- members --------------------------------------------------------------------------------


async def add_members(
    context: ServerContext, caller_id: str, conversation_id: str, user_ids: Sequence[str]
) -> list[wire.Member]:
    """Add users to a group (owners and admins); users already in it are skipped. Returns the
    new memberships.

    Refusals: FORBIDDEN, NOT_FOUND (an unknown user), BANNED (a user banned from the group),
    BLOCKED (a new member and the caller are blocked either way), VALIDATION_ERROR (the group
    would exceed its size limit)."""
    wanted = [uid for uid in dict.fromkeys(user_ids) if uid != caller_id]
    async with context.db.write() as uow:
        session = uow.session
        group = await _group(session, caller_id, conversation_id)
        _require_manager(group)
        known = set(await session.scalars(select(models.User.id).where(models.User.id.in_(wanted))))
        if len(known) != len(wanted):
            raise not_found("user")
        present = set(
            await session.scalars(
                select(Member.user_id).where(
                    Member.conversation_id == conversation_id, Member.user_id.in_(wanted)
                )
            )
        )
        new_ids = [uid for uid in wanted if uid not in present]
        if not new_ids:
            return []
        now = utcnow()
        banned = await session.scalar(
            select(func.count())
            .select_from(Ban)
            .where(
                Ban.conversation_id == conversation_id,
                Ban.user_id.in_(new_ids),
                or_(Ban.banned_until.is_(None), Ban.banned_until > now),
            )
        )
        if banned:
            raise ApiError(ErrorCode.BANNED, "someone you are adding is banned from this group")
        await access.require_not_blocked(session, caller_id, new_ids)
        count = await session.scalar(
            select(func.count())
            .select_from(Member)
            .where(Member.conversation_id == conversation_id)
        )
        if (count or 0) + len(new_ids) > limits.MAX_GROUP_MEMBERS:
            raise ApiError(
                ErrorCode.VALIDATION_ERROR,
                f"a group holds at most {limits.MAX_GROUP_MEMBERS} members",
            )
        await session.execute(
            delete(Ban).where(Ban.conversation_id == conversation_id, Ban.user_id.in_(new_ids))
        )
        added = [
            Member(conversation_id=conversation_id, user_id=uid, joined_at=now) for uid in new_ids
        ]
        session.add_all(added)
        uow.join_rooms(new_ids, conversation_id)
        for member in added:
            _audit(uow, group, "add_member", member.user_id)
            await _log_member(
                uow,
                ServerEvent.MEMBER_JOINED,
                MemberEvent(
                    conversation_id=conversation_id,
                    user_id=member.user_id,
                    role=wire.MemberRole.MEMBER,
                    actor_id=caller_id,
                ),
            )
        return [await _record(session, member) for member in added]


async def _drop(
    uow: UnitOfWork,
    group: Group,
    member: models.ConversationMember,
    reason: wire.MemberLeftReason,
    banned_until: datetime | None = None,
) -> None:
    """Delete a membership, take the user's sockets out of the room and tell everyone."""
    await uow.session.delete(member)
    uow.leave_rooms([member.user_id], group.conversation.id)
    await _log_member(
        uow,
        ServerEvent.MEMBER_LEFT,
        MemberEvent(
            conversation_id=group.conversation.id,
            user_id=member.user_id,
            actor_id=group.me.user_id,
            reason=reason,
            banned_until=banned_until,
        ),
        notify_user=True,
    )


async def remove_member(
    context: ServerContext, caller_id: str, conversation_id: str, user_id: str
) -> None:
    """Remove a member (owners and admins; admins not other admins); removing yourself is
    leaving. Refusals: FORBIDDEN, NOT_FOUND (not a member)."""
    if user_id == caller_id:
        await leave(context, caller_id, conversation_id)
        return
    async with context.db.write() as uow:
        group = await _group(uow.session, caller_id, conversation_id)
        member = await _target(uow.session, group, user_id)
        _audit(uow, group, "remove_member", user_id)
        await _drop(uow, group, member, wire.MemberLeftReason.REMOVED)


async def _successor(
    session: AsyncSession, conversation_id: str, leaving_id: str
) -> models.ConversationMember | None:
    """Who inherits the group: the longest-standing admin, else the longest-standing member."""
    admin_first = case((Member.role == ADMIN, 0), else_=1)
    return await session.scalar(
        select(Member)
        .where(Member.conversation_id == conversation_id, Member.user_id != leaving_id)
        .order_by(admin_first, Member.joined_at, Member.user_id)
        .limit(1)
    )


async def leave(context: ServerContext, caller_id: str, conversation_id: str) -> None:
    """Leave a group. An owner hands ownership on first (``member_updated`` for the heir); the
    last member leaving leaves an empty group nobody sees."""
    async with context.db.write() as uow:
        session = uow.session
        group = await _group(session, caller_id, conversation_id)
        if group.me.role == OWNER:
            heir = await _successor(session, conversation_id, caller_id)
            if heir is not None:
                heir.role = OWNER
                _audit(uow, group, "transfer_ownership", heir.user_id)
                await _log_updated(uow, group, heir)
                _announce_role(uow, group, heir)
        _audit(uow, group, "leave", caller_id)
        await _drop(uow, group, group.me, wire.MemberLeftReason.LEFT)


async def ban_member(
    context: ServerContext,
    caller_id: str,
    conversation_id: str,
    user_id: str,
    until: datetime | None,
) -> None:
    """Ban a user (owners and admins): removed when a member, and not to be added back until
    ``until`` (None: until unbanned). Banning again replaces the end of the ban.

    Refusals: FORBIDDEN, NOT_FOUND (no such user), VALIDATION_ERROR (``until`` not in the
    future, or banning yourself)."""
    _future(until, "until")
    async with context.db.write() as uow:
        session = uow.session
        group = await _group(session, caller_id, conversation_id)
        _require_manager(group)
        if user_id == caller_id:
            raise ApiError(ErrorCode.VALIDATION_ERROR, "you cannot ban yourself")
        if await session.get(models.User, user_id) is None:
            raise not_found("user")
        member = await session.scalar(
            select(Member).where(
                Member.conversation_id == conversation_id, Member.user_id == user_id
            )
        )
        if member is not None:
            _require_outranks(group.me, member.role)
        ban = await session.scalar(
            select(Ban).where(Ban.conversation_id == conversation_id, Ban.user_id == user_id)
        )
        if ban is None:
            session.add(
                Ban(
                    conversation_id=conversation_id,
                    user_id=user_id,
                    banned_by=caller_id,
                    banned_until=until,
                    created_at=utcnow(),
                )
            )
        else:
            ban.banned_by, ban.banned_until = caller_id, until
        until_text = until.isoformat() if until else None
        _audit(uow, group, "ban_user", user_id, {"until": until_text})
        if member is not None:
            await _drop(uow, group, member, wire.MemberLeftReason.BANNED, until)


async def list_bans(
    context: ServerContext, caller_id: str, conversation_id: str, cursor: str | None, limit: int
) -> wire.Page[wire.GroupBan]:
    """The bans in force in a group (owners and admins), oldest first, keyset-paginated by
    banning time and user id. Refusals: NOT_A_MEMBER, NOT_A_GROUP, FORBIDDEN."""
    now = utcnow()
    query = (
        select(Ban, models.User)
        .join(models.User, models.User.id == Ban.user_id)
        .where(
            Ban.conversation_id == conversation_id,
            or_(Ban.banned_until.is_(None), Ban.banned_until > now),
        )
    )
    if cursor:
        query = query.where(after_time_key(cursor, Ban.created_at, Ban.user_id, newest_first=False))
    async with context.db.read() as session:
        await access.require_group_manager(session, caller_id, conversation_id)
        rows = (
            await session.execute(query.order_by(Ban.created_at, Ban.user_id).limit(limit + 1))
        ).all()
    page, has_more = rows[:limit], len(rows) > limit
    last = page[-1][0] if has_more else None
    return wire.Page[wire.GroupBan](
        items=[
            wire.GroupBan(
                user=user_record(user), banned_until=ban.banned_until, banned_at=ban.created_at
            )
            for ban, user in page
        ],
        next_cursor=time_key_cursor(last.created_at, last.user_id) if last is not None else None,
        has_more=has_more,
    )


async def unban_member(
    context: ServerContext, caller_id: str, conversation_id: str, user_id: str
) -> None:
    """Lift a ban (owners and admins); lifting a ban that does not exist is a no-op."""
    async with context.db.write() as uow:
        group = await _group(uow.session, caller_id, conversation_id)
        _require_manager(group)
        result = await uow.session.execute(
            delete(Ban).where(Ban.conversation_id == conversation_id, Ban.user_id == user_id)
        )
        if getattr(result, "rowcount", 0):
            _audit(uow, group, "unban_user", user_id)


async def _updated(uow: UnitOfWork, group: Group, member: models.ConversationMember) -> wire.Member:
    await _log_updated(uow, group, member)
    return await _record(uow.session, member)


async def _log_updated(uow: UnitOfWork, group: Group, member: models.ConversationMember) -> None:
    """Log ``member_updated``: the member's role and mute after the change."""
    await _log_member(
        uow,
        ServerEvent.MEMBER_UPDATED,
        MemberEvent(
            conversation_id=group.conversation.id,
            user_id=member.user_id,
            role=wire.MemberRole(member.role),
            actor_id=group.me.user_id,
            muted_until=member.muted_until,
        ),
    )


async def set_role(
    context: ServerContext, caller_id: str, conversation_id: str, user_id: str, role: str
) -> wire.Member:
    """Make a member an admin or a plain member (the owner only).

    Refusals: FORBIDDEN, NOT_FOUND (not a member), VALIDATION_ERROR (the owner's own role)."""
    async with context.db.write() as uow:
        group = await _group(uow.session, caller_id, conversation_id)
        _require_owner(group)
        member = await _target(uow.session, group, user_id)
        if member.role == role:
            return await _record(uow.session, member)
        member.role = role
        _audit(uow, group, "change_role", user_id, {"role": role})
        _announce_role(uow, group, member)
        return await _updated(uow, group, member)


def _announce_role(uow: UnitOfWork, group: Group, member: models.ConversationMember) -> None:
    """``member_role_changed`` to the group's sockets after the commit."""
    payload = MemberRoleChangedEvent(
        conversation_id=group.conversation.id,
        user_id=member.user_id,
        new_role=wire.MemberRole(member.role),
    )
    uow.emit(ServerEvent.MEMBER_ROLE_CHANGED, payload, [conversation_room(group.conversation.id)])


async def mute_member(
    context: ServerContext,
    caller_id: str,
    conversation_id: str,
    user_id: str,
    until: datetime | None,
) -> wire.Member:
    """Mute a member until ``until`` (None unmutes). Owners and admins; admins not other admins.

    Refusals: FORBIDDEN, NOT_FOUND (not a member), VALIDATION_ERROR (``until`` in the past)."""
    _future(until, "until")
    async with context.db.write() as uow:
        group = await _group(uow.session, caller_id, conversation_id)
        member = await _target(uow.session, group, user_id)
        member.muted_until = until
        action = "mute_user" if until else "unmute_user"
        _audit(uow, group, action, user_id, {"until": until.isoformat() if until else None})
        return await _updated(uow, group, member)


# --- the group itself -----------------------------------------------------------------------


async def _conversation_changed(uow: UnitOfWork, group: Group, payload: ConversationEvent) -> None:
    group.conversation.updated_at = utcnow()
    await uow.log(
        ServerEvent.CONVERSATION_UPDATED,
        payload,
        rooms=[conversation_room(group.conversation.id)],
        conversation_id=group.conversation.id,
    )


async def update_group(
    context: ServerContext,
    caller_id: str,
    conversation_id: str,
    title: str | None,
    allow_forward_out: bool | None,
) -> wire.Conversation:
    """Rename a group (owners and admins) and/or let its messages be forwarded out or not (the
    owner only), in one transaction. Refusal: FORBIDDEN."""
    async with context.db.write() as uow:
        group = await _group(uow.session, caller_id, conversation_id)
        _require_manager(group)
        if allow_forward_out is not None:
            _require_owner(group)
        conversation = group.conversation
        changed = ConversationEvent(conversation_id=conversation_id, actor_id=caller_id)
        if title is not None and conversation.title != title:
            conversation.title = changed.title = title
            _audit(uow, group, "rename", None, {"title": title})
        if allow_forward_out is not None and conversation.allow_forward_out != allow_forward_out:
            conversation.allow_forward_out = changed.allow_forward_out = allow_forward_out
            _audit(uow, group, "set_forwarding", None, {"allow_forward_out": allow_forward_out})
        if changed.title is not None or changed.allow_forward_out is not None:
            await _conversation_changed(uow, group, changed)
        return await conversation_record(uow.session, caller_id, conversation_id)


async def set_locked(
    context: ServerContext, caller_id: str, conversation_id: str, locked: bool
) -> wire.Conversation:
    """Lock or unlock a group (the owner only): a locked group lets only its owner and admins
    post. Refusal: FORBIDDEN."""
    async with context.db.write() as uow:
        group = await _group(uow.session, caller_id, conversation_id)
        _require_owner(group)
        if group.conversation.is_locked != locked:
            group.conversation.is_locked = locked
            _audit(uow, group, "lock_room" if locked else "unlock_room", None)
            room = [conversation_room(conversation_id)]
            payload = RoomLockedEvent(conversation_id=conversation_id, locked=locked)
            uow.emit(ServerEvent.ROOM_LOCKED, payload, room)
            await _conversation_changed(
                uow,
                group,
                ConversationEvent(
                    conversation_id=conversation_id, locked=locked, actor_id=caller_id
                ),
            )
        return await conversation_record(uow.session, caller_id, conversation_id)
