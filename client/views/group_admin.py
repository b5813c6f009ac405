"""Glue for the group info panel: loads its members and bans, runs what the owner or an admin
asks for through ``ServerActions`` (each awaits the server; a refusal becomes a snack bar
through ``run``), and while open shows what others change (members, roles, mutes, the title,
the lock) as the store tells it."""

from collections.abc import Awaitable, Callable
from datetime import timedelta

import flet as ft

from client.actions import ServerActions
from client.group_rules import MANAGER_ROLES
from client.offline.records import ChatRow, MemberRow
from client.store import Topic
from client.views.audit_log import AuditLogDialog
from client.views.group_info import GroupHandlers, GroupInfoPanel, member_name
from client.views.member_menu import MemberHandlers
from client.views.message_actions import confirm_dialog
from protocol.models import GroupBan, User

Run = Callable[[str, Callable[[], Awaitable[None]]], None]
"""Runs work in the background; a failure is told as "<doing> failed …" in a snack bar."""


class GroupAdmin:
    """One open group info panel and the work behind its controls."""

    def __init__(
        self,
        page: ft.Page,
        server: ServerActions,
        row: ChatRow,
        title: str,
        run: Run,
        notify: Callable[[str], None],
        close: Callable[[], None],
        on_left: Callable[[], None],
    ) -> None:
        """Build the panel for the group ``row`` (named ``title``); ``close`` closes the topmost
        dialog, ``on_left`` runs after the user left the group."""
        self.page = page
        self.server = server
        self.conversation_id = row.id
        self._run = run
        self._notify = notify
        self._close = close
        self._on_left = on_left
        handlers = GroupHandlers(
            rename=self.rename,
            add=self.add,
            members=MemberHandlers(
                set_role=self.set_role,
                mute=self.mute,
                unmute=self.unmute,
                remove=self.remove,
                ban=self.ban,
            ),
            unban=self.unban,
            lock=self.lock,
            audit_log=self.audit_log,
            leave=self.leave,
            close=close,
        )
        cache = server.cache
        self.panel = GroupInfoPanel(
            title,
            cache.members(row.id),
            cache.me,
            row.my_role,
            row.locked,
            handlers,
            server.find_people,
        )
        self._manager = row.my_role in MANAGER_ROLES
        self._unsubscribe: Callable[[], None] | None = None

    def open(self) -> None:
        """Show the panel with the cached members, then load the server's members and bans;
        follow the store's changes to the group until the panel closes."""
        self.panel.dialog.on_dismiss = self._stop_following
        self.page.show_dialog(self.panel.dialog)
        self._unsubscribe = self.server.store.subscribe(self._store_changed)
        self._members(
            lambda: self.server.load_members(self.conversation_id), "Loading the members", ""
        )
        if self._manager:
            self._run("Loading the bans", self._show_bans)

    def _stop_following(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None

    def _store_changed(self, topic: Topic) -> None:
        """Show the group as the cache has it after sync changed it (someone else renamed or
        locked it, added, removed, muted or promoted someone); close when the user is out."""
        if topic is not Topic.CONVERSATIONS or not self.server.store.changed(self.conversation_id):
            return
        if not self.panel.dialog.open:
            self._stop_following()
            return
        cache = self.server.cache
        row = cache.conversation(self.conversation_id)
        if row is None:  # the user left, was removed or banned
            self._stop_following()
            self.panel.close()
            return
        if row.title:
            self.panel.retitle(row.title)
        self.panel.show_locked(row.locked)
        self.panel.show_role(row.my_role)
        manager = row.my_role in MANAGER_ROLES
        if manager and not self._manager:
            self._run("Loading the bans", self._show_bans)
        self._manager = manager
        self.panel.show(cache.members(self.conversation_id))

    def _members(
        self, work: Callable[[], Awaitable[list[MemberRow]]], doing: str, done: str
    ) -> None:
        """Run ``work``, list the members it returns and tell ``done`` (when not empty)."""

        async def run() -> None:
            self.panel.show(await work())
            if done:
                self._notify(done)

        self._run(doing, run)

    async def _show_bans(self) -> None:
        self.panel.show_bans(await self.server.bans(self.conversation_id))

    def rename(self, title: str) -> None:
        """Give the group a new title."""

        async def run() -> None:
            await self.server.rename_group(self.conversation_id, title)
            self.panel.retitle(title)
            self._notify(f"Renamed to “{title}”")

        self._run("Renaming the group", run)

    def add(self, user: User) -> None:
        """Add ``user`` to the group."""
        self._members(
            lambda: self.server.add_members(self.conversation_id, [user.id]),
            "Adding a member",
            f"{user.display_name} was added",
        )

    def lock(self, locked: bool) -> None:
        """Lock the group (only owners and admins post) or unlock it; the switch shows what the
        server has either way."""

        async def run() -> None:
            try:
                await self.server.set_locked(self.conversation_id, locked)
            finally:
                current = self.server.cache.conversation(self.conversation_id)
                self.panel.show_locked(current is not None and current.locked)
            self._notify(
                "Only admins can send messages now" if locked else "Everyone can send messages now"
            )

        self._run("Locking the group" if locked else "Unlocking the group", run)

    def set_role(self, member: MemberRow, role: str) -> None:
        """Make ``member`` an admin or a plain member."""
        self._members(
            lambda: self.server.set_role(self.conversation_id, member.user_id, role),
            "Changing the role",
            "",
        )

    def mute(self, member: MemberRow, duration: timedelta | None) -> None:
        """Stop ``member`` posting for ``duration`` (None: until unmuted)."""
        self._members(
            lambda: self.server.mute_member(self.conversation_id, member.user_id, duration),
            "Muting",
            f"{member_name(member)} was muted",
        )

    def unmute(self, member: MemberRow) -> None:
        """Let ``member`` post again."""
        self._members(
            lambda: self.server.unmute_member(self.conversation_id, member.user_id),
            "Unmuting",
            f"{member_name(member)} can send messages again",
        )

    def remove(self, member: MemberRow) -> None:
        """Remove ``member`` from the group."""
        self._members(
            lambda: self.server.remove_member(self.conversation_id, member.user_id),
            "Removing",
            f"{member_name(member)} was removed",
        )

    def ban(self, member: MemberRow, duration: timedelta | None) -> None:
        """Ask, then ban ``member`` for ``duration`` (None: until unbanned)."""
        name = member_name(member)

        async def run() -> None:
            self.panel.show(
                await self.server.ban_member(self.conversation_id, member.user_id, duration)
            )
            await self._show_bans()
            self._notify(f"{name} was banned")

        self.page.show_dialog(
            confirm_dialog(
                f"Ban {name}?",
                "They leave the group and cannot be added back until the ban ends.",
                "Ban",
                lambda: self._run("Banning", run),
                self._close,
            )
        )

    def unban(self, ban: GroupBan) -> None:
        """Lift ``ban``."""

        async def run() -> None:
            self.panel.show_bans(await self.server.unban_member(self.conversation_id, ban.user.id))

        self._run("Unbanning", run)

    def audit_log(self) -> None:
        """Open the group's audit log over the panel and load its newest page; "Show older"
        loads the next one."""
        cursor: list[str | None] = [None]
        members = {
            m.user_id: member_name(m) for m in self.server.cache.members(self.conversation_id)
        }
        me = self.server.cache.me

        def name_of(user_id: str) -> str:
            return "You" if user_id == me else members.get(user_id, "A former member")

        async def load() -> None:
            page = await self.server.audit_log(self.conversation_id, cursor[0])
            cursor[0] = page.next_cursor
            log.add_page(page.items, page.has_more)

        log = AuditLogDialog(name_of, lambda: self._run("Loading the audit log", load), self._close)
        self.page.show_dialog(log.dialog)
        self._run("Loading the audit log", load)

    def leave(self) -> None:
        """Ask, then leave the group."""

        async def left() -> None:
            await self.server.leave_group(self.conversation_id)
            self._on_left()
            self._notify("You left the group")

        self._close()
        self.page.show_dialog(
            confirm_dialog(
                "Leave group?",
                "You will no longer get its messages.",
                "Leave",
                lambda: self._run("Leaving the group", left),
                self._close,
            )
        )
