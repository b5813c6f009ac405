"""The composer: a multiline field (Enter sends, Shift+Enter is a new line), the send and emoji
buttons, and the reply / edit bar (Esc or its close button cancels)."""

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

import flet as ft

from client.offline.records import CachedMessage
from client.views.typed_text import TypedText
from client.views.widgets import icon_button, refresh, relabel
from protocol.limits import MAX_TEXT_LENGTH

SETTLE_SECONDS = 0.4
"""How long the typing pauses before keys the clear after a send wiped are put back."""


class ComposerMode(StrEnum):
    """What pressing send does."""

    NEW = "new"
    REPLY = "reply"
    EDIT = "edit"


def _ignore_text(_: str) -> None:
    """Default handler: nothing happens."""


def _ignore() -> None:
    """Default handler: nothing happens."""


@dataclass(frozen=True)
class ComposerHandlers:
    """What the composer asks the chat screen to do."""

    on_send: Callable[[str, CachedMessage | None], None]
    """Send ``text``, replying to the message when one is given."""
    on_edit: Callable[[CachedMessage, str], None]
    on_emoji: Callable[[], None] = _ignore
    """Open the emoji picker (it inserts through :meth:`Composer.insert`)."""
    on_typing: Callable[[str], None] = _ignore_text
    """Called with the field's text on every change (typing indicators, drafts)."""


class Composer:
    """The message field with its buttons and the reply / edit bar."""

    def __init__(self, handlers: ComposerHandlers) -> None:
        """Build an empty composer."""
        self._handlers = handlers
        self.mode = ComposerMode.NEW
        self.target: CachedMessage | None = None
        self._cursor: int | None = None
        self._typed = TypedText()
        self._keys = 0
        """Counts the browser's reports, to tell when the typing paused."""
        self.on_edited: Callable[[str, int | None], None] | None = None
        """Called with the text and the cursor after every edit or cursor move (mentions)."""
        self.intercept_submit: Callable[[], bool] | None = None
        """Asked first when Enter is pressed; True means it used the key (a mention was
        inserted) and nothing is sent."""
        self.suggestions = ft.Container()
        """Shown above the field (the mention suggestions)."""
        self.field = ft.TextField(
            label="Message",
            multiline=True,
            shift_enter=True,
            min_lines=1,
            max_lines=6,
            max_length=MAX_TEXT_LENGTH,
            expand=True,
            border=ft.OutlineInputBorder(border_radius=20),
            dense=True,
            counter="",
            on_change=self._changed,
            on_submit=self._submit,
            on_selection_change=self._selection_changed,
        )
        self.send_button = icon_button(ft.Icons.SEND, "Send", disabled=True, on_click=self._submit)
        self.emoji_button = icon_button(
            ft.Icons.EMOJI_EMOTIONS_OUTLINED, "Emoji", on_click=handlers.on_emoji
        )
        self.bar_text = ft.Text("", max_lines=2, overflow=ft.TextOverflow.ELLIPSIS, expand=True)
        self.bar_icon = ft.Icon(ft.Icons.REPLY, size=18)
        self.bar_close = icon_button(ft.Icons.CLOSE, "Cancel reply", size=18, on_click=self.cancel)
        self.bar = ft.Container(
            visible=False,
            padding=ft.Padding(12, 4, 4, 4),
            border=ft.Border(left=ft.BorderSide(3, ft.Colors.PRIMARY)),
            content=ft.Row([self.bar_icon, self.bar_text, self.bar_close], spacing=8),
        )
        self.input_row = ft.Row(
            [self.emoji_button, self.field, self.send_button],
            spacing=4,
            vertical_alignment=ft.CrossAxisAlignment.END,
        )
        self.notice_text = ft.Text("", color=ft.Colors.ON_SURFACE_VARIANT, expand=True)
        self.notice = ft.Container(
            visible=False,
            padding=ft.Padding(12, 10, 12, 10),
            border_radius=20,
            bgcolor=ft.Colors.SURFACE_CONTAINER_HIGHEST,
            content=ft.Row([ft.Icon(ft.Icons.LOCK_OUTLINE, size=18), self.notice_text], spacing=8),
        )
        """Shown instead of the field while the user cannot post (muted, locked group)."""
        self.control = ft.Container(
            padding=ft.Padding(8, 4, 8, 8),
            content=ft.Column(
                [self.suggestions, self.bar, self.input_row, self.notice],
                spacing=4,
                tight=True,
            ),
        )

    @property
    def read_only(self) -> bool:
        """True while a notice replaces the field."""
        return self.notice.visible

    def set_read_only(self, notice: str | None) -> None:
        """Replace the field with ``notice`` (why the user cannot post), or bring it back with
        None. A reply or edit under way is cancelled; the typed text is kept."""
        if notice is not None and self.mode != ComposerMode.NEW:
            self.cancel()
        self.notice.visible = notice is not None
        self.notice_text.value = notice or ""
        self.input_row.visible = notice is None

    @property
    def text(self) -> str:
        """The field's current text: what the person typed, keys the browser has not shown yet
        included (see :class:`TypedText`)."""
        return self._typed.text

    def set_text(self, text: str) -> None:
        """Replace the field's text (a restored draft) and put the cursor at its end."""
        self._typed.set(text)
        self._set_value(text)

    def _set_value(self, text: str) -> None:
        self.field.value = text
        self._cursor = len(text)
        self._sync_send()

    def reply_to(self, message: CachedMessage, sender_name: str) -> None:
        """Show the reply bar for ``message``; the next send replies to it."""
        self.mode, self.target = ComposerMode.REPLY, message
        self.bar_icon.icon = ft.Icons.REPLY
        self.bar_text.value = f"Replying to {sender_name}: {message.text or ''}"
        relabel(self.bar_close, ft.Icons.CLOSE, "Cancel reply")
        self.bar.visible = True

    def edit(self, message: CachedMessage) -> None:
        """Show the edit bar and put ``message``'s text in the field."""
        self.mode, self.target = ComposerMode.EDIT, message
        self.bar_icon.icon = ft.Icons.EDIT
        self.bar_text.value = "Editing message"
        relabel(self.bar_close, ft.Icons.CLOSE, "Cancel edit")
        self.bar.visible = True
        self.set_text(message.text or "")

    def cancel(self) -> bool:
        """Leave reply / edit mode (Esc); returns False when there was nothing to cancel."""
        if self.mode == ComposerMode.NEW:
            return False
        if self.mode == ComposerMode.EDIT:
            self.set_text("")
        self.mode, self.target = ComposerMode.NEW, None
        self.bar.visible = False
        refresh(self.control)
        return True

    def insert(self, text: str) -> None:
        """Insert ``text`` at the cursor (the emoji picker's choice)."""
        value = self.text
        at = len(value) if self._cursor is None else min(self._cursor, len(value))
        self.replace(at, at, text)

    def replace(self, start: int, end: int, text: str) -> None:
        """Replace ``field.value[start:end]`` with ``text`` and put the cursor after it."""
        value = self.text
        self.field.value = value[:start] + text + value[end:]
        self._typed.set(self.field.value)
        self._cursor = start + len(text)
        self.field.selection = ft.TextSelection(self._cursor, self._cursor)
        self._sync_send()
        self._handlers.on_typing(self.text)

    def _sync_send(self) -> None:
        self.send_button.disabled = not self.text.strip()

    async def _changed(self, event: ft.Event[ft.TextField]) -> None:
        """A key changed the browser's text (``event.data``). Keys that a clear after a send
        wiped are put back once the typing pauses."""
        self._typed.reported(event.data if isinstance(event.data, str) else self.field.value)
        self._sync_send()
        refresh(self.send_button)
        self._handlers.on_typing(self.text)
        self._edited()
        if not self._typed.settling:
            return
        self._keys += 1
        keys = self._keys
        await asyncio.sleep(SETTLE_SECONDS)
        restored = self._typed.settle() if keys == self._keys else None
        if restored is not None:
            self._set_value(restored)
            refresh(self.control)

    def _selection_changed(self, event: ft.TextSelectionChangeEvent[ft.TextField]) -> None:
        self._cursor = max(event.selection.base_offset, event.selection.extent_offset)
        self._edited()

    def _edited(self) -> None:
        if self.on_edited is not None:
            self.on_edited(self.text, self._cursor)

    async def _submit(self) -> None:
        if self.intercept_submit is not None and self.intercept_submit():
            refresh(self.control)
            await self.field.focus()
            return
        text = self.text.strip()
        if not text or self.read_only:
            return
        if self.mode == ComposerMode.EDIT and self.target is not None:
            if text != (self.target.text or ""):
                self._handlers.on_edit(self.target, text)
        else:
            reply = self.target if self.mode == ComposerMode.REPLY else None
            self._handlers.on_send(text, reply)
        self.mode, self.target = ComposerMode.NEW, None
        self.bar.visible = False
        self._typed.replace("")
        self._set_value("")
        self._handlers.on_typing("")
        refresh(self.control)
        await self.field.focus()
