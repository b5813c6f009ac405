"""Read and delivery receipts: per-member high-water marks that only move forward."""

from sqlalchemy import select

from protocol.events import ServerEvent
from protocol.socket import ReceiptEvent
from server.context import ServerContext
from server.db import models
from server.db.types import utcnow
from server.errors import not_found
from server.services import access
from server.services.settings import ensure_settings
from server.services.unit_of_work import conversation_room


async def _advance(
    context: ServerContext, caller_id: str, conversation_id: str, message_id: str, read: bool
) -> None:
    async with context.db.write() as uow:
        session = uow.session
        # Locked: two devices marking at once must not move the mark backwards (PostgreSQL).
        member = await access.require_member(session, caller_id, conversation_id, for_update=True)
        seq = await session.scalar(
            select(models.Message.seq).where(
                models.Message.id == message_id, models.Message.conversation_id == conversation_id
            )
        )
        if seq is None:
            raise not_found("message")
        current = member.last_read_seq if read else member.last_delivered_seq
        if seq <= current:
            return
        now = utcnow()
        member.last_delivered_seq = max(member.last_delivered_seq, seq)
        if read:
            member.last_read_seq = seq
            settings = await ensure_settings(session, conversation_id, caller_id)
            settings.last_read_at, settings.last_read_message_id = now, message_id
        await session.flush()
        await uow.log(
            ServerEvent.MESSAGE_READ if read else ServerEvent.MESSAGE_DELIVERED,
            ReceiptEvent(
                conversation_id=conversation_id,
                user_id=caller_id,
                message_id=message_id,
                seq=seq,
                at=now,
            ),
            rooms=[conversation_room(conversation_id)],
            conversation_id=conversation_id,
        )


async def mark_read(
    context: ServerContext, caller_id: str, conversation_id: str, message_id: str
) -> None:
    """Everything up to and including ``message_id`` is read by the caller (and so delivered).
    Moving backwards is a no-op; moving forward logs ``message_read``.
    Refusals: NOT_A_MEMBER / NOT_FOUND (conversation or message)."""
    await _advance(context, caller_id, conversation_id, message_id, read=True)


async def mark_delivered(
    context: ServerContext, caller_id: str, conversation_id: str, message_id: str
) -> None:
    """The caller's device stored everything up to ``message_id``; moving forward logs
    ``message_delivered``. Refusals as ``mark_read``."""
    await _advance(context, caller_id, conversation_id, message_id, read=False)
