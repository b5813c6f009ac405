"""Socket.IO event names. Sync events (``GET /sync``) use the server event names as their type."""

from enum import StrEnum


class ClientEvent(StrEnum):
    """Events a client emits; each is answered through the ack (the result or ``{"error"}``)."""

    SEND_MESSAGE = "send_message"
    EDIT_MESSAGE = "edit_message"
    DELETE_MESSAGE = "delete_message"
    ADD_REACTION = "add_reaction"
    REMOVE_REACTION = "remove_reaction"
    TYPING_START = "typing_start"
    TYPING_STOP = "typing_stop"
    MARK_READ = "mark_read"
    MESSAGE_DELIVERED = "message_delivered"
    FORWARD_MESSAGE = "forward_message"
    SET_PRESENCE = "set_presence"


class ServerEvent(StrEnum):
    """Events the server emits. Every payload carries ``eventId`` (its event-log id) except the
    ephemeral ones listed in ``EPHEMERAL_EVENTS``."""

    MESSAGE_NEW = "message_new"
    MESSAGE_EDITED = "message_edited"
    MESSAGE_DELETED = "message_deleted"
    REACTION_ADDED = "reaction_added"
    REACTION_REMOVED = "reaction_removed"
    TYPING_INDICATOR = "typing_indicator"
    MESSAGE_READ = "message_read"
    MESSAGE_DELIVERED = "message_delivered"
    MESSAGE_PINNED = "message_pinned"
    MESSAGE_UNPINNED = "message_unpinned"
    PRESENCE_UPDATE = "presence_update"
    CONVERSATION_UPDATED = "conversation_updated"
    SETTINGS_UPDATED = "settings_updated"
    MEMBER_JOINED = "member_joined"
    MEMBER_LEFT = "member_left"
    MEMBER_UPDATED = "member_updated"
    USER_BLOCKED = "user_blocked"
    USER_UNBLOCKED = "user_unblocked"
    ROOM_LOCKED = "room_locked"
    MEMBER_ROLE_CHANGED = "member_role_changed"


EPHEMERAL_EVENTS: frozenset[ServerEvent] = frozenset(
    {
        ServerEvent.TYPING_INDICATOR,
        ServerEvent.PRESENCE_UPDATE,
        ServerEvent.ROOM_LOCKED,
        ServerEvent.MEMBER_ROLE_CHANGED,
    }
)
"""Events that are not written to the event log (no ``eventId``, never returned by /sync).
``room_locked`` and ``member_role_changed`` are the seed protocol's names for facts that the
logged ``conversation_updated`` and ``member_updated`` also carry (what sync replays)."""
