"""The group info panel: the members with their roles and mutes and, for owners and admins,
the administration: rename, lock (owner), add people, the audit log, a menu per member (roles,
mutes, removal, bans) and the banned people with "Unban"; everyone can leave."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import flet as ft

from client.group_rules import MANAGER_ROLES, is_muted
from client.offline.records import MemberRow
from client.views.avatar import avatar
from client.views.format import member_count_text
from client.views.member_menu import MemberHandlers, member_menu
from client.views.people_search import FindPeople, PeopleSearch
from client.views.widgets import bound, icon_button, refresh
from client.wording import until_text
from protocol.limits import MAX_GROUP_TITLE_LENGTH
from protocol.models import GroupBan, User

ROLE_NAMES = {"owner": "Owner", "admin": "Admin", "member": "Member"}
ROLE_ORDER = {"owner": 0, "admin": 1, "member": 2}
LOCK_LABEL = "Only admins can send messages"


def member_name(member: MemberRow) -> str:
    """A member's display name, else their username, else their id."""
    return member.display_name or member.username or member.user_id


def sorted_members(members: list[MemberRow], me: str) -> list[MemberRow]:
    """Owners, then admins, then members; the user first within their role; then by name."""
    return sorted(
        members,
        key=lambda m: (ROLE_ORDER.get(m.role, 3), m.user_id != me, member_name(m).lower()),
    )


@dataclass(frozen=True)
class GroupHandlers:
    """What the panel asks for (each goes to the server)."""

    rename: Callable[[str], None]
    add: Callable[[User], None]
    members: MemberHandlers
    unban: Callable[[GroupBan], None]
    lock: Callable[[bool], None]
    audit_log: Callable[[], None]
    leave: Callable[[], None]
    close: Callable[[], None]


class GroupInfoPanel:
    """``dialog`` shows group ``title``; :meth:`show` replaces the member list,
    :meth:`show_bans` the banned people and :meth:`show_role` the tools the user's role
    gives."""

    def __init__(
        self,
        title: str,
        members: list[MemberRow],
        me: str,
        my_role: str,
        locked: bool,
        handlers: GroupHandlers,
        find: FindPeople,
    ) -> None:
        """Build the panel with the members known so far (``my_role`` decides the tools)."""
        self.me = me
        self.my_role = my_role
        self._handlers = handlers
        self.members = ft.Column(tight=True, spacing=0)
        self.banned = ft.Column(tight=True, spacing=0, visible=False)
        self.title = ft.TextField(
            label="Group name",
            value=title,
            dense=True,
            max_length=MAX_GROUP_TITLE_LENGTH,
            expand=True,
            on_submit=self._rename,
        )
        self.lock = ft.Switch(label=LOCK_LABEL, value=locked, on_change=self._lock_changed)
        self.add = PeopleSearch(find, self._add)
        self.add.field.autofocus = False
        self.add.field.label = "Add people by name or username"
        self.rename_row = ft.Row([self.title, ft.TextButton("Rename", on_click=self._rename)])
        self.audit_button = ft.TextButton(
            "Audit log", icon=ft.Icons.HISTORY, on_click=handlers.audit_log
        )
        self.content = ft.Column(
            self._sections(),
            tight=True,
            width=380,
            horizontal_alignment=ft.CrossAxisAlignment.STRETCH,
        )
        self.dialog = ft.AlertDialog(
            title=ft.Text(title),
            content=self.content,
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

    def _sections(self) -> list[ft.Control]:
        """The tools ``my_role`` gives (rename, lock for the owner, add people), then the
        members and the banned people."""
        tools: list[ft.Control] = []
        if self.my_role in MANAGER_ROLES:
            tools = [self.rename_row]
            if self.my_role == "owner":
                tools.append(self.lock)
            tools += [self.add.control, self.audit_button, ft.Divider(height=1)]
        return [*tools, self.members, self.banned]

    def show_role(self, my_role: str) -> None:
        """Show the tools of the user's new role (the banned people only to managers); list
        the members again after it (their menus depend on the role)."""
        if my_role == self.my_role:
            return
        self.my_role = my_role
        if my_role not in MANAGER_ROLES:
            self.banned.visible = False
        self.content.controls = self._sections()
        refresh(self.dialog)

    def retitle(self, title: str) -> None:
        """Show the group's new title (in the rename field too, unless it is being edited)."""
        heading = self.dialog.title
        assert isinstance(heading, ft.Text)
        if self.title.value == heading.value:  # not being edited: follow the new title
            self.title.value = title
        heading.value = title
        refresh(self.dialog)

    def close(self) -> None:
        """Close the panel (the user is no longer in the group)."""
        self.dialog.open = False
        refresh(self.dialog)

    def show_locked(self, locked: bool) -> None:
        """Show whether the group is locked."""
        self.lock.value = locked
        refresh(self.lock)

    def show(self, members: list[MemberRow], now: datetime | None = None) -> None:
        """List ``members`` (mutes as of ``now``)."""
        moment = now or datetime.now(UTC)
        bound(self.members, len(members))
        self.members.controls = (
            [
                ft.Text(member_count_text(len(members)), color=ft.Colors.ON_SURFACE_VARIANT),
                *(self._tile(m, moment) for m in sorted_members(members, self.me)),
            ]
            if members
            else [ft.Text("No members loaded yet")]
        )
        refresh(self.dialog)

    def show_bans(self, bans: list[GroupBan], now: datetime | None = None) -> None:
        """List the banned people with an "Unban" button each (hidden when there are none)."""
        moment = now or datetime.now(UTC)
        self.banned.visible = bool(bans)
        self.banned.controls = [
            ft.Divider(height=1),
            ft.Text("Banned", color=ft.Colors.ON_SURFACE_VARIANT),
            *(self._banned_tile(ban, moment) for ban in bans),
        ]
        refresh(self.dialog)

    def _rename(self) -> None:
        title = self.title.value.strip()
        if title:
            self._handlers.rename(title)

    def _add(self, user: User) -> None:
        self.add.clear()
        self._handlers.add(user)

    def _lock_changed(self) -> None:
        self._handlers.lock(bool(self.lock.value))

    def _tile(self, member: MemberRow, now: datetime) -> ft.Control:
        """One member: avatar, name ("You" for the user), @username, role, mute and the menu
        of what the user may do to them."""
        name = member_name(member)
        details = [ROLE_NAMES.get(member.role, member.role)]
        if is_muted(member.muted_until, now):
            details.append(f"muted {until_text(member.muted_until, now)}")
        handle = f"@{member.username} · " if member.username else ""
        menu = (
            None
            if member.user_id == self.me
            else member_menu(member, name, self.my_role, now, self._handlers.members)
        )
        return ft.ListTile(
            leading=avatar(name, member.user_id, radius=16),
            title=ft.Text("You" if member.user_id == self.me else name),
            subtitle=ft.Text(handle + " · ".join(details)),
            trailing=menu,
            dense=True,
        )

    def _banned_tile(self, ban: GroupBan, now: datetime) -> ft.Control:
        name = ban.user.display_name or ban.user.username
        return ft.ListTile(
            leading=avatar(name, ban.user.id, radius=16),
            title=ft.Text(name),
            subtitle=ft.Text(f"@{ban.user.username} · banned {until_text(ban.banned_until, now)}"),
            trailing=icon_button(
                ft.Icons.SETTINGS_BACKUP_RESTORE,
                f"Unban {name}",
                on_click=lambda: self._handlers.unban(ban),
            ),
            dense=True,
        )
