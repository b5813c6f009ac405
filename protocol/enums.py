"""The wire contract's enumerations (plain ``StrEnum``s: importing them costs no pydantic)."""

from enum import StrEnum


class ConversationType(StrEnum):
    """Kinds of conversation."""

    DIRECT = "direct"
    PRIVATE_GROUP = "private_group"


class MemberRole(StrEnum):
    """A member's role in a conversation (direct chats: both are ``member``)."""

    OWNER = "owner"
    ADMIN = "admin"
    MEMBER = "member"


class MemberLeftReason(StrEnum):
    """Why someone is no longer in a group."""

    LEFT = "left"
    REMOVED = "removed"
    BANNED = "banned"


class MessageType(StrEnum):
    """What a message carries."""

    TEXT = "text"
    IMAGE = "image"
    VIDEO = "video"
    FILE = "file"
    VOICE = "voice"
    SYSTEM = "system"


class PresenceStatus(StrEnum):
    """A user's presence as other users see it."""

    ONLINE = "online"
    AWAY = "away"
    OFFLINE = "offline"
