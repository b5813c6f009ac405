"""The chat's message list: a bounded window over the cache that pages as you scroll.

The list is a reversed ``ListView`` (index 0 is the newest message, at the bottom), so adding
older messages at the top never moves what the reader is looking at. The window holds at most
:data:`MAX_WINDOW` messages: paging further up drops the newest ones, paging back down drops the
oldest, so the number of message controls stays bounded however long the history is.
New messages join the window only while the reader is at the bottom; otherwise they are counted
for the scroll-to-bottom button.
"""

from collections.abc import Callable
from datetime import UTC, datetime, tzinfo
from typing import Protocol

import flet as ft

from client.offline.records import CachedMessage, MessageStatus
from client.views.bubble import BubbleData, BubbleHandlers, bubble
from client.views.format import day_label

PAGE_SIZE = 50
"""Messages read from the cache per page."""
MAX_WINDOW = 150
"""The most messages (and so message controls) the list ever holds."""
EDGE_PIXELS = 600.0
"""Load the next page when the viewport is this close to the window's edge."""
BOTTOM_PIXELS = 24.0
"""Within this distance of the bottom the reader counts as "at the bottom"."""


class MessagePager(Protocol):
    """Keyset paging over one conversation's cached messages (``offline.cache.Cache`` fits)."""

    def messages_before(
        self, conversation_id: str, before: int | None = None, limit: int = 50
    ) -> list[CachedMessage]:
        """Up to ``limit`` messages before ``position`` (None: the newest), oldest first."""
        ...

    def messages_after(
        self, conversation_id: str, after: int, limit: int = 50
    ) -> list[CachedMessage]:
        """Up to ``limit`` messages after ``position``, oldest first."""
        ...


BubbleFactory = Callable[[CachedMessage], BubbleData]


class MessageList:
    """A bounded, paging window of bubbles for one conversation."""

    def __init__(
        self,
        pager: MessagePager,
        describe: BubbleFactory,
        handlers: BubbleHandlers,
        zone: tzinfo | None = None,
    ) -> None:
        """``describe`` turns a cached message into what its bubble shows (names, quote)."""
        self._pager = pager
        self._describe = describe
        self._handlers = handlers
        self._zone = zone
        self.conversation_id: str | None = None
        self.window: list[CachedMessage] = []
        """The messages on screen, oldest first."""
        self.has_older = False
        self.at_latest = True
        """True when the window ends with the conversation's newest message."""
        self.at_bottom = True
        self.unseen = 0
        """New messages that arrived while the reader was scrolled up."""
        self.unread_after_seq: int | None = None
        """Messages from others with a larger seq get the "Unread messages" marker above."""
        self.highlight: int | None = None
        """``local_id`` of a message a search or quote jumped to."""
        self._built: dict[int, tuple[CachedMessage, bool, ft.Control]] = {}
        self._loading = False
        self.on_unseen_change: Callable[[int], None] = lambda _: None
        self.list = ft.ListView(
            reverse=True,
            expand=True,
            spacing=6,
            padding=ft.Padding.symmetric(horizontal=12, vertical=8),
            on_scroll=self._on_scroll,
            scroll_interval=50,
        )

    # -- what tests and the bench read -------------------------------------------------------

    def message_control_count(self) -> int:
        """How many message bubbles the list holds right now."""
        return len(self._built)

    # -- loading ---------------------------------------------------------------------------

    def open(self, conversation_id: str, unread_after_seq: int | None = None) -> None:
        """Show the newest page of ``conversation_id``."""
        self.conversation_id = conversation_id
        self.unread_after_seq = unread_after_seq
        self.highlight = None
        self._built.clear()
        self.window = self._pager.messages_before(conversation_id, None, PAGE_SIZE)
        self.has_older = len(self.window) == PAGE_SIZE
        self.at_latest = True
        self.at_bottom = True
        self._set_unseen(0)
        self._render()

    def open_at(self, conversation_id: str, message: CachedMessage) -> None:
        """Show ``message`` in context (highlighted, near the bottom of the viewport)."""
        self.conversation_id = conversation_id
        self._built.clear()
        before = self._pager.messages_before(conversation_id, message.position, PAGE_SIZE)
        after = self._pager.messages_after(conversation_id, message.position, 5)
        self.window = [*before, message, *after]
        self.has_older = len(before) == PAGE_SIZE
        self.at_latest = len(after) < 5
        self.highlight = message.local_id
        self._render()

    def refresh(self) -> None:
        """Re-read the window from the pager after the store says the conversation changed."""
        if self.conversation_id is None:
            return
        if self.at_latest and self.at_bottom:
            count = max(PAGE_SIZE, len(self.window))
            fresh = self._pager.messages_before(self.conversation_id, None, count)
            self.window = fresh[-MAX_WINDOW:]
            self.has_older = self.has_older or len(fresh) > len(self.window)
        elif self.window:
            start = self.window[0].position - 1
            fresh = self._pager.messages_after(self.conversation_id, start, len(self.window) + 1)
            known = {m.local_id for m in self.window}
            newest = self.window[-1].position
            self.window = [m for m in fresh if m.local_id in known or m.position <= newest]
            if self.at_latest:
                self._set_unseen(self.unseen + sum(1 for m in fresh if m.local_id not in known))
                self.at_latest = False
        self._render()

    def load_older(self) -> bool:
        """Add the page before the window (dropping the newest beyond the bound)."""
        if self.conversation_id is None or not self.window or not self.has_older:
            return False
        older = self._pager.messages_before(
            self.conversation_id, self.window[0].position, PAGE_SIZE
        )
        self.has_older = len(older) == PAGE_SIZE
        if not older:
            return False
        self.window = older + self.window
        if len(self.window) > MAX_WINDOW:
            self.window = self.window[:MAX_WINDOW]
            self.at_latest = False
        self._render()
        return True

    def load_newer(self) -> bool:
        """Add the page after the window (dropping the oldest beyond the bound)."""
        if self.conversation_id is None or not self.window or self.at_latest:
            return False
        newer = self._pager.messages_after(
            self.conversation_id, self.window[-1].position, PAGE_SIZE
        )
        self.at_latest = len(newer) < PAGE_SIZE
        self.window = self.window + newer
        if len(self.window) > MAX_WINDOW:
            self.window = self.window[-MAX_WINDOW:]
            self.has_older = True
        if self.at_latest:
            self._set_unseen(0)
        self._render()
        return bool(newer)

    async def jump_to_bottom(self) -> None:
        """Show the newest messages and scroll to them (the scroll-to-bottom button)."""
        if self.conversation_id is None:
            return
        if not self.at_latest:
            self.open(self.conversation_id, self.unread_after_seq)
        self.at_bottom = True
        self._set_unseen(0)
        self.list.update()
        await self.list.scroll_to(offset=0, duration=200)

    # -- rendering -------------------------------------------------------------------------

    def _set_unseen(self, count: int) -> None:
        if count != self.unseen:
            self.unseen = count
            self.on_unseen_change(count)

    def _bubble(self, message: CachedMessage) -> ft.Control:
        highlighted = message.local_id == self.highlight
        cached = self._built.get(message.local_id)
        if cached is not None and cached[0] == message and cached[1] == highlighted:
            return cached[2]
        data = self._describe(message)
        if highlighted:
            data = BubbleData(
                message=data.message,
                mine=data.mine,
                sender_name=data.sender_name,
                reply=data.reply,
                usernames=data.usernames,
                highlighted=True,
            )
        control = bubble(data, self._handlers)
        self._built[message.local_id] = (message, highlighted, control)
        return control

    def _render(self) -> None:
        now = datetime.now(UTC)
        controls: list[ft.Control] = []
        keep: set[int] = set()
        previous: CachedMessage | None = None
        marker_done = self.unread_after_seq is None
        for message in self.window:
            new_day = previous is None or (
                message.created_at.astimezone(self._zone).date()
                != previous.created_at.astimezone(self._zone).date()
            )
            if new_day and (previous is not None or not self.has_older):
                controls.append(_separator(day_label(message.created_at, now, self._zone)))
            if (
                not marker_done
                and message.seq is not None
                and self.unread_after_seq is not None
                and message.seq > self.unread_after_seq
                and message.status == MessageStatus.RECEIVED
            ):
                controls.append(_separator("Unread messages", unread=True))
                marker_done = True
            controls.append(self._bubble(message))
            keep.add(message.local_id)
            previous = message
        for local_id in list(self._built):
            if local_id not in keep:
                del self._built[local_id]
        controls.reverse()
        self.list.controls = controls

    def _on_scroll(self, event: ft.OnScrollEvent) -> None:
        self.at_bottom = event.pixels <= BOTTOM_PIXELS
        if self._loading:
            return
        self._loading = True
        try:
            changed = False
            if event.max_scroll_extent - event.pixels < EDGE_PIXELS:
                changed = self.load_older()
            elif event.pixels < EDGE_PIXELS and not self.at_latest:
                changed = self.load_newer()
            elif self.at_bottom and self.unseen:
                self.refresh()
                self._set_unseen(0)
                changed = True
            if changed:
                self.list.update()
        finally:
            self._loading = False


def _separator(text: str, unread: bool = False) -> ft.Control:
    """A centred day or "Unread messages" label between bubbles."""
    return ft.Row(
        [
            ft.Container(
                ft.Text(
                    text,
                    size=12,
                    weight=ft.FontWeight.BOLD if unread else None,
                    color=ft.Colors.ON_SECONDARY_CONTAINER,
                ),
                bgcolor=ft.Colors.SECONDARY_CONTAINER,
                padding=ft.Padding.symmetric(horizontal=10, vertical=3),
                border_radius=10,
            )
        ],
        alignment=ft.MainAxisAlignment.CENTER,
    )
