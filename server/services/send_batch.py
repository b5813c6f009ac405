"""One batch of queued sends: the checks of every item with one query per kind of fact
(conversations, memberships, earlier client ids, direct-chat peers and their blocks, reply
targets), then the seq allocation, the message rows and their ``message_new`` event-log rows for
the items that passed. On SQLite both steps run in one transaction that holds the write lock; on
PostgreSQL each is one statement of its own, and the write skips every conversation whose
``access_version`` moved since the checks read it, or one of whose drafts has a client id its
sender has stored meanwhile (its sends are checked again). So on PostgreSQL the checks may also
rest on facts an earlier batch read (``access_cache``): the write refuses what they got wrong.

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
    access_version: int
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
    """The conversations that exist among the asked ones: one row per member among the senders
    and, in direct chats, per member; one row with member None when none of them is a member."""
    earlier: list[tuple[str, str, str, str]]
    """``(id, conversation_id, sender_id, client_id)`` of the messages with the asked keys."""
    blocks: list[tuple[str, str]]
    """``(blocker, blocked)`` pairs between members of the asked direct chats."""
    reply_targets: list[tuple[str, str]]
    """``(id, conversation_id)`` of the messages that exist among the asked reply ids."""


@dataclass(frozen=True)
class Draft:
    """A checked send about to be stored."""

    message_id: str
    request: SendRequest
    mentions: list[str]
    rank: int
    """1 for the batch's first message to its conversation, 2 for the next, ...: its seq is the
    conversation's last seq before the batch plus ``rank``."""


@dataclass(frozen=True)
class ConversationWrite:
    """What a batch writes to one conversation, and the state its checks saw."""

    id: str
    count: int
    last_message_id: str
    access_version: int
    is_locked: bool


@dataclass(frozen=True)
class NewMessages:
    """The checked sends of a batch, in order, and their conversations."""

    at: datetime
    created_at: str
    """``at`` as the payloads carry it (pydantic's JSON form)."""
    conversations: list[ConversationWrite]
    drafts: list[Draft]

    def payload(self, draft: Draft, seq: int) -> dict[str, Any]:
        """``draft`` as stored with ``seq``, in its socket form."""
        return new_message_payload(
            draft.message_id, draft.request, seq, draft.mentions, self.created_at
        )

    def message_row(self, draft: Draft) -> dict[str, Any]:
        """The ``messages`` row of ``draft`` without its seq (every row shares ``at``)."""
        request = draft.request
        return {
            "id": draft.message_id,
            "conversation_id": request.conversation_id,
            "sender_id": request.sender_id,
            "client_id": request.client_id,
            "message_type": MessageType.TEXT.value,
            "text": request.text,
            "reply_to_id": request.reply_to_id,
            "mentions": draft.mentions,
        }


class BatchStore(Protocol):
    """The database side of a batch (fixed SQL on PostgreSQL and on SQLite)."""

    def read(self, questions: Questions) -> Answers:
        """Everything the checks need (PostgreSQL: in one round trip)."""
        ...

    def save(self, new: NewMessages) -> "list[Written | None]":
        """Give each conversation its next seqs and last message, insert the messages and their
        ``message_new`` events (ids increasing in draft order). Each draft's result, in order;
        None where its conversation was skipped because its ``access_version`` or ``is_locked``
        is no longer what the checks read, or because one of its drafts has a (sender, client
        id) that is stored already (PostgreSQL; on SQLite the checks and the write share one
        locked transaction, so nothing is skipped)."""
        ...


@dataclass
class Facts:
    """What the checks of one batch need: read with one query per kind (``read``), or known
    from earlier batches (``access_cache``)."""

    room_types: dict[str, str]
    access_versions: dict[str, int]
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
    def read(cls, store: BatchStore, requests: Sequence[SendRequest]) -> "Facts":
        """Read what the checks of ``requests`` need."""
        room_types: dict[str, str] = {}
        access_versions: dict[str, int] = {}
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
            access_versions[row.id] = row.access_version
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
            access_versions,
            locked,
            members,
            earlier,
            set(answers.blocks),
            dict(answers.reply_targets),
        )

    def verdict(self, request: SendRequest, now: datetime) -> Verdict:
        """``request``'s verdict from these facts (see ``check_batch``)."""
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
    """The verdicts of a batch, in order, and the facts they rest on (the write keeps to each
    conversation's ``access_version`` and ``is_locked`` as these saw them)."""

    verdicts: list[Verdict]
    facts: Facts


def check_batch(store: BatchStore, requests: Sequence[SendRequest]) -> Checked:
    """Each request's verdict, in order. Checks per item: the conversation exists (NOT_FOUND) ->
    the sender is a member (NOT_A_MEMBER) -> an earlier message with this client id answers it
    (CONFLICT when that one is in another conversation) -> the sender is not muted and the group
    not locked to them (MUTED, LOCKED) -> no block between the two members of a direct chat
    (BLOCKED) -> the reply target is in the conversation (NOT_FOUND)."""
    return judge(Facts.read(store, requests), requests)


def judge(facts: Facts, requests: Sequence[SendRequest]) -> Checked:
    """Each request's verdict from ``facts``, in order (see ``check_batch``); a request whose
    (sender, client id) an earlier one of the batch has is ``DEFERRED``."""
    now = utcnow()
    seen: set[tuple[str, str]] = set()
    verdicts: list[Verdict] = []
    for request in requests:
        key = (request.sender_id, request.client_id)
        verdicts.append(DEFERRED if key in seen else facts.verdict(request, now))
        seen.add(key)
    return Checked(verdicts, facts)


def write_batch(
    store: BatchStore, requests: Sequence[SendRequest], checked: Checked
) -> list[Written | None]:
    """Store ``requests`` (all checked) in order: each conversation's next seqs, the message
    rows and their ``message_new`` events, whose ids increase in request order. None for each
    request whose conversation changed since the checks (see ``BatchStore.save``)."""
    ranks: defaultdict[str, int] = defaultdict(int)
    last_message: dict[str, str] = {}
    drafts: list[Draft] = []
    for request, message_id in zip(requests, new_ids(len(requests)), strict=True):
        cid = request.conversation_id
        ranks[cid] += 1
        last_message[cid] = message_id
        drafts.append(Draft(message_id, request, find_mentions(request.text), ranks[cid]))
    facts = checked.facts
    conversations = [
        ConversationWrite(
            cid, count, last_message[cid], facts.access_versions[cid], cid in facts.locked
        )
        for cid, count in sorted(ranks.items())
    ]
    now = utcnow()
    return store.save(NewMessages(now, _json_time(now), conversations, drafts))


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
