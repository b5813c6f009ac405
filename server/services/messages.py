"""Sending, listing, editing and deleting messages.

``send_message`` goes through the send queue (``send_queue``: batches of sends in one
transaction); ``store_message`` stores one message inside another change (forwards).
"""

from dataclasses import asdict, dataclass, field

from sqlalchemy import bindparam, delete, func, insert, select, update

from protocol import limits
from protocol.errors import ErrorCode
from protocol.events import ServerEvent
from protocol.models import Message, MessageEdit, MessageType, Page
from protocol.rest import SendMessageRequest
from protocol.socket import MessageDeletedEvent, MessageNewEvent
from protocol.text import find_mentions
from server.context import ServerContext
from server.db import models
from server.db.models import new_id
from server.db.tables import CONVERSATIONS, MESSAGES
from server.db.types import utcnow
from server.errors import ApiError, not_found
from server.services import access, audit
from server.services.pins import unpin_deleted
from server.services.reactions import drop_reactions, summaries_for
from server.services.send_batch import SendRequest
from server.services.serializers import message_record
from server.services.unit_of_work import UnitOfWork, conversation_room

Msg = models.Message


@dataclass(frozen=True)
class NewMessage:
    """What a new message row holds besides its conversation, sender and seq."""

    text: str | None
    client_id: str | None = None
    reply_to_id: str | None = None
    message_type: str = MessageType.TEXT.value
    mentions: list[str] = field(default_factory=list)
    forwarded_from_message_id: str | None = None
    forwarded_from_sender_name: str | None = None
    forwarded_from_room_name: str | None = None
    media_url: str | None = None
    media_mime: str | None = None
    media_size: int | None = None
    media_duration_s: float | None = None
    media_waveform: list[float] | None = None


async def store_message(
    uow: UnitOfWork, conversation_id: str, sender_id: str, content: NewMessage
) -> Message:
    """Insert a message with the conversation's next seq (the conversation row is updated, and
    locked on PostgreSQL, by the same statement) and log ``message_new``. Callers have checked
    membership and blocks."""
    now = utcnow()
    message_id = new_id()
    parameters = {"p_conversation": conversation_id, "p_message": message_id, "p_now": now}
    seq = (await uow.session.execute(_NEXT_SEQ, parameters)).scalar_one()
    row = Msg(
        id=message_id,
        conversation_id=conversation_id,
        sender_id=sender_id,
        seq=seq,
        created_at=now,
        **asdict(content),
    )
    await uow.session.execute(
        _INSERT_MESSAGE,
        {column.key: getattr(row, column.key) for column in MESSAGES.columns}
        | {"edited_at": None, "deleted_at": None, "deleted_by": None},
    )
    record = message_record(row)
    await uow.log(
        ServerEvent.MESSAGE_NEW,
        MessageNewEvent.model_validate(record.model_dump()),
        rooms=[conversation_room(conversation_id)],
        conversation_id=conversation_id,
    )
    return record


_NEXT_SEQ = (
    update(CONVERSATIONS)
    .where(CONVERSATIONS.c.id == bindparam("p_conversation"))
    .values(
        last_seq=CONVERSATIONS.c.last_seq + 1,
        last_message_id=bindparam("p_message"),
        updated_at=bindparam("p_now"),
    )
    .returning(CONVERSATIONS.c.last_seq)
)
_INSERT_MESSAGE = insert(MESSAGES)


async def send_message(
    context: ServerContext, sender_id: str, body: SendMessageRequest
) -> tuple[Message, bool]:
    """Store a message from ``sender_id`` through the send queue (the socket ``send_message``
    takes the same path) and tell the conversation. Idempotent on ``(sender, client_id)``: a
    retry returns the stored message and False.

    Refusals: NOT_FOUND (conversation, reply target), NOT_A_MEMBER, CONFLICT (the client id
    names a message in another conversation), MUTED, LOCKED, BLOCKED (direct chats, either
    direction), RATE_LIMITED."""
    request = SendRequest(
        sender_id, body.conversation_id, body.text, body.client_id, body.reply_to_id
    )
    result = await context.sends.send(request)
    return result.message(), result.created


async def list_messages(
    context: ServerContext, caller_id: str, conversation_id: str, before_seq: int | None, limit: int
) -> Page[Message]:
    """A page of history, newest first: messages with ``seq < before_seq`` (keyset by seq)."""
    async with context.db.read() as session:
        await access.require_member(session, caller_id, conversation_id)
        query = select(Msg).where(Msg.conversation_id == conversation_id)
        if before_seq is not None:
            query = query.where(Msg.seq < before_seq)
        rows = list(await session.scalars(query.order_by(Msg.seq.desc()).limit(limit + 1)))
        page, has_more = rows[:limit], len(rows) > limit
        reactions = await summaries_for(session, [row.id for row in page], caller_id)
    return Page[Message](
        items=[message_record(row, reactions.get(row.id, [])) for row in page],
        next_cursor=str(page[-1].seq) if has_more and page else None,
        has_more=has_more,
    )


async def get_message(context: ServerContext, caller_id: str, message_id: str) -> Message:
    """One message of a conversation the caller belongs to, with its reactions as the caller
    sees them (a deleted one without text). NOT_FOUND when it does not exist or the caller is
    not a member."""
    async with context.db.read() as session:
        row, _conversation, _member = await access.require_message(session, caller_id, message_id)
        reactions = await summaries_for(session, [row.id], caller_id)
    return message_record(row, reactions.get(row.id, []))


async def edit_message(
    context: ServerContext, caller_id: str, message_id: str, text: str
) -> Message:
    """Replace the text of the caller's own message (``text`` already sanitised), keeping the
    previous text in its edit history, and tell the conversation (``message_edited``).

    Refusals: NOT_FOUND, FORBIDDEN (not the sender), CONFLICT (deleted, or too many edits),
    BLOCKED (direct chat with a blocked peer), MUTED and LOCKED (whoever may not post in the
    group now may not change what it shows either)."""
    async with context.db.write() as uow:
        session = uow.session
        row, conversation, member = await access.require_message(session, caller_id, message_id)
        if row.sender_id != caller_id:
            raise ApiError(ErrorCode.FORBIDDEN, "only the sender can edit a message")
        if row.deleted_at is not None:
            raise access.message_gone()
        refusal = access.send_refusal(
            member.role, member.muted_until, conversation.is_locked, utcnow()
        )
        if refusal is not None:
            raise refusal
        await access.require_direct_unblocked(session, caller_id, conversation)
        if row.text != text:
            edits = await session.scalar(
                select(func.count())
                .select_from(models.MessageEdit)
                .where(models.MessageEdit.message_id == row.id)
            )
            if (edits or 0) >= limits.MAX_EDIT_HISTORY:
                raise ApiError(ErrorCode.CONFLICT, "this message cannot be edited any more")
            now = utcnow()
            session.add(models.MessageEdit(message_id=row.id, text=row.text or "", edited_at=now))
            row.text, row.mentions, row.edited_at = text, find_mentions(text), now
            await session.flush()
            reactions = await summaries_for(session, [row.id], None)
            event = message_record(row, reactions.get(row.id, []))
            await uow.log(
                ServerEvent.MESSAGE_EDITED,
                MessageNewEvent.model_validate(event.model_dump()),
                rooms=[conversation_room(row.conversation_id)],
                conversation_id=row.conversation_id,
            )
        mine = await summaries_for(session, [row.id], caller_id)
        return message_record(row, mine.get(row.id, []))


async def message_edits(
    context: ServerContext, caller_id: str, message_id: str
) -> list[MessageEdit]:
    """Earlier texts of a message the caller can see, oldest first (none once deleted)."""
    async with context.db.read() as session:
        row, _conversation, _member = await access.require_message(session, caller_id, message_id)
        edits = await session.scalars(
            select(models.MessageEdit)
            .where(models.MessageEdit.message_id == row.id)
            .order_by(models.MessageEdit.edited_at, models.MessageEdit.id)
        )
        return [
            MessageEdit(message_id=edit.message_id, text=edit.text, edited_at=edit.edited_at)
            for edit in edits
        ]


async def delete_message(
    context: ServerContext, caller_id: str, message_id: str, conversation_id: str | None
) -> None:
    """Soft-delete a message: its text, media and edit history are removed, its id and seq stay.
    The sender may delete; in groups also owners and admins. Deleting twice is a no-op.

    Its pins and reactions go too (``message_unpinned`` / ``reaction_removed`` follow
    ``message_deleted``). Refusals: NOT_FOUND (also when ``conversation_id`` is not the
    message's), FORBIDDEN."""
    async with context.db.write() as uow:
        session = uow.session
        row, conversation, member = await access.require_message(session, caller_id, message_id)
        if conversation_id is not None and row.conversation_id != conversation_id:
            raise not_found("message")
        if row.sender_id != caller_id and not access.may_moderate(conversation, member):
            raise ApiError(ErrorCode.FORBIDDEN, "you may only delete your own messages")
        if row.deleted_at is not None:
            return
        if row.sender_id != caller_id:
            details = {"message_id": row.id}
            audit.record(
                uow, row.conversation_id, caller_id, "delete_message", row.sender_id, details
            )
        now = utcnow()
        row.text, row.mentions, row.deleted_at, row.deleted_by = None, [], now, caller_id
        row.media_url = row.media_mime = None
        row.media_size = None
        row.media_duration_s = None
        row.media_waveform = None
        await session.execute(
            delete(models.MessageEdit).where(models.MessageEdit.message_id == row.id)
        )
        await uow.log(
            ServerEvent.MESSAGE_DELETED,
            MessageDeletedEvent(
                message_id=row.id,
                conversation_id=row.conversation_id,
                deleted_at=now,
                deleted_by=caller_id,
            ),
            rooms=[conversation_room(row.conversation_id)],
            conversation_id=row.conversation_id,
        )
        await unpin_deleted(uow, row, caller_id)
        await drop_reactions(uow, row)
