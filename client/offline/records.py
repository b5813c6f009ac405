"""Typed rows the cache returns (plain dataclasses; the UI and store read them, never SQL rows).

Start-up reads the chat list through this module, so it imports no pydantic: the wire models a
message row holds (reactions, forward origin) are imported where a message is built, and by then
the network path has usually imported them already (``tests/unit/test_cold_start.py``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from protocol.enums import MessageType

if TYPE_CHECKING:
    from protocol.models import ForwardOrigin, ReactionSummary


class MessageStatus(StrEnum):
    """Where a message is on its way. Own messages: pending -> sent -> delivered -> read, or
    failed; messages from others are ``received``."""

    PENDING = "pending"
    SENT = "sent"
    DELIVERED = "delivered"
    READ = "read"
    FAILED = "failed"
    RECEIVED = "received"


def to_iso(value: datetime) -> str:
    """Serialise a timestamp as UTC ISO 8601 (naive values are taken as UTC), so stored
    timestamps sort correctly as text."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat()


def from_iso(value: str | None) -> datetime | None:
    """Parse a timestamp stored by ``to_iso``."""
    return datetime.fromisoformat(value) if value else None


def _reactions(raw: str, me: str) -> list[ReactionSummary]:
    from protocol.models import ReactionSummary  # pydantic: not on the start-up path

    items: list[dict[str, Any]] = json.loads(raw)
    return [
        ReactionSummary(
            emoji=item["emoji"],
            count=item["count"],
            user_ids=item["user_ids"],
            reacted_by_me=bool(item.get("reacted_by_me")) or me in item["user_ids"],
        )
        for item in items
    ]


def _forward_origin(raw: str) -> ForwardOrigin:
    from protocol.socket import CamelForwardOrigin  # pydantic: not on the start-up path

    return CamelForwardOrigin.model_validate_json(raw)


@dataclass(frozen=True, slots=True)
class CachedMessage:
    """A message as the cache holds it; ``id`` and ``seq`` are None until the server stored it."""

    local_id: int
    id: str | None
    client_id: str | None
    conversation_id: str
    sender_id: str
    seq: int | None
    position: int
    """The ordering key (keyset paging cursor): ``seq``, or after every seq while unsent."""
    type: MessageType
    text: str | None
    status: MessageStatus
    failure_code: str | None
    failure_reason: str | None
    reply_to_id: str | None
    forwarded_from: ForwardOrigin | None
    mentions: list[str]
    media_url: str | None
    media_mime: str | None
    media_size: int | None
    media_duration_s: float | None
    media_waveform: list[float] | None
    reactions: list[ReactionSummary]
    created_at: datetime
    edited_at: datetime | None
    deleted: bool
    deleted_at: datetime | None

    @property
    def is_unsent(self) -> bool:
        """True while the message is pending or failed (it has no server id yet)."""
        return self.status in (MessageStatus.PENDING, MessageStatus.FAILED)

    @classmethod
    def from_row(cls, row: Mapping[str, Any], me: str) -> CachedMessage:
        """Build from a ``messages`` row (``me`` decides ``reacted_by_me``)."""
        forwarded = row["forwarded_from"]
        waveform = row["media_waveform"]
        created_at = from_iso(row["created_at"])
        assert created_at is not None
        return cls(
            local_id=row["local_id"],
            id=row["id"],
            client_id=row["client_id"],
            conversation_id=row["conversation_id"],
            sender_id=row["sender_id"],
            seq=row["seq"],
            position=row["position"],
            type=MessageType(row["type"]),
            text=row["text"],
            status=MessageStatus(row["status"]),
            failure_code=row["failure_code"],
            failure_reason=row["failure_reason"],
            reply_to_id=row["reply_to_id"],
            forwarded_from=_forward_origin(forwarded) if forwarded else None,
            mentions=json.loads(row["mentions"]),
            media_url=row["media_url"],
            media_mime=row["media_mime"],
            media_size=row["media_size"],
            media_duration_s=row["media_duration_s"],
            media_waveform=json.loads(waveform) if waveform else None,
            reactions=_reactions(row["reactions"], me),
            created_at=created_at,
            edited_at=from_iso(row["edited_at"]),
            deleted=bool(row["deleted"]),
            deleted_at=from_iso(row["deleted_at"]),
        )


@dataclass(frozen=True, slots=True)
class MessagePreview:
    """The last message of a conversation as the chat list shows it."""

    sender_id: str
    text: str | None
    type: MessageType
    status: MessageStatus
    deleted: bool
    created_at: datetime


@dataclass(frozen=True, slots=True)
class ChatRow:
    """One row of the chat list: the conversation, its last message, badge, settings, draft."""

    id: str
    type: str
    title: str | None
    peer_id: str | None
    my_role: str
    member_count: int
    last_seq: int
    last_read_seq: int
    unread_count: int
    last_activity_at: datetime
    is_pinned: bool
    pin_rank: int | None
    is_archived: bool
    is_muted: bool
    muted_until: datetime | None
    notifications_on: bool
    last_message: MessagePreview | None
    draft: str | None
    locked: bool = False
    """A locked group lets only its owner and admins post."""

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> ChatRow:
        """Build from the chat-list query's row (``lm_*`` columns are the last message)."""
        preview = None
        if row["lm_sender_id"] is not None:
            lm_created = from_iso(row["lm_created_at"])
            assert lm_created is not None
            preview = MessagePreview(
                sender_id=row["lm_sender_id"],
                text=row["lm_text"],
                type=MessageType(row["lm_type"]),
                status=MessageStatus(row["lm_status"]),
                deleted=bool(row["lm_deleted"]),
                created_at=lm_created,
            )
        activity = from_iso(row["last_activity_at"])
        assert activity is not None
        return cls(
            id=row["id"],
            type=row["type"],
            title=row["title"],
            peer_id=row["peer_id"],
            my_role=row["my_role"],
            member_count=row["member_count"],
            last_seq=row["last_seq"],
            last_read_seq=row["last_read_seq"],
            unread_count=row["unread_count"],
            last_activity_at=activity,
            is_pinned=bool(row["is_pinned"]),
            pin_rank=row["pin_rank"],
            is_archived=bool(row["is_archived"]),
            is_muted=bool(row["is_muted"]),
            muted_until=from_iso(row["muted_until"]),
            notifications_on=bool(row["notifications_on"]),
            last_message=preview,
            draft=row["draft_text"],
            locked=bool(row["locked"]),
        )


@dataclass(frozen=True, slots=True)
class MemberRow:
    """A member of a conversation with their read and delivered positions."""

    user_id: str
    username: str | None
    display_name: str | None
    role: str
    last_read_seq: int
    last_delivered_seq: int
    muted_until: datetime | None = None
    """Set while an admin has muted the member (no posting until then)."""


@dataclass(frozen=True, slots=True)
class Draft:
    """The unsent text of a conversation's composer."""

    conversation_id: str
    text: str
    reply_to_id: str | None


@dataclass(frozen=True, slots=True)
class SearchResult:
    """A local search hit: the message, its conversation's title, a ``[[highlighted]]`` snippet,
    the ``(start, end)`` offsets of each match in the text, and its bm25 rank (lower is
    better)."""

    message: CachedMessage
    conversation_title: str | None
    snippet: str
    match_offsets: list[tuple[int, int]]
    rank: float


@dataclass(frozen=True, slots=True)
class OutboxCounts:
    """How many items wait to be sent and how many failed (the UI's outbox badge)."""

    pending: int
    failed: int
