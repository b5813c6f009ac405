"""The group info panel: the members with their roles and, for owners and admins, the
administration: rename, add people, make or unmake admins (owner), remove members (by rank);
everyone can leave."""

from collections.abc import Callable
from dataclasses import dataclass

import flet as ft

from client.offline.records import MemberRow
from client.views.avatar import avatar
from client.views.people_search import FindPeople, PeopleSearch
from client.views.widgets import icon_button, refresh
from protocol.limits import MAX_GROUP_TITLE_LENGTH
from protocol.models import User

ROLE_NAMES = {"owner": "Owner", "admin": "Admin", "member": "Member"}
ROLE_ORDER = {"owner": 0, "admin": 1, "member": 2}
MAX_UNSCROLLED = 8
"""Longer member lists scroll inside a box of ``SCROLLED_HEIGHT``."""
SCROLLED_HEIGHT = 360


def member_name(member: MemberRow) -> str:
    """A member's display name, else their username, else their id."""
    return member.display_name or member.username or member.user_id


def sorted_members(members: list[MemberRow], me: str) -> list[MemberRow]:
    """Owners, then admins, then members; the user first within their role; then by name."""
    return sorted(
        members,
        key=lambda m: (ROLE_ORDER.get(m.role, 3), m.user_id != me, member_name(m).lower()),
    )


def can_remove(my_role: str, their_role: str) -> bool:
    """The owner removes anyone but themself; admins remove plain members."""
    return (my_role == "owner" and their_role != "owner") or (
        my_role == "admin" and their_role == "member"
    )


@dataclass(frozen=True)
class GroupHandlers:
    """What the panel asks for (each goes to the server)."""

    rename: Callable[[str], None]
    add: Callable[[User], None]
    remove: Callable[[MemberRow], None]
    set_role: Callable[[MemberRow, str], None]
    leave: Callable[[], None]
    close: Callable[[], None]


class GroupInfoPanel:
    """``dialog`` shows group ``title``; :meth:`show` replaces the member list."""

    def __init__(
        self,
        title: str,
        members: list[MemberRow],
        me: str,
        my_role: str,
        handlers: GroupHandlers,
        find: FindPeople,
    ) -> None:
        """Build the panel with the members known so far (``my_role`` decides the tools)."""
        self.me = me
        self.my_role = my_role
        self._handlers = handlers
        self.members = ft.Column(tight=True, spacing=0)
        admin = my_role in ("owner", "admin")
        self.title = ft.TextField(
            label="Group name",
            value=title,
            dense=True,
            max_length=MAX_GROUP_TITLE_LENGTH,
            expand=True,
            on_submit=self._rename,
        )
        tools: list[ft.Control] = []
        if admin:
            self.add = PeopleSearch(find, handlers.add)
            self.add.field.autofocus = False
            self.add.field.label = "Add people by name or username"
            tools = [
                ft.Row([self.title, ft.TextButton("Rename", on_click=self._rename)]),
                self.add.control,
                ft.Divider(height=1),
            ]
        self.dialog = ft.AlertDialog(
            title=ft.Text(title),
            content=ft.Column(
                [*tools, self.members],
                tight=True,
                width=380,
                horizontal_alignment=ft.CrossAxisAlignment.STRETCH,
            ),
            actions=[
                ft.TextButton(
                    "Leave group",
                    style=ft.ButtonStyle(color=ft.Colors.ERROR),
                    on_click=handlers.leave,
                ),
                ft.TextButton("Close", on_click=handlers.close),
            ],
        )
        self.show(members)

    def retitle(self, title: str) -> None:
        """Show the group's new title."""
        heading = self.dialog.title
        assert isinstance(heading, ft.Text)
        heading.value = title
        refresh(self.dialog)

    def show(self, members: list[MemberRow]) -> None:
        """List ``members``."""
        long = len(members) > MAX_UNSCROLLED
        self.members.scroll = ft.ScrollMode.AUTO if long else None
        self.members.height = SCROLLED_HEIGHT if long else None
        count = f"{len(members)} member{'s' if len(members) != 1 else ''}"
        self.members.controls = (
            [
                ft.Text(count, color=ft.Colors.ON_SURFACE_VARIANT),
                *(self._tile(member) for member in sorted_members(members, self.me)),
            ]
            if members
            else [ft.Text("No members loaded yet")]
        )
        refresh(self.dialog)

    def _rename(self) -> None:
        title = self.title.value.strip()
        if title:
            self._handlers.rename(title)

    def _tile(self, member: MemberRow) -> ft.Control:
        """One member: avatar, name ("You" for the user), @username, role and the tools the
        user may use on them."""
        name = member_name(member)
        handle = f"@{member.username} · " if member.username else ""
        tools: list[ft.Control] = []
        if member.user_id != self.me and self.my_role == "owner" and member.role != "owner":
            promote = member.role == "member"
            tools.append(
                icon_button(
                    ft.Icons.ADD_MODERATOR if promote else ft.Icons.REMOVE_MODERATOR,
                    f"Make {name} an admin" if promote else f"Make {name} a member",
                    on_click=lambda: self._handlers.set_role(
                        member, "admin" if promote else "member"
                    ),
                )
            )
        if member.user_id != self.me and can_remove(self.my_role, member.role):
            tools.append(
                icon_button(
                    ft.Icons.PERSON_REMOVE_OUTLINED,
                    f"Remove {name} from the group",
                    on_click=lambda: self._handlers.remove(member),
                )
            )
        return ft.ListTile(
            leading=avatar(name, member.user_id, radius=16),
            title=ft.Text("You" if member.user_id == self.me else name),
            subtitle=ft.Text(handle + ROLE_NAMES.get(member.role, member.role)),
            trailing=ft.Row(tools, tight=True, spacing=0) if tools else None,
            dense=True,
        )
