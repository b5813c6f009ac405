"""One batch of queued sends in one transaction: the checks of every item with one query per
kind of fact (conversations, memberships, earlier client ids, direct-chat peers and their
blocks, reply targets), then the seq allocation, the message rows and their ``message_new``
event-log rows for the items that passed.

Synchronous SQLAlchemy Core on one connection: the send queue runs it in the SQLite writer's
thread, or on PostgreSQL through ``AsyncConnection.run_sync`` (see ``Database.batch``).
"""

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, cast

from pydantic import TypeAdapter

from protocol.errors import ErrorCode
from protocol.events import ServerEvent
from protocol.models import ConversationType, MessageType
from protocol.text import find_mentions
from server.db.models import new_ids
from server.db.types import utcnow
from server.errors import ApiError, not_found
from server.services import access


@dataclass(frozen=True)
class SendRequest:
    """One ``send_message`` / ``POST /messages`` (text already sanitised and validated)."""

    sender_id: str
    conversation_id: str
    text: str
    client_id: str
    reply_to_id: str | None = None


@dataclass(frozen=True)
class Refused:
    """The send is answered with ``error``."""

    error: ApiError


@dataclass(frozen=True)
class AlreadyStored:
    """The sender's earlier message with this client id answers the send."""

    message_id: str


class Accepted:
    """Every check passed: the message is stored (unless the rate limit refuses it)."""


class Deferred:
    """An earlier item of the batch has the same (sender, client id): this one waits for the
    next batch, whose checks see what became of the first."""


ACCEPTED = Accepted()
DEFERRED = Deferred()
Verdict = Refused | AlreadyStored | Accepted | Deferred


@dataclass(frozen=True)
class Written:
    """A stored message: its socket form (camelCase, as acked) and its event-log id."""

    payload: dict[str, Any]
    event_id: int


def client_id_reused() -> ApiError:
    """409 CONFLICT: the client id already names the sender's message in another conversation."""
    return ApiError(
        ErrorCode.CONFLICT, "this client id was already used for a message in another conversation"
    )


@dataclass(frozen=True)
class ConversationRow:
    """A conversation and one of its members (None: no member of interest)."""

    id: str
    room_type: str
    last_seq: int
    is_locked: bool
    user_id: str | None
    role: str | None
    muted_until: datetime | None


@dataclass(frozen=True)
class Membership:
    """What a member's send depends on."""

    role: str
    muted_until: datetime | None


@dataclass(frozen=True)
class Questions:
    """What the checks of a batch ask the database."""

    conversation_ids: list[str]
    sender_ids: list[str]
    keys: list[tuple[str, str]]
    """(sender, client id) of every send."""
    reply_ids: list[str]


@dataclass(frozen=True)
class Answers:
    """The rows the checks of a batch read (see ``BatchStore.read``)."""

    conversations: list[ConversationRow]
    """The conversations that exist among the asked ones, each locked until the commit: one
    row per member among the senders and, in direct chats, per member; one row with member
    None when none of them is a member."""
    earlier: list[tuple[str, str, str, str]]
    """``(id, conversation_id, sender_id, client_id)`` of the messages with the asked keys."""
    blocks: list[tuple[str, str]]
    """``(blocker, blocked)`` pairs between members of the asked direct chats."""
    reply_targets: list[tuple[str, str]]
    """``(id, conversation_id)`` of the messages that exist among the asked reply ids."""


class BatchStore(Protocol):
    """The database side of a batch (fixed SQL on PostgreSQL and on SQLite)."""

    def read(self, questions: Questions) -> Answers:
        """Everything the checks need (PostgreSQL: in one round trip)."""
        ...

    def save(
        self,
        conversations: list[dict[str, Any]],
        messages: list[dict[str, Any]],
        events: list[dict[str, Any]],
    ) -> list[int]:
        """Update the conversations (``id, last_seq, last_message_id, updated_at``), insert the
        messages and the events (``type, conversation_id, user_id, data, created_at``); returns
        the events' ids, increasing in the order given."""
        ...


@dataclass
class _Facts:
    """What the checks of one batch need, read with one query per kind."""

    room_types: dict[str, str]
    last_seq: dict[str, int]
    locked: set[str]
    members: dict[str, dict[str, Membership]]
    """Conversation -> the members read (the batch's senders; in direct chats both)."""
    earlier: dict[tuple[str, str], tuple[str, str]]
    """(sender, client id) -> (message id, conversation id)."""
    blocked_pairs: set[tuple[str, str]]
    """(blocker, blocked) among the senders and their direct-chat peers."""
    reply_targets: dict[str, str]
    """Message id -> its conversation."""

    @classmethod
    def read(cls, store: BatchStore, requests: Sequence[SendRequest]) -> "_Facts":
        room_types: dict[str, str] = {}
        last_seq: dict[str, int] = {}
        locked: set[str] = set()
        members: defaultdict[str, dict[str, Membership]] = defaultdict(dict)
        answers = store.read(
            Questions(
                conversation_ids=list({request.conversation_id for request in requests}),
                sender_ids=list({request.sender_id for request in requests}),
                keys=list({(request.sender_id, request.client_id) for request in requests}),
                reply_ids=list(
                    {request.reply_to_id for request in requests if request.reply_to_id}
                ),
            )
        )
        for row in answers.conversations:
            room_types[row.id] = row.room_type
            last_seq[row.id] = row.last_seq
            if row.is_locked:
                locked.add(row.id)
            if row.user_id is not None and row.role is not None:
                members[row.id][row.user_id] = Membership(row.role, row.muted_until)
        earlier = {
            (sender, client): (message_id, conversation_id)
            for message_id, conversation_id, sender, client in answers.earlier
        }
        return cls(
            room_types,
            last_seq,
            locked,
            members,
            earlier,
            set(answers.blocks),
            dict(answers.reply_targets),
        )

    def verdict(self, request: SendRequest, now: datetime) -> Verdict:
        cid, sender = request.conversation_id, request.sender_id
        if cid not in self.room_types:
            return Refused(not_found("conversation"))
        members = self.members.get(cid, {})
        membership = members.get(sender)
        if membership is None:
            return Refused(access.not_a_member())
        earlier = self.earlier.get((sender, request.client_id))
        if earlier is not None:
            message_id, earlier_conversation = earlier
            if earlier_conversation != cid:
                return Refused(client_id_reused())
            return AlreadyStored(message_id)
        refusal = access.send_refusal(
            membership.role, membership.muted_until, cid in self.locked, now
        )
        if refusal is not None:
            return Refused(refusal)
        if self.room_types[cid] == ConversationType.DIRECT and any(
            (sender, peer) in self.blocked_pairs or (peer, sender) in self.blocked_pairs
            for peer in members
            if peer != sender
        ):
            return Refused(access.blocked())
        if request.reply_to_id and self.reply_targets.get(request.reply_to_id) != cid:
            return Refused(not_found("reply target"))
        return ACCEPTED


@dataclass(frozen=True)
class Checked:
    """The verdicts of a batch, in order, and each conversation's last seq as read (current
    until the commit: the rows are locked)."""

    verdicts: list[Verdict]
    last_seq: dict[str, int]


def check_batch(store: BatchStore, requests: Sequence[SendRequest]) -> Checked:
    """Each request's verdict, in order. Checks per item: the conversation exists (NOT_FOUND) ->
    the sender is a member (NOT_A_MEMBER) -> an earlier message with this client id answers it
    (CONFLICT when that one is in another conversation) -> the sender is not muted and the group
    not locked to them (MUTED, LOCKED) -> no block between the two members of a direct chat
    (BLOCKED) -> the reply target is in the conversation (NOT_FOUND)."""
    facts = _Facts.read(store, requests)
    now = utcnow()
    seen: set[tuple[str, str]] = set()
    verdicts: list[Verdict] = []
    for request in requests:
        key = (request.sender_id, request.client_id)
        verdicts.append(DEFERRED if key in seen else facts.verdict(request, now))
        seen.add(key)
    return Checked(verdicts, facts.last_seq)


def write_batch(
    store: BatchStore, requests: Sequence[SendRequest], checked: Checked
) -> list[Written]:
    """Store ``requests`` (all checked) in order: each conversation's next seqs, the message
    rows and their ``message_new`` events, whose ids increase in request order."""
    now = utcnow()
    created_at = _json_time(now)
    conversation_ids = sorted({request.conversation_id for request in requests})
    last_seq = {cid: checked.last_seq[cid] for cid in conversation_ids}
    last_message: dict[str, str] = {}
    messages: list[dict[str, Any]] = []
    payloads: list[dict[str, Any]] = []
    for request, message_id in zip(requests, new_ids(len(requests)), strict=True):
        cid = request.conversation_id
        seq = last_seq[cid] = last_seq[cid] + 1
        last_message[cid] = message_id
        mentions = find_mentions(request.text)
        messages.append(
            {
                "id": message_id,
                "conversation_id": cid,
                "sender_id": request.sender_id,
                "seq": seq,
                "client_id": request.client_id,
                "message_type": MessageType.TEXT.value,
                "text": request.text,
                "reply_to_id": request.reply_to_id,
                "mentions": mentions,
                "created_at": now,
            }
        )
        payloads.append(new_message_payload(message_id, request, seq, mentions, created_at))
    conversations = [
        {
            "id": cid,
            "last_seq": last_seq[cid],
            "last_message_id": last_message[cid],
            "updated_at": now,
        }
        for cid in conversation_ids
    ]
    events = [
        {
            "type": ServerEvent.MESSAGE_NEW.value,
            "conversation_id": payload["conversationId"],
            "user_id": None,
            "data": payload,
            "created_at": now,
        }
        for payload in payloads
    ]
    event_ids = store.save(conversations, messages, events)
    return [
        Written(payload, event_id) for payload, event_id in zip(payloads, event_ids, strict=True)
    ]


_TIME = TypeAdapter(datetime)


def _json_time(moment: datetime) -> str:
    """``moment`` as every other payload serialises it (pydantic's JSON form)."""
    return cast(str, _TIME.dump_python(moment, mode="json"))


def new_message_payload(
    message_id: str, request: SendRequest, seq: int, mentions: list[str], created_at: str
) -> dict[str, Any]:
    """A new text message in its socket form (``MessagePayload`` dumped as JSON, camelCase),
    built directly: the ack, the ``message_new`` emit (plus ``eventId``) and the event log's
    ``data`` all use it."""
    return {
        "id": message_id,
        "conversationId": request.conversation_id,
        "senderId": request.sender_id,
        "seq": seq,
        "type": MessageType.TEXT.value,
        "text": request.text,
        "clientId": request.client_id,
        "replyToId": request.reply_to_id,
        "forwardedFrom": None,
        "mentions": mentions,
        "mediaUrl": None,
        "mediaMime": None,
        "mediaSize": None,
        "mediaDurationS": None,
        "mediaWaveform": None,
        "createdAt": created_at,
        "editedAt": None,
        "deletedAt": None,
        "reactions": [],
    }
