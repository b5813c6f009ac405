"""Rolling back an optimistic change whose outbox item failed for good (blocked, not a member,
not allowed...): actions record what to restore when they queue the item (these builders), the
outbox applies it when the item fails (``apply_undo``). Failed sends are not undone: their
message stays, marked failed, for the user to retry or discard."""

from collections.abc import Mapping
from typing import Any

from client.offline.cache import Cache
from client.offline.outbox_items import ActionKind
from client.offline.records import CachedMessage, from_iso, to_iso
from protocol.models import ConversationSettings


def message_undo(message: CachedMessage) -> dict[str, Any]:
    """Restore a message's text (before an edit or a delete)."""
    return {
        "local_id": message.local_id,
        "text": message.text,
        "edited_at": to_iso(message.edited_at) if message.edited_at else None,
    }


def reaction_undo(local_id: int, emoji: str) -> dict[str, Any]:
    """Toggle a reaction back."""
    return {"local_id": local_id, "emoji": emoji}


def pins_undo(conversation_id: str, pinned_ids: list[str]) -> dict[str, Any]:
    """Restore a conversation's pinned messages."""
    return {"conversation_id": conversation_id, "pinned_ids": pinned_ids}


def settings_undo(conversation_id: str, settings: ConversationSettings) -> dict[str, Any]:
    """Restore the caller's settings of a conversation."""
    return {"conversation_id": conversation_id, "settings": settings.model_dump(mode="json")}


def forward_undo(copy_client_ids: list[str]) -> dict[str, Any]:
    """Drop a forward's pending copies."""
    return {"copies": copy_client_ids}


def apply_undo(cache: Cache, kind: ActionKind, undo: Mapping[str, Any]) -> None:
    """Roll back the optimistic change of a failed item of ``kind``."""
    if kind in (ActionKind.EDIT, ActionKind.DELETE):
        cache.restore_message(undo["local_id"], undo["text"], from_iso(undo["edited_at"]))
    elif kind in (ActionKind.REACT, ActionKind.UNREACT):
        cache.toggle_reaction_locally(undo["local_id"], undo["emoji"], kind == ActionKind.UNREACT)
    elif kind in (ActionKind.PIN, ActionKind.UNPIN):
        cache.set_pins(undo["conversation_id"], undo["pinned_ids"])
    elif kind == ActionKind.FORWARD:
        cache.remove_unsent_copies(undo["copies"])
    elif kind == ActionKind.SETTINGS:
        settings = ConversationSettings.model_validate(undo["settings"])
        cache.apply_settings(undo["conversation_id"], settings)
