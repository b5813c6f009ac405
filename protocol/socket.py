"""Socket.IO payloads (camelCase, as in the seeds' event catalogue).

Client -> server payloads are validated with these models; a malformed one is answered through the
ack with ``{"error": {"code": "VALIDATION_ERROR", "message": ...}}``. Server -> client payloads are
built from the domain records of ``protocol.models`` re-exposed in camelCase, plus ``eventId``.
"""

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from protocol import limits
from protocol.models import (
    ForwardOrigin,
    MemberLeftReason,
    MemberRole,
    Message,
    PresenceStatus,
    ReactionSummary,
)
from protocol.rest import Identifier, MessageText


class Camel(BaseModel):
    """Base of socket payloads: camelCase on the wire, snake_case in Python."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        validate_by_name=True,
        validate_by_alias=True,
        serialize_by_alias=True,
        extra="ignore",
    )


class ClientPayload(Camel):
    """Base of client -> server payloads: unknown fields are refused."""

    model_config = ConfigDict(extra="forbid")


# --- client -> server ---------------------------------------------------------------------------


class SendMessagePayload(ClientPayload):
    """``send_message``: ack is the stored message (camelCase) or an error."""

    conversation_id: Identifier
    text: MessageText
    client_id: Identifier
    reply_to_id: Identifier | None = None


class EditMessagePayload(ClientPayload):
    """``edit_message``: ack is the edited message."""

    message_id: Identifier
    text: MessageText


class DeleteMessagePayload(ClientPayload):
    """``delete_message``: ack is ``{"ok": true}``."""

    message_id: Identifier
    conversation_id: Identifier | None = None


class ReactionPayload(ClientPayload):
    """``add_reaction`` / ``remove_reaction``: ack is ``{"reactions": [...]}``."""

    message_id: Identifier
    emoji: str = Field(min_length=1, max_length=16)


class TypingPayload(ClientPayload):
    """``typing_start`` / ``typing_stop``."""

    conversation_id: Identifier


class MarkReadPayload(ClientPayload):
    """``mark_read``: everything up to and including ``message_id`` is read."""

    conversation_id: Identifier
    message_id: Identifier


class MessageDeliveredPayload(ClientPayload):
    """``message_delivered``: the receiver stored everything up to ``message_id``."""

    conversation_id: Identifier
    message_id: Identifier


class SetPresencePayload(ClientPayload):
    """``set_presence``: this socket's own state (``away`` when the app is in the background or
    idle, ``online`` when the user is back). Ack is ``{"ok": true}``."""

    status: Literal["online", "away"]


class ForwardMessagePayload(ClientPayload):
    """``forward_message``: ack is ``{"messages": [...]}``."""

    message_ids: list[Identifier] = Field(min_length=1, max_length=limits.MAX_FORWARD_MESSAGES)
    target_conversation_ids: list[Identifier] = Field(
        min_length=1, max_length=limits.MAX_FORWARD_TARGETS
    )
    client_id: Identifier | None = None
    """Makes a retried forward return the first attempt's messages (see ``ForwardRequest``)."""


# --- server -> client ---------------------------------------------------------------------------


class CamelReaction(ReactionSummary, Camel):
    """A reaction summary in camelCase."""


class CamelForwardOrigin(ForwardOrigin, Camel):
    """A forward origin in camelCase."""


class MessagePayload(Message, Camel):
    """A message in camelCase (``send_message`` ack, ``message_new``, ``message_edited``)."""

    forwarded_from: CamelForwardOrigin | None = None
    reactions: list[CamelReaction] = Field(default_factory=list)  # type: ignore[assignment]


class Logged(Camel):
    """A server event written to the event log."""

    event_id: int = 0


class MessageNewEvent(MessagePayload, Logged):
    """``message_new`` and ``message_edited``: the whole message."""


class MessageDeletedEvent(Logged):
    """``message_deleted``."""

    message_id: str
    conversation_id: str
    deleted_at: datetime
    deleted_by: str


class ReactionEvent(Logged):
    """``reaction_added`` / ``reaction_removed``: ``reactions`` replaces the message's summary.

    ``reacted_by_me`` in it is always false: each client derives it from ``user_ids``.
    """

    message_id: str
    conversation_id: str
    emoji: str
    user_id: str
    reactions: list[CamelReaction]


class ReceiptEvent(Logged):
    """``message_read`` / ``message_delivered``: ``user_id`` has read (or stored) every message of
    the conversation up to ``seq``."""

    conversation_id: str
    user_id: str
    message_id: str
    seq: int
    at: datetime


class PinEvent(Logged):
    """``message_pinned`` / ``message_unpinned``."""

    conversation_id: str
    message_id: str
    pinned_by: str
    pinned_message_ids: list[str]


class SettingsEvent(Logged):
    """``settings_updated``: sent to the user's own devices only."""

    conversation_id: str
    is_pinned: bool
    pin_rank: int | None = None
    is_archived: bool
    muted_until: datetime | None = None
    is_muted: bool
    notifications_on: bool


class ConversationEvent(Logged):
    """``conversation_updated``: a new conversation (refetch it) or a changed title or lock (the
    fields that changed are set). ``actor_id`` is who changed it."""

    conversation_id: str
    title: str | None = None
    locked: bool | None = None
    allow_forward_out: bool | None = None
    actor_id: str | None = None
    user_id: str | None = None
    role: MemberRole | None = None


class MemberEvent(Logged):
    """``member_joined`` / ``member_left`` / ``member_updated``: ``user_id``'s membership of a
    group changed (by ``actor_id``; on leaving, ``reason`` says how). ``member_left`` also reaches
    the user who left, so their devices drop the conversation."""

    conversation_id: str
    user_id: str
    role: MemberRole | None = None
    actor_id: str | None = None
    muted_until: datetime | None = None
    reason: MemberLeftReason | None = None
    banned_until: datetime | None = None


class BlockEvent(Logged):
    """``user_blocked`` / ``user_unblocked``: private to the blocker's devices."""

    user_id: str


class TypingEvent(Camel):
    """``typing_indicator`` (not logged): ``is_typing`` false means stopped; else it expires
    after ``ttl`` seconds unless renewed."""

    conversation_id: str
    user_id: str
    display_name: str
    is_typing: bool = True
    ttl: float = limits.TYPING_TTL_SECONDS


class RoomLockedEvent(Camel):
    """``room_locked`` (not logged): the group was locked or unlocked."""

    conversation_id: str
    locked: bool


class MemberRoleChangedEvent(Camel):
    """``member_role_changed`` (not logged): ``user_id`` is now ``new_role`` in the group."""

    conversation_id: str
    user_id: str
    new_role: MemberRole


class PresenceEvent(Camel):
    """``presence_update`` (not logged)."""

    user_id: str
    status: PresenceStatus
    last_seen_at: datetime | None = None
