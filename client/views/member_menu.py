"""The per-member menu of the group info panel: what an owner or admin may do to one member
(roles, mutes, removal, bans), each entry named by its text."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import flet as ft

from client.group_rules import is_muted
from client.offline.records import MemberRow
from client.views.widgets import labelled_icon

MUTE_CHOICES: dict[str, timedelta | None] = {
    "Mute for 1 hour": timedelta(hours=1),
    "Mute for 8 hours": timedelta(hours=8),
    "Mute for 1 day": timedelta(days=1),
    "Mute until unmuted": None,
}
"""The member mutes offered (None: until an admin unmutes)."""
BAN_CHOICES: dict[str, timedelta | None] = {
    "Ban for 1 day": timedelta(days=1),
    "Ban for 1 week": timedelta(weeks=1),
    "Ban until unbanned": None,
}
"""The bans offered (None: until an admin lifts it)."""


def can_moderate(my_role: str, their_role: str) -> bool:
    """The owner moderates anyone but themself; admins moderate plain members (the server's
    rule for removing, muting and banning)."""
    return (my_role == "owner" and their_role != "owner") or (
        my_role == "admin" and their_role == "member"
    )


@dataclass(frozen=True)
class MemberHandlers:
    """What the menu asks for (each goes to the server)."""

    set_role: Callable[[MemberRow, str], None]
    mute: Callable[[MemberRow, timedelta | None], None]
    """Mute for the duration (None: until unmuted)."""
    unmute: Callable[[MemberRow], None]
    remove: Callable[[MemberRow], None]
    ban: Callable[[MemberRow, timedelta | None], None]
    """Ban for the duration (None: until unbanned)."""


def member_menu(
    member: MemberRow, name: str, my_role: str, now: datetime, handlers: MemberHandlers
) -> ft.PopupMenuButton | None:
    """The "Actions for <name>" menu, or None when the user may do nothing to ``member``."""
    items: list[ft.PopupMenuItem] = []

    def item(text: str, icon: ft.IconData, click: Callable[[], None]) -> None:
        items.append(ft.PopupMenuItem(content=text, icon=icon, on_click=click))

    def timed(
        act: Callable[[MemberRow, timedelta | None], None], duration: timedelta | None
    ) -> Callable[[], None]:
        return lambda: act(member, duration)

    if my_role == "owner" and member.role != "owner":
        promote = member.role == "member"
        item(
            "Make admin" if promote else "Remove admin",
            ft.Icons.ADD_MODERATOR if promote else ft.Icons.REMOVE_MODERATOR,
            lambda: handlers.set_role(member, "admin" if promote else "member"),
        )
    if can_moderate(my_role, member.role):
        if is_muted(member.muted_until, now):
            item("Unmute", ft.Icons.VOLUME_UP_OUTLINED, lambda: handlers.unmute(member))
        else:
            for text, duration in MUTE_CHOICES.items():
                item(text, ft.Icons.VOLUME_OFF_OUTLINED, timed(handlers.mute, duration))
        item("Remove from group", ft.Icons.PERSON_REMOVE_OUTLINED, lambda: handlers.remove(member))
        for text, duration in BAN_CHOICES.items():
            item(text, ft.Icons.BLOCK, timed(handlers.ban, duration))
    if not items:
        return None
    label = f"Actions for {name}"
    return ft.PopupMenuButton(
        icon=labelled_icon(ft.Icons.MORE_VERT, label), tooltip=label, items=items
    )
