"""The chat's message list: renders the store's bounded window of the open chat and pages it.

The list is a reversed ``ListView`` (index 0 is the newest message, at the bottom), so adding
older messages at the top never moves what the reader is looking at. Scrolling near the top asks
the store for the older page, near the bottom (when the window does not end at the newest
message) for the newer one; the store drops messages beyond its window size, so the number of
message controls stays bounded however long the history is. Where the cache does not hold the
next page (a new device caches only recent messages; a jump fetched a page far back), the list
asks its ``history`` to fetch it first — still one page change at a time. New messages join the
list only while the reader is at the bottom; otherwise they are counted for the scroll-to-bottom
button.
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, tzinfo
from typing import Protocol

import flet as ft

from client.errors import OpenChatError
from client.offline.records import CachedMessage, MessageStatus
from client.store import ChatWindow
from client.views.bubble import BubbleData, BubbleHandlers, bubble
from client.views.widgets import page_of, refresh
from client.wording import day_label

EDGE_PIXELS = 600.0
"""Ask for the next page when the viewport is this close to the window's edge."""
BOTTOM_PIXELS = 24.0
"""Within this distance of the bottom the reader counts as "at the bottom"."""
HIGHLIGHT_SECONDS = 2.5
"""How long the message a jump went to stays highlighted."""
BUTTON_CLEARANCE = 64.0
"""Space under the newest bubble, so the scroll-to-bottom button (a mini FAB 40 pixels high,
12 above the list's bottom) never covers it."""

log = logging.getLogger(__name__)


class WindowSource(Protocol):
    """The part of ``client.store.Store`` the list reads and drives."""

    window: ChatWindow | None

    def load_older(self) -> bool:
        """Page the window back; False when there is nothing older."""
        ...

    def load_newer(self) -> bool:
        """Page the window forward; False when it already ends at the newest message."""
        ...

    def open_chat(self, conversation_id: str) -> ChatWindow:
        """Reset the window to the newest page."""
        ...

    def open_at(self, conversation_id: str, message_id: str) -> ChatWindow | None:
        """Reset the window to end just after one message; None when it is not cached."""
        ...

    def missing_before(self) -> int | None:
        """The window's first seq when the cache lacks the messages before it."""
        ...

    def missing_after(self) -> int | None:
        """The window's last seq when the cache lacks the messages after it."""
        ...


class HistoryFetcher(Protocol):
    """Fetches the pages the cache lacks (``client.history.History``)."""

    def fill_before(self, conversation_id: str, seq: int) -> Awaitable[int]:
        """Cache the page before ``seq``; how many messages came."""
        ...

    def fill_after(self, conversation_id: str, seq: int) -> Awaitable[int]:
        """Cache the page after ``seq``; how many messages came."""
        ...

    def load_around(self, conversation_id: str, seq: int) -> Awaitable[int]:
        """Cache the messages around ``seq``; how many came."""
        ...


BubbleFactory = Callable[[CachedMessage], BubbleData]


class MessageList:
    """The bubbles of the store's chat window."""

    def __init__(
        self,
        source: WindowSource,
        describe: BubbleFactory,
        handlers: BubbleHandlers,
        zone: tzinfo | None = None,
    ) -> None:
        """``describe`` turns a cached message into what its bubble shows (names, quote)."""
        self._source = source
        self._describe = describe
        self._handlers = handlers
        self._zone = zone
        self.conversation_id: str | None = None
        self.shown: list[CachedMessage] = []
        """The messages on screen, oldest first."""
        self.at_bottom = True
        self.unseen = 0
        """New messages that arrived while the reader was scrolled up."""
        self._cutoff: int | None = None
        """While scrolled up: the newest position shown; newer messages wait (``unseen``)."""
        self.unread_after_seq: int | None = None
        """Messages from others with a larger seq get the "Unread messages" marker above."""
        self.highlight: int | None = None
        """``local_id`` of a message a search or quote jumped to."""
        self._built: dict[int, tuple[CachedMessage, bool, ft.Control, bool]] = {}
        """Per ``local_id``: the message, highlighted, its bubble, and whether the bubble shows
        all it should (a reply's original may come from the server later)."""
        self._paging = False
        """A page change (and the jump that keeps the viewport still) is under way."""
        self._latest_missed: ft.OnScrollEvent | None = None
        """The newest scroll event that came while a page change was under way."""
        self.on_unseen_change: Callable[[int], None] = lambda _: None
        self.history: HistoryFetcher | None = None
        """Fetches the pages the cache lacks; without it paging stops where the cache ends."""
        self.list = ft.ListView(
            reverse=True,
            expand=True,
            spacing=6,
            padding=ft.Padding.only(left=12, top=8, right=12, bottom=BUTTON_CLEARANCE),
            on_scroll=self._on_scroll,
            scroll_interval=0,
        )

    def message_control_count(self) -> int:
        """How many message bubbles the list holds right now."""
        return len(self._built)

    def open(self, conversation_id: str, unread_after_seq: int | None = None) -> None:
        """Show the newest page of ``conversation_id``."""
        self.conversation_id = conversation_id
        self.unread_after_seq = unread_after_seq
        self.highlight = None
        self._built.clear()
        self._cutoff = None
        self.at_bottom = True
        self._set_unseen(0)
        self._source.open_chat(conversation_id)
        self.refresh()

    def open_at(self, message: CachedMessage) -> bool:
        """Show ``message`` highlighted at the bottom of the list, however old it is (the store
        loads the history around it); False when it is not in the cache."""
        if self.conversation_id is None or message.id is None:
            return False
        if self._source.open_at(self.conversation_id, message.id) is None:
            return False
        self.highlight = message.local_id
        self._cutoff = None
        self.at_bottom = True
        self._set_unseen(0)
        self.on_unseen_change(0)  # the window is not the newest: offer the way back
        self.refresh()
        page = page_of(self.list)
        if page is not None:
            page.run_task(self.list.scroll_to, offset=0)
            page.run_task(self._fade_highlight, message.local_id)
            if self._lacks_context():
                page.run_task(self._load_around, message)
        return True

    def _lacks_context(self) -> bool:
        """Whether the cache lacks the messages on either side of the window (a message
        fetched alone: a pinned or quoted one older than the rest of the cache)."""
        source = self._source
        return self.history is not None and (
            source.missing_before() is not None or source.missing_after() is not None
        )

    async def _load_around(self, message: CachedMessage) -> None:
        """Fetch the history around the message a jump showed, then show it in context
        (offline the jump stays on what the cache has)."""
        history, conversation_id = self.history, self.conversation_id
        if history is None or conversation_id is None or message.seq is None:
            return
        try:
            await history.load_around(conversation_id, message.seq)
        except OpenChatError as error:
            log.info("history around a message not fetched: %s", error)
            return
        window = self._source.window
        shown = window is not None and any(m.local_id == message.local_id for m in window.messages)
        if self.conversation_id != conversation_id or not shown:
            return  # the reader went elsewhere meanwhile
        if message.id is None or self._source.open_at(conversation_id, message.id) is None:
            return
        self.refresh()
        refresh(self.list)
        await self.list.scroll_to(offset=0)

    async def _fade_highlight(self, local_id: int) -> None:
        await asyncio.sleep(HIGHLIGHT_SECONDS)
        if self.highlight == local_id:
            self.highlight = None
            self.refresh()
            refresh(self.list)

    @property
    def showing_latest(self) -> bool:
        """True when the newest message is in view (not scrolled up, not jumped back)."""
        window = self._source.window
        return self.at_bottom and (window is None or window.at_latest)

    def refresh(self) -> None:
        """Re-render from the store's window (call it when the store notifies the open chat)."""
        window = self._source.window
        if window is None or window.conversation_id != self.conversation_id:
            return
        messages = list(window.messages)
        if self._cutoff is not None:
            newer = [m for m in messages if m.position > self._cutoff]
            if newer and window.at_latest:
                self._set_unseen(len(newer))
            messages = [m for m in messages if m.position <= self._cutoff]
        self.shown = messages
        self._render(window.has_older)

    async def jump_to_bottom(self) -> None:
        """Show the newest messages and scroll to them (the scroll-to-bottom button)."""
        if self.conversation_id is None:
            return
        window = self._source.window
        if window is None or not window.at_latest:
            self._source.open_chat(self.conversation_id)
        self._cutoff = None
        self.at_bottom = True
        self.highlight = None
        self._set_unseen(0)
        self.on_unseen_change(0)
        self.refresh()
        refresh(self.list)
        await self.list.scroll_to(offset=0, duration=200)

    # -- rendering -------------------------------------------------------------------------

    def _set_unseen(self, count: int) -> None:
        if count != self.unseen:
            self.unseen = count
            self.on_unseen_change(count)

    def _bubble(self, message: CachedMessage) -> ft.Control:
        highlighted = message.local_id == self.highlight
        cached = self._built.get(message.local_id)
        if cached is not None and cached[0] == message and cached[1] == highlighted and cached[3]:
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
        complete = message.reply_to_id is None or data.reply is not None
        self._built[message.local_id] = (message, highlighted, control, complete)
        return control

    def _render(self, has_older: bool) -> None:
        now = datetime.now(UTC)
        controls: list[ft.Control] = []
        keep: set[int] = set()
        previous: CachedMessage | None = None
        marker_done = self.unread_after_seq is None
        for message in self.shown:
            new_day = previous is None or (
                message.created_at.astimezone(self._zone).date()
                != previous.created_at.astimezone(self._zone).date()
            )
            if new_day and (previous is not None or not has_older):
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

    async def _on_scroll(self, event: ft.OnScrollEvent) -> None:
        # async: handlers run on the page's loop (sync ones would run in threads, where an event
        # arriving mid-load could be lost and paging stall at the edge). They still overlap while
        # one awaits the client's jump: one page change is made at a time, and the newest event
        # that came meanwhile is looked at once it is done (a reader resting at the edge sends no
        # more events, and would otherwise stay stuck there).
        was_at_bottom = self.at_bottom
        self.at_bottom = event.pixels <= BOTTOM_PIXELS
        if was_at_bottom and not self.at_bottom and self.shown:
            self._cutoff = self.shown[-1].position
        if self.at_bottom and self._cutoff is not None:
            self._cutoff = None
            self._set_unseen(0)
            self.refresh()
            refresh(self.list)
        if self._paging:
            self._latest_missed = event
            return
        self._paging = True
        try:
            next_event: ft.OnScrollEvent | None = event
            while next_event is not None:
                await self._page_at_edge(next_event)
                next_event, self._latest_missed = self._latest_missed, None
        finally:
            self._paging = False

    async def _page_at_edge(self, event: ft.OnScrollEvent) -> None:
        """Near the top, load the older page; near the bottom of a window that does not end at
        the newest message, the newer one — then jump by what was dropped or added at the
        bottom, so the messages the reader looks at stay where they are."""
        window = self._source.window
        before = self.shown  # refresh() replaces this list, never changes it
        if window is None or not before:
            return
        if event.max_scroll_extent - event.pixels < EDGE_PIXELS:
            if not await self._older():
                return
            self.refresh()
            added_at_bottom = -len(_ids(before) - _ids(self.shown))
        elif event.pixels < EDGE_PIXELS and not window.at_latest:
            if not await self._newer():
                return
            self._show_paged_in()
            self.refresh()
            added_at_bottom = len(_ids(self.shown) - _ids(before))
        else:
            return
        # by the average height of what was shown (heights are only known to Flutter)
        shift = added_at_bottom * (event.max_scroll_extent + event.viewport_dimension) / len(before)
        refresh(self.list)
        if shift and page_of(self.list) is not None:
            await self.list.scroll_to(delta=shift)

    def _show_paged_in(self) -> None:
        """Move the cutoff past a newer page: it holds history the reader scrolled to, not news
        that arrived while they read (a cutoff set where a jump left the window would otherwise
        hide every page paged in below it, and show them all at once at the bottom)."""
        window = self._source.window
        if self._cutoff is not None and window is not None and window.messages:
            self._cutoff = max(self._cutoff, window.messages[-1].position)

    async def _older(self) -> bool:
        """Page back, fetching the page first when the cache lacks it."""
        history = self.history
        fill = history.fill_before if history is not None else None
        return await self._page(self._source.load_older, self._source.missing_before, fill)

    async def _newer(self) -> bool:
        """Page forward, fetching the page first when the cache lacks it."""
        history = self.history
        fill = history.fill_after if history is not None else None
        return await self._page(self._source.load_newer, self._source.missing_after, fill)

    async def _page(
        self,
        load: Callable[[], bool],
        missing: Callable[[], int | None],
        fill: Callable[[str, int], Awaitable[int]] | None,
    ) -> bool:
        """``load`` a page from the cache; when the cache lacks it (``missing`` says after
        which seq), ``fill`` it from the server and load again. Offline (or refused) the list
        simply stops where the cache ends, and the next scroll at the edge asks again."""
        if load():
            return True
        seq = missing()
        conversation_id = self.conversation_id
        if seq is None or fill is None or conversation_id is None:
            return False
        try:
            fetched = await fill(conversation_id, seq)
        except OpenChatError as error:
            log.info("history page not fetched: %s", error)
            return False
        return fetched > 0 and load()


def _ids(messages: list[CachedMessage]) -> set[int]:
    """The local ids of ``messages``."""
    return {m.local_id for m in messages}


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
