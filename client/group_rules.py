"""Who may post in a group, and until when: the composer's read-only notice and the member
list's mute labels are worded here (no Flet, no I/O)."""

from datetime import datetime, tzinfo

from client.offline.records import ChatRow, MemberRow
from client.wording import until_text

MANAGER_ROLES = frozenset({"owner", "admin"})
"""Roles that may post in a locked group and moderate its members."""


def is_muted(until: datetime | None, now: datetime) -> bool:
    """True while a mute (or ban) ending at ``until`` is in force."""
    return until is not None and until > now


def posting_notice(
    row: ChatRow, me: MemberRow | None, now: datetime, zone: tzinfo | None = None
) -> str | None:
    """Why the user cannot post in ``row`` (shown instead of the composer), or None when they
    can: an admin muted them, or the group is locked and they are not an owner or admin."""
    if row.type == "direct":
        return None
    if me is not None and is_muted(me.muted_until, now):
        return f"An admin muted you {until_text(me.muted_until, now, zone)}. You can still read."
    if row.locked and row.my_role not in MANAGER_ROLES:
        return "This group is locked: only admins can send messages."
    return None
