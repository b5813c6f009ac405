"""Read and delivery receipts: per-member high-water marks that only move forward, and when
each member got and read one message (from the event log's receipts)."""

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from protocol import models as wire
from protocol.events import ServerEvent
from protocol.socket import ReceiptEvent
from server.context import ServerContext
from server.db import models
from server.db.types import utcnow
from server.errors import not_found
from server.services import access
from server.services.settings import ensure_settings
from server.services.unit_of_work import conversation_room
from server.services.users import user_record

RECEIPT_SCAN_BATCH = 500
"""Receipt events read from the log at a time when looking for a message's receipt times."""
MAX_RECEIPT_SCAN = 20_000
"""Receipt events read at most for one message; older times stay unknown (None)."""
_RECEIPT_TYPES = (ServerEvent.MESSAGE_DELIVERED.value, ServerEvent.MESSAGE_READ.value)


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


async def message_receipts(
    context: ServerContext, caller_id: str, message_id: str
) -> list[wire.MessageReceipt]:
    """Whether and when each member of a message's conversation but its sender got the message
    and read it, in joining order. Times come from the event log: the first receipt that covers
    the message; a pruned log leaves them None. Refusal: NOT_FOUND (no such message, or the
    caller is not a member of its conversation)."""
    async with context.db.read() as session:
        message, _, _ = await access.require_message(session, caller_id, message_id)
        rows = (
            await session.execute(
                select(models.ConversationMember, models.User)
                .join(models.User, models.User.id == models.ConversationMember.user_id)
                .where(
                    models.ConversationMember.conversation_id == message.conversation_id,
                    models.ConversationMember.user_id != message.sender_id,
                )
                .order_by(models.ConversationMember.joined_at, models.ConversationMember.user_id)
            )
        ).all()
        delivered = {m.user_id for m, _ in rows if m.last_delivered_seq >= message.seq}
        read = {m.user_id for m, _ in rows if m.last_read_seq >= message.seq}
        delivered_at, read_at = await _receipt_times(session, message, delivered, read)
    return [
        wire.MessageReceipt(
            user=user_record(user),
            delivered=member.user_id in delivered,
            read=member.user_id in read,
            delivered_at=delivered_at.get(member.user_id),
            read_at=read_at.get(member.user_id),
        )
        for member, user in rows
    ]


async def _receipt_times(
    session: AsyncSession, message: models.Message, delivered: set[str], read: set[str]
) -> tuple[dict[str, datetime], dict[str, datetime]]:
    """When each of ``delivered`` first got ``message`` and each of ``read`` first read it: the
    first receipt event at or past its ``seq`` (a read receipt also delivers). Scans the log
    from the message on, until every time is found or ``MAX_RECEIPT_SCAN`` events were read."""
    delivered_at: dict[str, datetime] = {}
    read_at: dict[str, datetime] = {}
    after, scanned = 0, 0
    while (len(delivered_at) < len(delivered) or len(read_at) < len(read)) and (
        scanned < MAX_RECEIPT_SCAN
    ):
        events = (
            await session.scalars(
                select(models.Event)
                .where(
                    models.Event.conversation_id == message.conversation_id,
                    models.Event.type.in_(_RECEIPT_TYPES),
                    models.Event.created_at >= message.created_at,
                    models.Event.id > after,
                )
                .order_by(models.Event.id)
                .limit(RECEIPT_SCAN_BATCH)
            )
        ).all()
        if not events:
            break
        for event in events:
            receipt = ReceiptEvent.model_validate(event.data)
            if receipt.seq < message.seq:
                continue
            if receipt.user_id in delivered:
                delivered_at.setdefault(receipt.user_id, receipt.at)
            if receipt.user_id in read and event.type == ServerEvent.MESSAGE_READ.value:
                read_at.setdefault(receipt.user_id, receipt.at)
        after, scanned = events[-1].id, scanned + len(events)
    return delivered_at, read_at
