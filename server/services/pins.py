"""Pinned messages of a conversation: any member in a direct chat, owners and admins in groups."""

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from protocol.errors import ErrorCode
from protocol.events import ServerEvent
from protocol.socket import PinEvent
from server.context import ServerContext
from server.db import models
from server.db.models import new_id
from server.db.types import utcnow
from server.errors import ApiError, not_found
from server.services import access, audit
from server.services.unit_of_work import UnitOfWork, conversation_room
from server.services.upsert import insert_ignore

Pin = models.PinnedMessage


async def pinned_ids(session: AsyncSession, conversation_id: str) -> list[str]:
    """The ids of the conversation's pinned messages, oldest pin first."""
    rows = await session.scalars(
        select(Pin.message_id)
        .where(Pin.conversation_id == conversation_id)
        .order_by(Pin.pinned_at, Pin.id)
    )
    return list(rows)


async def set_pinned(
    context: ServerContext, caller_id: str, conversation_id: str, message_id: str, pinned: bool
) -> list[str]:
    """Pin (or unpin) a message of the conversation; idempotent. Returns the pinned ids.

    Refusals: NOT_A_MEMBER / NOT_FOUND, FORBIDDEN (a plain member of a group), CONFLICT (pinning
    a deleted message)."""
    async with context.db.write() as uow:
        session = uow.session
        conversation, member = await access.require_conversation(
            session, caller_id, conversation_id
        )
        if not access.is_direct(conversation) and not access.may_moderate(conversation, member):
            raise ApiError(ErrorCode.FORBIDDEN, "only owners and admins pin messages in groups")
        message = await session.get(models.Message, message_id)
        if message is None or message.conversation_id != conversation_id:
            raise not_found("message")
        if pinned:
            if message.deleted_at is not None:
                raise access.message_gone()
            values = {
                "id": new_id(),
                "conversation_id": conversation_id,
                "message_id": message_id,
                "pinned_by": caller_id,
                "pinned_at": utcnow(),
            }
            changed = await insert_ignore(session, Pin, values)
        else:
            result = await session.execute(
                delete(Pin).where(
                    Pin.conversation_id == conversation_id, Pin.message_id == message_id
                )
            )
            changed = bool(getattr(result, "rowcount", 0))
        if changed:
            if not access.is_direct(conversation):
                action = "pin_message" if pinned else "unpin_message"
                audit.record(
                    uow,
                    conversation_id,
                    caller_id,
                    action,
                    message.sender_id,
                    {"message_id": message_id},
                )
            event = ServerEvent.MESSAGE_PINNED if pinned else ServerEvent.MESSAGE_UNPINNED
            return await _announce(uow, event, conversation_id, message_id, caller_id)
        return await pinned_ids(session, conversation_id)


async def unpin_deleted(uow: UnitOfWork, message: models.Message, caller_id: str) -> None:
    """Unpin a message being deleted (``message_unpinned`` by ``caller_id`` when it was
    pinned)."""
    result = await uow.session.execute(delete(Pin).where(Pin.message_id == message.id))
    if getattr(result, "rowcount", 0):
        event = ServerEvent.MESSAGE_UNPINNED
        await _announce(uow, event, message.conversation_id, message.id, caller_id)


async def _announce(
    uow: UnitOfWork, event: ServerEvent, conversation_id: str, message_id: str, caller_id: str
) -> list[str]:
    """Log a pin change with the pinned ids after it; returns those ids."""
    ids = await pinned_ids(uow.session, conversation_id)
    await uow.log(
        event,
        PinEvent(
            conversation_id=conversation_id,
            message_id=message_id,
            pinned_by=caller_id,
            pinned_message_ids=ids,
        ),
        rooms=[conversation_room(conversation_id)],
        conversation_id=conversation_id,
    )
    return ids
