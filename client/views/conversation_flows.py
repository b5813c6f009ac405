"""Glue for the chat list's server-backed flows: new chat, new group, refresh, report, message
info, group info (``group_admin``), and the per-conversation settings panel. Views call these;
the work is done by ``client.actions`` (``Actions`` offline through the outbox,
``ServerActions`` on the server) and failures are told in a snack bar."""

from collections.abc import Awaitable, Callable
from datetime import timedelta

import flet as ft

from client.actions import Actions, ServerActions
from client.errors import OpenChatError
from client.offline.records import CachedMessage
from client.views.conversation_settings import ConversationSettingsPanel, SettingsHandlers
from client.views.group_admin import GroupAdmin
from client.views.group_info import member_name
from client.views.message_info import MessageInfoDialog, Receipt
from client.views.new_chat import new_chat_dialog
from client.views.new_group import NewGroupDialog
from client.views.report_dialog import report_dialog
from client.views.server_errors import explain
from client.views.widgets import close_dialog, notify
from protocol.models import User


class ConversationFlows:
    """Opens the dialogs and runs what they ask for."""

    def __init__(
        self,
        page: ft.Page,
        actions: Actions,
        server: ServerActions,
        open_chat: Callable[[str], None],
        title_of: Callable[[str], str],
        on_left: Callable[[str], None],
    ) -> None:
        """``open_chat(id)`` shows a conversation; ``title_of(id)`` names one; ``on_left(id)``
        runs after the user left a group (close it if it is open)."""
        self.page = page
        self.actions = actions
        self.server = server
        self._open_chat = open_chat
        self._title_of = title_of
        self._on_left = on_left

    def notify(self, text: str) -> None:
        """Show ``text`` in a snack bar."""
        notify(self.page, text)

    def _close(self) -> None:
        close_dialog(self.page)

    def _run(self, doing: str, work: Callable[[], Awaitable[None]]) -> None:
        """Run ``work`` in the background; a refusal or an error becomes a snack bar."""

        async def run() -> None:
            try:
                await work()
            except OpenChatError as error:
                self.notify(explain(error, doing))
            except ValueError as error:
                self.notify(f"{doing} failed: {str(error).splitlines()[0]}")

        self.page.run_task(run)

    # -- new chat / new group --------------------------------------------------------------------

    def new_chat(self) -> None:
        """Find a person and open the chat with them (or start a group)."""

        def pick(user: User) -> None:
            async def open_direct() -> None:
                conversation_id = await self.server.open_direct(user)
                self._close()
                self._open_chat(conversation_id)

            self._run("Starting a chat", open_direct)

        def new_group() -> None:
            self._close()
            self.new_group()

        self.page.show_dialog(
            new_chat_dialog(self.server.find_people, pick, new_group, self._close)
        )

    def new_group(self) -> None:
        """Name a group, pick its members, create it and open it."""

        def create(title: str, members: list[User]) -> None:
            async def create_group() -> None:
                conversation_id = await self.server.create_group(title, [m.id for m in members])
                self._close()
                self._open_chat(conversation_id)
                self.notify(f"Group “{title}” created")

            self._run("Creating a group", create_group)

        self.page.show_dialog(NewGroupDialog(self.server.find_people, create, self._close).dialog)

    def refresh(self) -> None:
        """Pull what changed on the server into the chat list."""

        async def refresh() -> None:
            await self.server.refresh()
            self.notify("Chats are up to date")

        self._run("Refreshing", refresh)

    # -- one conversation ------------------------------------------------------------------------

    def settings(self, conversation_id: str) -> None:
        """Open the conversation's settings panel (mute, pin, archive)."""
        row = self.actions.cache.conversation(conversation_id)
        if row is None:
            return
        panel: ConversationSettingsPanel

        def apply(change: Callable[[], None]) -> None:
            try:
                change()
            except ValueError as error:
                self.notify(str(error).splitlines()[0])
            current = self.actions.cache.conversation(conversation_id)
            if current is not None:
                panel.show(current)

        def mute(duration: timedelta | None) -> None:
            apply(lambda: self.actions.mute(conversation_id, duration))

        handlers = SettingsHandlers(
            mute=mute,
            unmute=lambda: apply(lambda: self.actions.unmute(conversation_id)),
            pin=lambda on: apply(lambda: self.actions.pin_conversation(conversation_id, on)),
            archive=lambda on: apply(
                lambda: self.actions.archive_conversation(conversation_id, on)
            ),
            close=self._close,
        )
        panel = ConversationSettingsPanel(self._title_of(conversation_id), row, handlers)
        self.page.show_dialog(panel.dialog)

    def group_info(self, conversation_id: str) -> None:
        """Show a group's members (cached at once, then as the server has them) and, for
        owners and admins, its administration and bans."""
        row = self.actions.cache.conversation(conversation_id)
        if row is None:
            return
        GroupAdmin(
            self.page,
            self.server,
            row,
            self._title_of(conversation_id),
            self._run,
            self.notify,
            self._close,
            lambda: self._on_left(conversation_id),
        ).open()

    def message_info(self, message: CachedMessage) -> None:
        """Show who got and read ``message``: the cached marks at once, then the server's
        receipts with their times."""
        seq = message.seq
        cached = [
            Receipt(
                member_name(m),
                seq is not None and m.last_delivered_seq >= seq,
                seq is not None and m.last_read_seq >= seq,
            )
            for m in self.actions.cache.members(message.conversation_id)
            if m.user_id != message.sender_id
        ]
        info = MessageInfoDialog(message.created_at, cached, self._close)
        self.page.show_dialog(info.dialog)
        if message.id is None:
            return

        async def load() -> None:
            receipts = await self.server.message_receipts(message)
            info.show(
                [
                    Receipt(
                        r.user.display_name or r.user.username,
                        r.delivered,
                        r.read,
                        r.delivered_at,
                        r.read_at,
                    )
                    for r in receipts
                ]
            )

        self._run("Loading the receipts", load)

    def report(self, message: CachedMessage) -> None:
        """Ask why, then report ``message`` to the moderators."""

        def send(reason: str, note: str) -> None:
            async def report() -> None:
                await self.server.report(message, reason, note)
                self._close()
                self.notify("Thanks. The moderators will review this message.")

            self._run("Reporting", report)

        self.page.show_dialog(report_dialog(send, self._close))
