"""Forwarding messages to other conversations (document 001 §2.5)."""

import hashlib
from collections.abc import Sequence
from dataclasses import replace

from sqlalchemy import and_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from protocol.errors import ErrorCode
from protocol.models import Message
from protocol.rest import ForwardRequest
from server.context import ServerContext
from server.db import models
from server.db.types import utcnow
from server.errors import ApiError, not_found
from server.services import access
from server.services.messages import NewMessage, store_message
from server.services.ratelimit import enforce
from server.services.reactions import summaries_for
from server.services.serializers import message_record

Conv = models.Conversation
Member = models.ConversationMember
Msg = models.Message


def _copy_of(
    source: models.Message, conversation: models.Conversation, sender_name: str
) -> NewMessage:
    """The new row's content: the same text and media, marked with where it first came from (a
    forward of a forward keeps the first origin)."""
    if source.forwarded_from_sender_name is not None:
        origin_id = source.forwarded_from_message_id
        origin_sender: str = source.forwarded_from_sender_name
        origin_room = source.forwarded_from_room_name
    else:
        origin_id, origin_sender = source.id, sender_name
        origin_room = None if access.is_direct(conversation) else conversation.title
    return NewMessage(
        text=source.text,
        message_type=source.message_type,
        mentions=list(source.mentions or []),
        forwarded_from_message_id=origin_id,
        forwarded_from_sender_name=origin_sender,
        forwarded_from_room_name=origin_room,
        media_url=source.media_url,
        media_mime=source.media_mime,
        media_size=source.media_size,
        media_duration_s=source.media_duration_s,
        media_waveform=source.media_waveform,
    )


def copy_client_id(client_id: str, target_id: str, message_id: str) -> str:
    """The client id of the copy of ``message_id`` in ``target_id`` made by the forward request
    ``client_id``: stable, so a retried request finds what it created (at most 44 characters)."""
    digest = hashlib.sha256(f"{client_id}\n{target_id}\n{message_id}".encode()).hexdigest()
    return f"fwd-{digest[:40]}"


async def _forwarded_before(
    session: AsyncSession, caller_id: str, copy_ids: Sequence[str]
) -> list[Message] | None:
    """The copies an earlier attempt of the same forward created, in request order; None when
    there was none."""
    rows = {
        row.client_id: row
        for row in await session.scalars(
            select(Msg).where(Msg.sender_id == caller_id, Msg.client_id.in_(copy_ids))
        )
    }
    if not rows:
        return None
    found = [rows[copy_id] for copy_id in copy_ids if copy_id in rows]
    reactions = await summaries_for(session, [row.id for row in found], caller_id)
    return [message_record(row, reactions.get(row.id, [])) for row in found]


async def forward_messages(
    context: ServerContext, caller_id: str, body: ForwardRequest
) -> list[Message]:
    """Copy each message into each target conversation (at most 5 targets), in the order given;
    one new message per (message, target), each logged as ``message_new``. With a
    ``client_id``, a retry of the same request returns the copies the first attempt made.

    Refusals: NOT_FOUND (a message the caller cannot see), CONFLICT (a deleted message),
    FORBIDDEN (a source conversation with ``allow_forward_out`` off), NOT_A_MEMBER / NOT_FOUND
    (a target), MUTED / LOCKED (a target group where the caller may not post), BLOCKED (a
    direct-chat target whose peer, or a message's sender, and the caller are blocked either
    way), RATE_LIMITED (each copy counts as one message against the per-minute limit)."""
    message_ids = list(dict.fromkeys(body.message_ids))
    target_ids = list(dict.fromkeys(body.target_conversation_ids))
    pairs = [(target_id, message_id) for target_id in target_ids for message_id in message_ids]
    copy_ids = [copy_client_id(body.client_id, *pair) for pair in pairs] if body.client_id else []
    try:
        async with context.db.write() as uow:
            if copy_ids:
                earlier = await _forwarded_before(uow.session, caller_id, copy_ids)
                if earlier is not None:
                    return earlier
            found = await _sources(uow.session, caller_id, message_ids)
            await _check_targets(uow.session, caller_id, target_ids)
            await enforce(
                context.limiter,
                f"msg:{caller_id}",
                context.settings.messages_per_minute,
                60,
                cost=len(pairs),
            )
            created: list[Message] = []
            for index, (target_id, message_id) in enumerate(pairs):
                source, conversation, sender_name = found[message_id]
                content = _copy_of(source, conversation, sender_name)
                if copy_ids:
                    content = replace(content, client_id=copy_ids[index])
                created.append(await store_message(uow, target_id, caller_id, content))
            return created
    except IntegrityError:
        # A concurrent attempt of the same forward won the race: answer with its copies.
        async with context.db.read() as session:
            earlier = await _forwarded_before(session, caller_id, copy_ids) if copy_ids else None
        if earlier is None:
            raise
        return earlier


Source = tuple[models.Message, models.Conversation, str]
"""A message to forward, its conversation and its sender's display name."""


async def _sources(
    session: AsyncSession, caller_id: str, message_ids: Sequence[str]
) -> dict[str, Source]:
    """The messages to forward; refused when one is not visible to the caller, deleted, in a
    conversation that forbids forwarding out, or sent by someone blocked either way."""
    rows = (
        await session.execute(
            select(Msg, Conv, models.User.display_name)
            .join(Conv, Conv.id == Msg.conversation_id)
            .join(Member, and_(Member.conversation_id == Conv.id, Member.user_id == caller_id))
            .join(models.User, models.User.id == Msg.sender_id)
            .where(Msg.id.in_(message_ids))
        )
    ).all()
    found: dict[str, Source] = {row[0].id: (row[0], row[1], row[2]) for row in rows}
    for message_id in message_ids:
        if message_id not in found:
            raise not_found("message")
        source, conversation, _name = found[message_id]
        if source.deleted_at is not None:
            raise access.message_gone()
        if not conversation.allow_forward_out:
            raise ApiError(ErrorCode.FORBIDDEN, "messages of this conversation cannot be forwarded")
    senders = {source.sender_id for source, _c, _n in found.values()} - {caller_id}
    await access.require_not_blocked(session, caller_id, sorted(senders))
    return found


async def _check_targets(session: AsyncSession, caller_id: str, target_ids: Sequence[str]) -> None:
    """Lock every target (before the first event takes the event-log lock, in one order, so
    forwards and sends never wait on each other in a cycle on PostgreSQL) and refuse a target the
    caller may not post in."""
    targets = {
        conversation.id: (conversation, member)
        for conversation, member in await session.execute(
            select(Conv, Member)
            .join(Member, and_(Member.conversation_id == Conv.id, Member.user_id == caller_id))
            .where(Conv.id.in_(target_ids))
            .order_by(Conv.id)
            .with_for_update(of=Conv)
        )
    }
    now = utcnow()
    for target_id in target_ids:
        if target_id not in targets:
            raise await access.refuse_non_member(session, target_id)
        conversation, member = targets[target_id]
        refusal = access.send_refusal(member.role, member.muted_until, conversation.is_locked, now)
        if refusal is not None:
            raise refusal
    direct_targets = [cid for cid, (conv, _m) in targets.items() if access.is_direct(conv)]
    if direct_targets:
        peers = select(Member.user_id).where(
            Member.conversation_id.in_(direct_targets), Member.user_id != caller_id
        )
        await access.require_not_blocked(session, caller_id, peers)
