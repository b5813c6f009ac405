"""What one entry of a group's audit log says, in words: "You made Bob an admin"."""

from collections.abc import Callable
from datetime import datetime

from client.wording import until_text
from protocol.models import AuditEntry

NameOf = Callable[[str], str]
"""A user's name as this user knows it ("You" for themselves)."""

ROLE_WORDS = {"admin": "an admin", "member": "a plain member", "owner": "the owner"}


def _until(details: dict[str, object], now: datetime) -> str:
    raw = details.get("until")
    return until_text(datetime.fromisoformat(raw) if isinstance(raw, str) else None, now)


def describe(entry: AuditEntry, name_of: NameOf, now: datetime) -> str:
    """One sentence for ``entry``, naming people with ``name_of``; times as of ``now``."""
    actor = name_of(entry.actor_id)
    target = name_of(entry.target_id) if entry.target_id else "someone"
    details = entry.details
    sentences: dict[str, Callable[[], str]] = {
        "add_member": lambda: f"{actor} added {target}",
        "remove_member": lambda: f"{actor} removed {target}",
        "leave": lambda: f"{actor} left the group",
        "transfer_ownership": lambda: f"{actor} handed the group on to {target}",
        "change_role": lambda: (
            f"{actor} made {target} {ROLE_WORDS.get(str(details.get('role')), 'a member')}"
        ),
        "mute_user": lambda: f"{actor} muted {target} {_until(details, now)}",
        "unmute_user": lambda: f"{actor} unmuted {target}",
        "ban_user": lambda: f"{actor} banned {target} {_until(details, now)}",
        "unban_user": lambda: f"{actor} lifted the ban on {target}",
        "rename": lambda: f"{actor} renamed the group to “{details.get('title', '')}”",
        "lock_room": lambda: f"{actor} locked the group: only admins can send messages",
        "unlock_room": lambda: f"{actor} unlocked the group",
        "set_forwarding": lambda: (
            f"{actor} {'allowed' if details.get('allow_forward_out') else 'stopped'} "
            "forwarding messages out of the group"
        ),
        "pin_message": lambda: f"{actor} pinned a message by {target}",
        "unpin_message": lambda: f"{actor} unpinned a message by {target}",
        "delete_message": lambda: f"{actor} deleted a message by {target}",
    }
    sentence = sentences.get(entry.action)
    return sentence() if sentence else f"{actor}: {entry.action.replace('_', ' ')}"
