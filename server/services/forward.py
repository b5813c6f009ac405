"""Forwarding messages to other conversations (document 001 §2.5)."""

from sqlalchemy import and_, select

from protocol.errors import ErrorCode
from protocol.models import Message
from protocol.rest import ForwardRequest
from server.context import ServerContext
from server.db import models
from server.errors import ApiError, not_found
from server.services import access
from server.services.messages import NewMessage, store_message
from server.services.ratelimit import enforce

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


async def forward_messages(
    context: ServerContext, caller_id: str, body: ForwardRequest
) -> list[Message]:
    """Copy each message into each target conversation (at most 5 targets), in the order given;
    one new message per (message, target), each logged as ``message_new``.

    Refusals: NOT_FOUND (a message the caller cannot see), CONFLICT (a deleted message),
    FORBIDDEN (a source conversation with ``allow_forward_out`` off), NOT_A_MEMBER / NOT_FOUND
    (a target), BLOCKED (a direct-chat target whose peer and the caller are blocked either way),
    RATE_LIMITED (one forward counts as one message against the per-minute limit)."""
    message_ids = list(dict.fromkeys(body.message_ids))
    target_ids = list(dict.fromkeys(body.target_conversation_ids))
    async with context.db.write() as uow:
        session = uow.session
        rows = (
            await session.execute(
                select(Msg, Conv, models.User.display_name)
                .join(Conv, Conv.id == Msg.conversation_id)
                .join(Member, and_(Member.conversation_id == Conv.id, Member.user_id == caller_id))
                .join(models.User, models.User.id == Msg.sender_id)
                .where(Msg.id.in_(message_ids))
            )
        ).all()
        found = {row[0].id: (row[0], row[1], row[2]) for row in rows}
        for message_id in message_ids:
            if message_id not in found:
                raise not_found("message")
            source, conversation, _name = found[message_id]
            if source.deleted_at is not None:
                raise access.message_gone()
            if not conversation.allow_forward_out:
                raise ApiError(
                    ErrorCode.FORBIDDEN, "messages of this conversation cannot be forwarded"
                )
        targets = {
            conversation.id: conversation
            for conversation in await session.scalars(
                select(Conv)
                .join(Member, and_(Member.conversation_id == Conv.id, Member.user_id == caller_id))
                .where(Conv.id.in_(target_ids))
                .order_by(Conv.id)
                # Lock every target before the first event takes the event-log lock, in one
                # order, so forwards and sends never wait on each other in a cycle (PostgreSQL).
                .with_for_update(of=Conv)
            )
        }
        for target_id in target_ids:
            if target_id not in targets:
                raise await access.refuse_non_member(session, target_id)
        direct_targets = [cid for cid, conv in targets.items() if access.is_direct(conv)]
        if direct_targets:
            peers = select(Member.user_id).where(
                Member.conversation_id.in_(direct_targets), Member.user_id != caller_id
            )
            await access.require_not_blocked(session, caller_id, peers)
        await enforce(context.limiter, f"msg:{caller_id}", context.settings.messages_per_minute, 60)
        created: list[Message] = []
        for target_id in target_ids:
            for message_id in message_ids:
                source, conversation, sender_name = found[message_id]
                content = _copy_of(source, conversation, sender_name)
                created.append(await store_message(uow, target_id, caller_id, content))
        return created
