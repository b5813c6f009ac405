"""SQLAlchemy models: the whole schema (document 001 §1 plus users, tokens, conversations,
messages with edit history, read state, pins and the event log).

Search lives outside the ORM: an FTS5 table on SQLite and a generated tsvector column on
PostgreSQL, both created by the Alembic migration (see ``server/services/search.py``).
"""

import os
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from server.db.types import UTCDateTime, utcnow

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def new_id() -> str:
    """A fresh random id (UUID4 as text)."""
    return str(uuid.uuid4())


def new_ids(count: int) -> list[str]:
    """``count`` fresh random ids, as ``new_id`` makes them, from one read of the system's random
    source (``uuid4`` reads it, and builds a ``UUID``, once per id)."""
    raw = bytearray(os.urandom(16 * count))
    ids: list[str] = []
    for start in range(0, len(raw), 16):
        raw[start + 6] = (raw[start + 6] & 0x0F) | 0x40  # version 4
        raw[start + 8] = (raw[start + 8] & 0x3F) | 0x80  # RFC 4122 variant
        digits = raw[start : start + 16].hex()
        ids.append(f"{digits[:8]}-{digits[8:12]}-{digits[12:16]}-{digits[16:20]}-{digits[20:]}")
    return ids


class Base(DeclarativeBase):
    """Declarative base with stable constraint names for migrations."""

    metadata = MetaData(naming_convention=NAMING)


IdColumn = String(36)
BigId = BigInteger().with_variant(Integer, "sqlite")
"""Autoincrementing 64-bit ids (SQLite's INTEGER PRIMARY KEY is 64-bit already)."""


class User(Base):
    """An account."""

    __tablename__ = "users"

    id: Mapped[str] = mapped_column(IdColumn, primary_key=True, default=new_id)
    username: Mapped[str] = mapped_column(String(32), unique=True)
    display_name: Mapped[str] = mapped_column(String(64))
    password_hash: Mapped[str] = mapped_column(String(255))
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class RefreshToken(Base):
    """A refresh token (stored hashed). Rotated on every use; reuse revokes the family."""

    __tablename__ = "refresh_tokens"

    id: Mapped[str] = mapped_column(IdColumn, primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    family_id: Mapped[str] = mapped_column(IdColumn, index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class Conversation(Base):
    """A direct chat or a group (``room_type`` as in document 001 §1.6)."""

    __tablename__ = "conversations"

    id: Mapped[str] = mapped_column(IdColumn, primary_key=True, default=new_id)
    room_type: Mapped[str] = mapped_column(String(32), default="direct")
    title: Mapped[str | None] = mapped_column(String(100), nullable=True)
    direct_key: Mapped[str | None] = mapped_column(String(80), unique=True, nullable=True)
    """``"<smaller user id>:<larger user id>"`` for direct chats, so there is only one per pair."""
    created_by: Mapped[str | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    allow_forward_out: Mapped[bool] = mapped_column(
        Boolean, default=True, server_default=text("true")
    )
    is_locked: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    last_seq: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    """The seq of the newest message; the next message takes ``last_seq + 1``."""
    last_message_id: Mapped[str | None] = mapped_column(IdColumn, nullable=True)
    access_version: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    """PostgreSQL: bumped by triggers whenever who may post here changes (memberships, roles,
    admin mutes, blocks between direct-chat peers); a send batch checked without locks is
    written only while it is unchanged (migration 0004). Always 0 on SQLite."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ConversationMember(Base):
    """Membership, role and per-member read/delivery state."""

    __tablename__ = "conversation_members"
    __table_args__ = (
        UniqueConstraint("conversation_id", "user_id"),
        Index("idx_conversations_participants", "user_id", "conversation_id"),
    )

    id: Mapped[str] = mapped_column(IdColumn, primary_key=True, default=new_id)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(32), default="member")
    muted_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_read_seq: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    last_delivered_seq: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))


class ConversationBan(Base):
    """A user banned from a group: removed, and not to be added back before ``banned_until``
    (null: for good) unless an admin lifts the ban."""

    __tablename__ = "conversation_bans"
    __table_args__ = (UniqueConstraint("conversation_id", "user_id"),)

    id: Mapped[str] = mapped_column(IdColumn, primary_key=True, default=new_id)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    banned_by: Mapped[str | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    banned_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ConversationUserSettings(Base):
    """One user's own settings for one conversation (document 001 §1.2)."""

    __tablename__ = "conversation_user_settings"
    __table_args__ = (UniqueConstraint("conversation_id", "user_id"),)

    id: Mapped[str] = mapped_column(IdColumn, primary_key=True, default=new_id)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    is_pinned: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    pin_rank: Mapped[int | None] = mapped_column(Integer, nullable=True)
    is_archived: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    is_muted: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    muted_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    """With ``is_muted``: null means muted forever, else muted until then."""
    notifications_on: Mapped[bool] = mapped_column(
        Boolean, default=True, server_default=text("true")
    )
    last_read_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_read_message_id: Mapped[str | None] = mapped_column(IdColumn, nullable=True)


class Message(Base):
    """A message (document 001 §1.5 columns included). Deleted ones keep their row, no text."""

    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("conversation_id", "seq"),
        UniqueConstraint("sender_id", "client_id"),
        Index("idx_messages_conv_created", "conversation_id", text("created_at DESC")),
        Index(
            "idx_messages_type",
            "conversation_id",
            "message_type",
            postgresql_where=text("message_type != 'text'"),
            sqlite_where=text("message_type != 'text'"),
        ),
    )

    id: Mapped[str] = mapped_column(IdColumn, primary_key=True, default=new_id)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    sender_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    client_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    message_type: Mapped[str] = mapped_column(String(32), default="text")
    text: Mapped[str | None] = mapped_column(Text, nullable=True)
    reply_to_id: Mapped[str | None] = mapped_column(
        ForeignKey("messages.id", ondelete="SET NULL"), nullable=True
    )
    mentions: Mapped[list[str]] = mapped_column(JSON, default=list)
    media_url: Mapped[str | None] = mapped_column(Text, nullable=True)
    media_mime: Mapped[str | None] = mapped_column(String(64), nullable=True)
    media_size: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    media_duration_s: Mapped[float | None] = mapped_column(Float, nullable=True)
    media_waveform: Mapped[list[float] | None] = mapped_column(JSON, nullable=True)
    forwarded_from_message_id: Mapped[str | None] = mapped_column(
        ForeignKey("messages.id", ondelete="SET NULL"), nullable=True
    )
    forwarded_from_sender_name: Mapped[str | None] = mapped_column(Text, nullable=True)
    forwarded_from_room_name: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    edited_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    deleted_by: Mapped[str | None] = mapped_column(IdColumn, nullable=True)


class MessageEdit(Base):
    """A previous text of an edited message."""

    __tablename__ = "message_edits"

    id: Mapped[str] = mapped_column(IdColumn, primary_key=True, default=new_id)
    message_id: Mapped[str] = mapped_column(
        ForeignKey("messages.id", ondelete="CASCADE"), index=True
    )
    text: Mapped[str] = mapped_column(Text)
    edited_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    """When this text was replaced."""


class MessageReaction(Base):
    """One user's reaction with one emoji (document 001 §1.1)."""

    __tablename__ = "message_reactions"
    __table_args__ = (
        UniqueConstraint("message_id", "user_id", "emoji"),
        Index("idx_reactions_message", "message_id"),
    )

    id: Mapped[str] = mapped_column(IdColumn, primary_key=True, default=new_id)
    message_id: Mapped[str] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    emoji: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PinnedMessage(Base):
    """A message pinned to its conversation's header."""

    __tablename__ = "pinned_messages"
    __table_args__ = (UniqueConstraint("conversation_id", "message_id"),)

    id: Mapped[str] = mapped_column(IdColumn, primary_key=True, default=new_id)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    message_id: Mapped[str] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"))
    pinned_by: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    pinned_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class UserBlock(Base):
    """``blocker`` blocked ``blocked`` (document 001 §1.3); enforced in both directions."""

    __tablename__ = "user_blocks"
    __table_args__ = (
        UniqueConstraint("blocker_id", "blocked_id"),
        CheckConstraint("blocker_id <> blocked_id", name="not_self"),
        Index("idx_blocks_blocked", "blocked_id"),
        Index("idx_blocks_lookup", "blocker_id", "blocked_id"),
    )

    id: Mapped[str] = mapped_column(IdColumn, primary_key=True, default=new_id)
    blocker_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    blocked_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Report(Base):
    """A user's report of a message or a user (document 001 §1.4)."""

    __tablename__ = "reports"
    __table_args__ = (Index("idx_reports_status", "status", text("created_at DESC")),)

    id: Mapped[str] = mapped_column(IdColumn, primary_key=True, default=new_id)
    reporter_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    reported_user_id: Mapped[str | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    message_id: Mapped[str | None] = mapped_column(
        ForeignKey("messages.id", ondelete="SET NULL"), nullable=True
    )
    reason: Mapped[str] = mapped_column(String(64))
    detail: Mapped[str | None] = mapped_column(Text, nullable=True)
    status: Mapped[str] = mapped_column(String(32), default="PENDING")
    reviewed_by: Mapped[str | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    review_note: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RoomAuditLog(Base):
    """Admin actions in a group (document 001 §1.6)."""

    __tablename__ = "room_audit_log"

    id: Mapped[str] = mapped_column(IdColumn, primary_key=True, default=new_id)
    conversation_id: Mapped[str] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    actor_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    target_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    action: Mapped[str] = mapped_column(String(64))
    metadata_: Mapped[dict[str, Any] | None] = mapped_column("metadata", JSON, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Event(Base):
    """The event log: every change a client may need to replay (``GET /sync``).

    Visible to the members of ``conversation_id`` and to ``user_id`` (either may be null).
    """

    __tablename__ = "events"
    __table_args__ = (
        Index("idx_events_conversation", "conversation_id", "id"),
        Index("idx_events_user", "user_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    type: Mapped[str] = mapped_column(String(48))
    conversation_id: Mapped[str | None] = mapped_column(IdColumn, nullable=True)
    user_id: Mapped[str | None] = mapped_column(IdColumn, nullable=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
