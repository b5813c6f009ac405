"""Domain records as they travel on the wire (snake_case; REST uses them as they are).

Socket payloads re-expose the same records in camelCase (see ``protocol.socket``).
Timestamps are timezone-aware UTC datetimes serialised as ISO 8601. Ids are UUID strings, except
``seq`` (per-conversation message order) and event ids (global event-log order), which are integers.
"""

from datetime import datetime
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

# The enumerations live in a module of their own, without pydantic, so the cache can read rows
# into them without importing pydantic at start-up; they are re-exported here, with the records.
from protocol.enums import ConversationType as ConversationType
from protocol.enums import MemberLeftReason as MemberLeftReason
from protocol.enums import MemberRole as MemberRole
from protocol.enums import MessageType as MessageType
from protocol.enums import PresenceStatus as PresenceStatus

T = TypeVar("T")


class Record(BaseModel):
    """Base of every wire record: unknown fields are ignored so older clients keep working."""

    model_config = ConfigDict(extra="ignore")


class User(Record):
    """A user as others see them."""

    id: str
    username: str
    display_name: str
    created_at: datetime | None = None


class ForwardOrigin(Record):
    """Where a forwarded message came from (shown as "Forwarded from …")."""

    message_id: str | None = None
    sender_name: str
    conversation_title: str | None = None


class ReactionSummary(Record):
    """One emoji's reactions on a message, from the caller's point of view."""

    emoji: str
    count: int
    reacted_by_me: bool = False
    user_ids: list[str] = Field(default_factory=list)


class Message(Record):
    """A stored message. Deleted messages keep their id and seq but carry no text."""

    id: str
    conversation_id: str
    sender_id: str
    seq: int
    type: MessageType = MessageType.TEXT
    text: str | None = None
    client_id: str | None = None
    reply_to_id: str | None = None
    forwarded_from: ForwardOrigin | None = None
    mentions: list[str] = Field(default_factory=list)
    media_url: str | None = None
    media_mime: str | None = None
    media_size: int | None = None
    media_duration_s: float | None = None
    media_waveform: list[float] | None = None
    created_at: datetime
    edited_at: datetime | None = None
    deleted_at: datetime | None = None
    reactions: list[ReactionSummary] = Field(default_factory=list)


class MessageEdit(Record):
    """One earlier version of an edited message."""

    message_id: str
    text: str
    edited_at: datetime


class ConversationSettings(Record):
    """The caller's own settings for a conversation (never another user's)."""

    is_pinned: bool = False
    pin_rank: int | None = None
    is_archived: bool = False
    muted_until: datetime | None = None
    is_muted: bool = False
    notifications_on: bool = True
    last_read_at: datetime | None = None
    last_read_message_id: str | None = None


class Member(Record):
    """A member of a conversation."""

    user: User
    role: MemberRole = MemberRole.MEMBER
    joined_at: datetime
    last_read_seq: int = 0
    last_delivered_seq: int = 0
    muted_until: datetime | None = None
    """Set while an admin has muted this member (no posting until then)."""


class MessageReceipt(Record):
    """How far one member of a message's conversation got with it."""

    user: User
    delivered: bool = False
    """A device of theirs stored the message."""
    read: bool = False
    delivered_at: datetime | None = None
    """When it was first delivered (None while not, or once the event log no longer says)."""
    read_at: datetime | None = None
    """When it was first read (None while unread, or once the event log no longer says)."""


class GroupBan(Record):
    """A user banned from a group, until ``banned_until`` (None: until an admin lifts it)."""

    user: User
    banned_until: datetime | None = None
    banned_at: datetime


class AuditEntry(Record):
    """One entry of a group's audit log: ``actor_id`` did ``action`` (to ``target_id``)."""

    id: str
    actor_id: str
    target_id: str | None = None
    action: str
    details: dict[str, Any] = Field(default_factory=dict)
    created_at: datetime


class Conversation(Record):
    """A conversation from the caller's point of view."""

    id: str
    type: ConversationType
    title: str | None = None
    """Group title; for a direct chat, the other person's display name."""
    peer: User | None = None
    """The other person of a direct chat."""
    created_at: datetime
    updated_at: datetime
    last_message: Message | None = None
    last_seq: int = 0
    unread_count: int = 0
    my_role: MemberRole = MemberRole.MEMBER
    locked: bool = False
    """A locked group lets only its owner and admins post."""
    allow_forward_out: bool = True
    """False when the group's owner does not let its messages be forwarded elsewhere."""
    member_count: int = 0
    pinned_message_ids: list[str] = Field(default_factory=list)
    settings: ConversationSettings = Field(default_factory=ConversationSettings)


class Page(Record, Generic[T]):
    """A cursor-paginated list: pass ``next_cursor`` back as ``cursor`` for the next page."""

    items: list[T]
    next_cursor: str | None = None
    has_more: bool = False


class SearchHit(Record):
    """A search result: the message, where the query matched, and a highlighted snippet."""

    message: Message
    conversation_title: str | None = None
    snippet: str
    """An excerpt of the text with each match wrapped in ``[[`` and ``]]``."""
    match_offsets: list[tuple[int, int]] = Field(default_factory=list)
    """``(start, end)`` character offsets of each match in ``message.text``."""
    rank: float = 0.0


class SyncEvent(Record):
    """One entry of the event log: ``type`` is the socket event name, ``data`` its payload."""

    id: int
    type: str
    conversation_id: str | None = None
    data: dict[str, object]
    created_at: datetime | None = None


class SyncPage(Record):
    """A page of ``GET /sync``: apply ``events`` in order, then ask again from ``next``."""

    events: list[SyncEvent]
    next: int
    has_more: bool
