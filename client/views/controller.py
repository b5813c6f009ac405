"""Glue between the chat screen and ``client.actions.Actions``: turns view callbacks into actions,
and opens the dialogs some actions need (forward targets, edit history); message info is the
server-backed ``ConversationFlows.message_info``.

Actions never await the network, so neither does anything here; an action that refuses its input
(``ValueError``) is reported in a snack bar.
"""

from collections.abc import Callable

import flet as ft

from client.actions import Actions
from client.offline.records import CachedMessage
from client.views.forward_dialog import forward_dialog
from client.views.widgets import bound, close_dialog, notify
from protocol.limits import MAX_FORWARD_TARGETS


class ActionsController:
    """Implements ``client.views.chat.ChatActions`` over :class:`Actions`."""

    def __init__(
        self,
        actions: Actions,
        page: ft.Page,
        title_of: Callable[[str], str],
        pinned_ids: Callable[[str], list[str]],
        show_info: Callable[[CachedMessage], None],
    ) -> None:
        """``title_of(conversation_id)`` names chats in the forward dialog; ``pinned_ids``
        tells whether a message is pinned; ``show_info`` opens a message's info (its receipts
        come from the server)."""
        self.actions = actions
        self.cache = actions.cache
        self.page = page
        self._title_of = title_of
        self._pinned_ids = pinned_ids
        self._show_info = show_info

    def _try(self, run: Callable[[], object]) -> None:
        try:
            run()
        except ValueError as error:
            self.notify(str(error).splitlines()[0])

    def _close(self) -> None:
        close_dialog(self.page)

    def notify(self, text: str) -> None:
        """Show ``text`` in a snack bar."""
        notify(self.page, text)

    def send_text(self, conversation_id: str, text: str, reply_to: CachedMessage | None) -> None:
        """Queue a new message (a reply when ``reply_to`` is given)."""
        reply_id = reply_to.id if reply_to is not None else None
        self._try(lambda: self.actions.send_text(conversation_id, text, reply_id))

    def edit(self, message: CachedMessage, text: str) -> None:
        """Change an own message's text."""
        self._try(lambda: self.actions.edit(message.local_id, text))

    def delete(self, message: CachedMessage) -> None:
        """Delete a message for everyone."""
        self._try(lambda: self.actions.delete(message.local_id))

    def toggle_reaction(self, message: CachedMessage, emoji: str) -> None:
        """Add or remove the user's reaction."""
        self._try(lambda: self.actions.toggle_reaction(message.local_id, emoji))

    def retry(self, message: CachedMessage) -> None:
        """Send a failed message again."""
        self._try(lambda: self.actions.retry_message(message.local_id))

    def discard(self, message: CachedMessage) -> None:
        """Drop a failed message."""
        self._try(lambda: self.actions.discard_message(message.local_id))

    def pin(self, message: CachedMessage) -> None:
        """Pin a message, or unpin it when it is pinned."""
        pinned = message.id in self._pinned_ids(message.conversation_id)
        self._try(lambda: self.actions.pin_message(message.local_id, not pinned))

    def typing(self, conversation_id: str, text: str) -> None:
        """The composer changed: typing indicators and the draft."""
        self.actions.composer_changed(conversation_id, text)
        self.actions.save_draft(conversation_id, text)

    def mark_read(self, conversation_id: str) -> None:
        """The reader saw the newest messages of a conversation."""
        self.actions.mark_read(conversation_id)

    def forward(self, message: CachedMessage) -> None:
        """Ask for up to five target chats, then forward."""
        choices = [
            (row.id, self._title_of(row.id))
            for row in self.cache.chat_list()
            if row.id != message.conversation_id
        ]

        def send(targets: list[str]) -> None:
            self._close()
            self._try(lambda: self.actions.forward([message.local_id], targets))
            self.notify(f"Forwarded to {len(targets)} chat{'s' if len(targets) != 1 else ''}")

        self.page.show_dialog(forward_dialog(choices, MAX_FORWARD_TARGETS, send, self._close))

    def copy(self, message: CachedMessage) -> None:
        """Copy a message's text to the clipboard."""
        text = message.text or ""

        async def copy_text() -> None:
            await ft.Clipboard().set(text)
            self.notify("Copied")

        self.page.run_task(copy_text)

    def show_edits(self, message: CachedMessage) -> None:
        """Show a message's earlier versions."""
        if message.id is None:
            return
        edits = self.cache.edits(message.id)
        lines: list[ft.Control] = [
            ft.ListTile(
                title=ft.Text(edit.text),
                subtitle=ft.Text(edit.edited_at.astimezone().strftime("%d %b %H:%M")),
                dense=True,
            )
            for edit in edits
        ]
        lines.append(ft.ListTile(title=ft.Text(message.text or ""), subtitle=ft.Text("Now")))
        self.page.show_dialog(
            ft.AlertDialog(
                title=ft.Text("Edit history"),
                content=bound(ft.Column(lines, tight=True, width=360), len(lines)),
                actions=[ft.TextButton("Close", on_click=self._close)],
            )
        )

    def info(self, message: CachedMessage) -> None:
        """Show who received and read a message, and when."""
        self._show_info(message)

    def recent_emojis(self) -> list[str]:
        """Recently used emojis, newest first."""
        return self.cache.recent_emojis()

    def record_emoji(self, emoji: str) -> None:
        """Remember a picked emoji."""
        self.actions.record_emoji(emoji)
