"""The chat screen: header (name, presence / typing, pinned banner), the paging message list,
the scroll-to-bottom button with the count of new messages, the emoji picker and the composer."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import flet as ft

from client.offline.records import CachedMessage
from client.views.avatar import avatar
from client.views.bubble import BubbleHandlers
from client.views.composer import Composer, ComposerHandlers
from client.views.emoji_picker import EmojiPicker
from client.views.message_actions import MessageAction, actions_dialog, confirm_dialog
from client.views.message_list import BubbleFactory, MessageList, WindowSource
from client.views.pinned_banner import PinnedBanner
from client.views.widgets import close_dialog, icon_button, labelled_icon, page_of, refresh
from protocol.reactions import REACTION_EMOJIS


class ChatActions(Protocol):
    """What the chat screen asks of the app (implemented over ``client.actions``)."""

    def send_text(self, conversation_id: str, text: str, reply_to: CachedMessage | None) -> None:
        """Queue a new message."""
        ...

    def edit(self, message: CachedMessage, text: str) -> None:
        """Change an own message's text."""
        ...

    def delete(self, message: CachedMessage) -> None:
        """Delete a message for everyone."""
        ...

    def toggle_reaction(self, message: CachedMessage, emoji: str) -> None:
        """Add the caller's reaction, or remove it when already there."""
        ...

    def retry(self, message: CachedMessage) -> None:
        """Send a failed message again."""
        ...

    def discard(self, message: CachedMessage) -> None:
        """Drop a failed message."""
        ...

    def pin(self, message: CachedMessage) -> None:
        """Pin (or unpin) a message in its conversation."""
        ...

    def typing(self, conversation_id: str, text: str) -> None:
        """The composer changed: typing indicators and the draft."""
        ...

    def forward(self, message: CachedMessage) -> None:
        """Open the forward dialog for a message."""
        ...

    def copy(self, message: CachedMessage) -> None:
        """Copy a message's text to the clipboard."""
        ...

    def show_edits(self, message: CachedMessage) -> None:
        """Show a message's edit history."""
        ...

    def info(self, message: CachedMessage) -> None:
        """Show when a message was delivered and seen."""
        ...

    def mark_read(self, conversation_id: str) -> None:
        """The reader has seen the newest messages of a conversation."""
        ...

    def recent_emojis(self) -> list[str]:
        """The user's recently used emojis, newest first."""
        ...

    def record_emoji(self, emoji: str) -> None:
        """Remember an emoji the user picked."""
        ...


@dataclass(frozen=True)
class ChatHeader:
    """What the header shows."""

    conversation_id: str
    title: str
    avatar_key: str
    status: str = ""
    """"online", "last seen …", "typing…", or "3 members"."""
    online: bool = False
    pins: tuple[CachedMessage, ...] = ()
    """The cached pinned messages, oldest pin first."""
    can_delete_others: bool = False
    """True for group admins and owners."""
    posting_notice: str | None = None
    """Why the user cannot post here (muted, locked group), shown instead of the composer."""


class ChatView:
    """One open conversation."""

    def __init__(
        self,
        source: WindowSource,
        describe: BubbleFactory,
        actions: ChatActions,
        sender_name: Callable[[CachedMessage], str],
        is_mine: Callable[[CachedMessage], bool],
        on_back: Callable[[], None],
        find_message: Callable[[str], CachedMessage | None],
    ) -> None:
        """``describe`` builds bubble data; ``find_message(id)`` reads one cached message."""
        self._actions = actions
        self._sender_name = sender_name
        self._is_mine = is_mine
        self._find = find_message
        self.header_data: ChatHeader | None = None
        self.on_report: Callable[[CachedMessage], None] | None = None
        """Set to offer "Report" on other people's messages."""
        handlers = BubbleHandlers(
            on_actions=self.open_actions,
            on_toggle_reaction=actions.toggle_reaction,
            on_open_reply=self._open_reply,
            on_retry=actions.retry,
            on_discard=actions.discard,
            on_show_edits=actions.show_edits,
            on_more_reactions=self._more_reactions,
        )
        self.messages = MessageList(source, describe, handlers)
        self.messages.on_unseen_change = self._unseen_changed
        self.composer = Composer(
            ComposerHandlers(
                on_send=self._send,
                on_edit=actions.edit,
                on_emoji=self.toggle_emoji,
                on_typing=self._typing,
            )
        )
        self.picker_slot = ft.Container(visible=False)
        self.picker: EmojiPicker | None = None
        self.back = icon_button(ft.Icons.ARROW_BACK, "Back to chats", on_click=on_back)
        self.title = ft.Text("", weight=ft.FontWeight.BOLD, size=16, max_lines=1)
        self.status = ft.Text("", size=12, color=ft.Colors.ON_SURFACE_VARIANT, max_lines=1)
        self.avatar_slot = ft.Container()
        self.on_search: Callable[[], None] | None = None
        """Set to offer "Search in this chat"."""
        self.search_button = icon_button(
            ft.Icons.SEARCH, "Search in this chat", on_click=self._search
        )
        self.header_actions = ft.Row(spacing=0)
        """Buttons at the header's end (chat settings, group info), filled by the home screen."""
        self.pinned = PinnedBanner(self.jump_to)
        self.new_count = ft.Text("", size=12, weight=ft.FontWeight.BOLD)
        self.to_bottom = ft.Container(
            right=16,
            bottom=12,
            visible=False,
            content=ft.FloatingActionButton(
                content=ft.Row(
                    [
                        labelled_icon(ft.Icons.ARROW_DOWNWARD, "Scroll to the newest messages"),
                        self.new_count,
                    ],
                    tight=True,
                    spacing=2,
                ),
                mini=True,
                tooltip="Scroll to the newest messages",
                on_click=self.messages.jump_to_bottom,
            ),
        )
        self.header = ft.Column(
            spacing=0,
            controls=[
                ft.Container(
                    padding=ft.Padding(4, 6, 12, 6),
                    content=ft.Row(
                        [
                            self.back,
                            self.avatar_slot,
                            ft.Column([self.title, self.status], spacing=0, expand=True),
                            self.search_button,
                            self.header_actions,
                        ],
                        spacing=8,
                    ),
                ),
                self.pinned.control,
            ],
        )
        self.control = ft.Column(
            expand=True,
            spacing=0,
            controls=[
                self.header,
                ft.Divider(height=1),
                ft.Stack([self.messages.list, self.to_bottom], expand=True),
                self.picker_slot,
                self.composer.control,
            ],
        )

    @property
    def conversation_id(self) -> str | None:
        """The open conversation, if any."""
        return self.messages.conversation_id

    def open(self, header: ChatHeader, unread_after_seq: int | None, draft: str = "") -> None:
        """Show ``header``'s conversation from its newest page, with the saved ``draft``."""
        self.show_header(header)
        self.messages.open(header.conversation_id, unread_after_seq)
        self.composer.set_text(draft)
        self.close_emoji()

    def show_header(self, header: ChatHeader) -> None:
        """Update the header (presence, typing, pinned message) without touching the list."""
        self.header_data = header
        self.title.value = header.title
        self.status.value = header.status
        self.status.color = ft.Colors.PRIMARY if "typing" in header.status else None
        self.avatar_slot.content = avatar(header.title, header.avatar_key, header.online, 18)
        self.pinned.show(header.pins)
        self.composer.set_read_only(header.posting_notice)

    def jump_to(self, message_id: str) -> bool:
        """Show the cached message with server id ``message_id`` in context, highlighted;
        False when the cache does not hold it."""
        message = self._find(message_id)
        if message is None or not self.messages.open_at(message):
            return False
        refresh(self.messages.list)
        return True

    def _open_reply(self, message_id: str) -> None:
        self.jump_to(message_id)

    def _search(self) -> None:
        if self.on_search is not None:
            self.on_search()

    def _unseen_changed(self, count: int) -> None:
        self.new_count.value = str(count) if count else ""
        self.to_bottom.visible = count > 0 or not self.messages.showing_latest
        refresh(self.to_bottom)

    def _send(self, text: str, reply_to: CachedMessage | None) -> None:
        if self.conversation_id is None:
            return
        self._actions.send_text(self.conversation_id, text, reply_to)
        page = page_of(self.control)
        if page is not None and not self.messages.showing_latest:
            page.run_task(self.messages.jump_to_bottom)

    def _typing(self, text: str) -> None:
        if self.conversation_id is not None:
            self._actions.typing(self.conversation_id, text)

    # -- emoji picker ------------------------------------------------------------------------

    def toggle_emoji(self) -> None:
        """Open the emoji picker above the composer, or close it."""
        if self.picker_slot.visible:
            self.close_emoji()
        else:
            self.picker = EmojiPicker(self._picked, self.close_emoji, self._actions.recent_emojis())
            self.picker_slot.content = self.picker.control
            self.picker_slot.visible = True
        refresh(self.control)

    def close_emoji(self) -> None:
        """Close the emoji picker."""
        self.picker = None
        self.picker_slot.visible = False
        self.picker_slot.content = None
        refresh(self.control)

    def _picked(self, char: str) -> None:
        self._actions.record_emoji(char)
        self.composer.insert(char)
        refresh(self.composer.control)

    def handle_key(self, key: str, shift: bool) -> bool:
        """Keyboard path for the open chat: the picker's keys, then Esc cancels reply / edit."""
        if self.picker is not None and self.picker.handle_key(key):
            return True
        return key == "Escape" and self.composer.cancel()

    # -- message actions ---------------------------------------------------------------------

    def _dialog(self, dialog: ft.AlertDialog) -> None:
        page = page_of(self.control)
        if page is not None:
            page.show_dialog(dialog)

    def _close_dialog(self) -> None:
        page = page_of(self.control)
        if page is not None:
            close_dialog(page)

    def open_actions(self, message: CachedMessage) -> None:
        """Open the action menu for ``message``."""
        if message.deleted:
            return
        mine = self._is_mine(message)
        header = self.header_data
        actions: list[MessageAction] = []
        sent = message.id is not None
        if sent:
            actions.append(MessageAction("Reply", ft.Icons.REPLY, lambda: self._reply(message)))
        actions.append(MessageAction("Copy", ft.Icons.COPY, lambda: self._actions.copy(message)))
        if mine and sent:
            actions.append(MessageAction("Edit", ft.Icons.EDIT, lambda: self._edit(message)))
        if sent:
            actions.append(
                MessageAction("Forward", ft.Icons.SHORTCUT, lambda: self._actions.forward(message))
            )
            actions.append(
                MessageAction(
                    "Unpin" if self.pinned.is_pinned(message) else "Pin",
                    ft.Icons.PUSH_PIN_OUTLINED,
                    lambda: self._actions.pin(message),
                )
            )
        if mine or (header is not None and header.can_delete_others):
            actions.append(
                MessageAction(
                    "Delete", ft.Icons.DELETE_OUTLINE, lambda: self._confirm_delete(message)
                )
            )
        if mine and sent:
            actions.append(
                MessageAction("Info", ft.Icons.INFO_OUTLINE, lambda: self._actions.info(message))
            )
        report = self.on_report
        if sent and not mine and report is not None:
            actions.append(MessageAction("Report", ft.Icons.FLAG_OUTLINED, lambda: report(message)))

        def react(char: str) -> None:
            self._actions.toggle_reaction(message, char)

        self._dialog(
            actions_dialog(
                message,
                actions,
                react if sent else None,
                lambda: self._more_reactions(message),
                self._close_dialog,
            )
        )

    def _reply(self, message: CachedMessage) -> None:
        self.composer.reply_to(message, self._sender_name(message))
        refresh(self.composer.control)

    def _edit(self, message: CachedMessage) -> None:
        self.composer.edit(message)
        refresh(self.composer.control)

    def _confirm_delete(self, message: CachedMessage) -> None:
        self._dialog(
            confirm_dialog(
                "Delete message?",
                "It will be deleted for everyone in this chat.",
                "Delete",
                lambda: self._actions.delete(message),
                self._close_dialog,
            )
        )

    def _more_reactions(self, message: CachedMessage) -> None:
        def pick(char: str) -> None:
            self._close_dialog()
            self._actions.toggle_reaction(message, char)

        picker = EmojiPicker(
            pick, self._close_dialog, self._actions.recent_emojis(), allowed=REACTION_EMOJIS
        )
        self._dialog(
            ft.AlertDialog(title=ft.Text("React"), content=ft.Container(picker.control, width=360))
        )

    def refresh(self, header: ChatHeader | None = None) -> None:
        """Re-read the window (and the header) after the store changed."""
        if header is not None:
            self.show_header(header)
        self.messages.refresh()
