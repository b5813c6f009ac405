"""The chat's message list pages through a long history one page change at a time: scroll events
that arrive while a page is being swapped in are not lost (a reader resting at the edge sends no
more), and the number of bubbles stays bounded by the store's window."""

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import flet as ft
import pytest

from client.errors import NetworkError
from client.offline.cache import Cache
from client.store import Store, Topic
from client.views.home import Home
from client.views.message_list import MessageList
from tests.e2e.apps import LocalActions
from tests.e2e.seed import BIG_CHAT, ME, seed_cache

HISTORY = 1_000
VIEWPORT = 700.0
WINDOW = 200
"""The store's window: the most bubbles the list may hold."""


@pytest.fixture
def cache(tmp_path: Path) -> Iterator[Cache]:
    """A cache holding a chat of ``HISTORY`` messages."""
    cache = seed_cache(tmp_path, HISTORY)
    yield cache
    cache.close()


@pytest.fixture
def home(cache: Cache) -> Home:
    """The real home screen over that cache, with the long chat open."""
    store = Store(cache)
    home = Home(store, LocalActions(store), ME.id, lambda: None)
    home.open_chat(BIG_CHAT)
    return home


@pytest.fixture
def message_list(home: Home) -> MessageList:
    """The open chat's message list."""
    return home.chat.messages


def scrolled(messages: MessageList, pixels: float, extent: float) -> ft.OnScrollEvent:
    """A scroll notification at ``pixels`` of ``extent`` (0 = the newest message at the bottom)."""
    return ft.OnScrollEvent(
        name="scroll",
        control=messages.list,
        event_type=ft.ScrollType.UPDATE,
        pixels=pixels,
        min_scroll_extent=0.0,
        max_scroll_extent=extent,
        viewport_dimension=VIEWPORT,
    )


def oldest_seq(messages: MessageList) -> int:
    """The seq of the oldest message the list shows."""
    seq = messages.shown[0].seq
    assert seq is not None
    return seq


async def test_an_event_during_a_page_change_is_handled_after_it(
    message_list: MessageList, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While the first page change waits for its jump, a second event at the top edge is kept
    and handled once the first is done: two pages, one after the other, never overlapping."""
    jump_started, release = asyncio.Event(), asyncio.Event()
    jumps: list[float] = []

    async def slow_jump(**kwargs: Any) -> None:
        jumps.append(kwargs["delta"])
        jump_started.set()
        await release.wait()

    monkeypatch.setattr("client.views.message_list.page_of", lambda _control: object())
    monkeypatch.setattr("client.views.message_list.refresh", lambda *_controls: None)
    while message_list.message_control_count() < WINDOW:  # fill the window: no drops, no jumps
        await message_list._on_scroll(scrolled(message_list, 2900, 3000))
    monkeypatch.setattr(message_list.list, "scroll_to", slow_jump)
    first_oldest = oldest_seq(message_list)

    first = asyncio.create_task(message_list._on_scroll(scrolled(message_list, 2900, 3000)))
    await asyncio.wait_for(jump_started.wait(), 5)
    after_first = oldest_seq(message_list)
    assert after_first < first_oldest
    await message_list._on_scroll(scrolled(message_list, 2950, 3000))  # returns at once
    assert oldest_seq(message_list) == after_first, "no second page while the first is swapped in"
    release.set()
    await asyncio.wait_for(first, 5)
    assert oldest_seq(message_list) < after_first, "the kept event paged once more"
    assert len(jumps) == 2 and all(delta < 0 for delta in jumps), "down by what was dropped"


async def test_scrolling_through_the_whole_history_stays_bounded(
    message_list: MessageList, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Edge after edge up to the first message and back down: the list never holds more than
    the store's window, and it reaches both ends."""
    monkeypatch.setattr("client.views.message_list.refresh", lambda *_controls: None)
    window = message_list._source.window
    assert window is not None
    most = 0
    for _ in range(HISTORY):
        await message_list._on_scroll(scrolled(message_list, 9_950, 10_000))
        most = max(most, message_list.message_control_count())
        if oldest_seq(message_list) == 1:
            break
    assert oldest_seq(message_list) == 1
    for _ in range(HISTORY):
        await message_list._on_scroll(scrolled(message_list, 100, 10_000))
        most = max(most, message_list.message_control_count())
        if message_list.shown[-1].seq == HISTORY:
            break
    assert message_list.shown[-1].seq == HISTORY
    assert most <= WINDOW


async def test_pages_paged_in_below_a_jump_are_shown_as_they_come(
    cache: Cache, home: Home, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After a jump far back the reader scrolls up a little, then down again: each newer page
    joins the bottom of the list as it loads (with a jump by what it added, so the view stays),
    not all at once when the reader reaches the bottom, which would leap past them."""
    jumps: list[float] = []

    async def record_jump(**kwargs: Any) -> None:
        jumps.append(kwargs["delta"])

    message_list = home.chat.messages
    middle = cache.rows(
        "SELECT id FROM messages WHERE conversation_id = ? AND seq = ?", [BIG_CHAT, HISTORY // 2]
    )
    assert home.chat.jump_to(middle[0]["id"])  # before the list has a page: no tasks started
    jumped_to_end = message_list.shown[-1].seq
    assert jumped_to_end is not None and jumped_to_end < HISTORY - 100
    monkeypatch.setattr("client.views.message_list.page_of", lambda _control: object())
    monkeypatch.setattr("client.views.message_list.refresh", lambda *_controls: None)
    monkeypatch.setattr(message_list.list, "scroll_to", record_jump)
    await message_list._on_scroll(scrolled(message_list, 2900, 3000))  # up: no longer at bottom
    for _ in range(3):
        last = message_list.shown[-1].seq
        assert last is not None
        await message_list._on_scroll(scrolled(message_list, 300, 3000))
        newest_shown = message_list.shown[-1].seq
        assert newest_shown is not None and newest_shown > last, "the newer page is shown"
        assert jumps[-1] > 0, "up by what the page added"
    assert message_list.unseen == 0


class FakeHistory:
    """Fetches pages of the seeded chat into the cache (as ``client.history.History`` does
    from the server), or fails like a device that is offline."""

    def __init__(self, store: Store, full: Cache) -> None:
        self.store = store
        self.full = full
        self.asked: list[tuple[str, int]] = []
        self.offline = False

    async def fill_before(self, conversation_id: str, seq: int) -> int:
        return self._copy(conversation_id, max(1, seq - 50), seq - 1, ("before", seq))

    async def fill_after(self, conversation_id: str, seq: int) -> int:
        return self._copy(conversation_id, seq + 1, seq + 50, ("after", seq))

    async def load_around(self, conversation_id: str, seq: int) -> int:
        return self._copy(conversation_id, max(1, seq - 40), seq + 20, ("around", seq))

    def _copy(self, conversation_id: str, first: int, last: int, asked: tuple[str, int]) -> int:
        self.asked.append(asked)
        if self.offline:
            raise NetworkError("offline")
        rows = self.full.rows(
            "SELECT * FROM messages WHERE conversation_id = ? AND seq BETWEEN ? AND ?",
            [conversation_id, first, last],
        )
        for row in rows:
            columns, marks = ", ".join(row), ", ".join("?" * len(row))
            self.store.cache.db.execute(
                f"INSERT OR IGNORE INTO messages({columns}) VALUES ({marks})", list(row.values())
            )
        return len(rows)


def new_device(tmp_path: Path) -> tuple[Home, FakeHistory]:
    """The chat screen of a device that cached only messages 251…300 of the seeded 300, open
    at them, with a history that fetches from the full chat."""
    full = seed_cache(tmp_path / "server", 300)
    cache = seed_cache(tmp_path / "device", 300)
    cache.db.execute("DELETE FROM messages WHERE conversation_id = ? AND seq <= 250", [BIG_CHAT])
    store = Store(cache)
    home = Home(store, LocalActions(store), ME.id, lambda: None)
    history = FakeHistory(store, full)
    home.chat.messages.history = history
    home.open_chat(BIG_CHAT)
    return home, history


async def test_paging_fetches_what_the_cache_lacks_one_page_at_a_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A device that cached only the newest messages: scrolling up at the top edge asks the
    history for the page before the oldest one, then shows it; offline it stays at the edge,
    and asks again on the next scroll."""
    monkeypatch.setattr("client.views.message_list.refresh", lambda *_controls: None)
    home, history = new_device(tmp_path)
    cache, full, messages = home.store.cache, history.full, home.chat.messages
    assert oldest_seq(messages) == 251

    history.offline = True
    await messages._on_scroll(scrolled(messages, 2900, 3000))
    assert history.asked == [("before", 251)] and oldest_seq(messages) == 251

    history.offline = False
    await messages._on_scroll(scrolled(messages, 2900, 3000))
    assert history.asked[-1] == ("before", 251) and oldest_seq(messages) == 201
    cache.close()
    full.close()


class RecordingPage:
    """Stands for the page: records the tasks the list starts."""

    def __init__(self) -> None:
        self.tasks: list[tuple[Any, tuple[Any, ...]]] = []

    def run_task(self, handler: Any, *args: Any, **kwargs: Any) -> None:
        self.tasks.append((handler, args))


async def test_a_jump_to_a_message_fetched_alone_loads_the_history_around_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A pinned message older than the cache was fetched alone: the jump shows it at once,
    then fetches its neighbours and shows it among them (offline it stays alone)."""
    page = RecordingPage()
    monkeypatch.setattr("client.views.message_list.refresh", lambda *_controls: None)
    monkeypatch.setattr("client.views.message_list.page_of", lambda _control: page)
    home, history = new_device(tmp_path)
    cache, full, messages = home.store.cache, history.full, home.chat.messages

    async def no_scroll(**_kwargs: Any) -> None:
        return None

    monkeypatch.setattr(messages.list, "scroll_to", no_scroll)
    history._copy(BIG_CHAT, 10, 10, ("alone", 10))
    pinned = cache.rows(
        "SELECT id FROM messages WHERE conversation_id = ? AND seq = 10", [BIG_CHAT]
    )
    target = pinned[0]["id"]

    history.offline = True
    assert home.chat.jump_to(target) and [m.seq for m in messages.shown] == [10]
    around = [task for task in page.tasks if task[0] == messages._load_around]
    assert len(around) == 1
    await around[0][0](*around[0][1])
    assert [m.seq for m in messages.shown] == [10]

    history.offline = False
    page.tasks.clear()
    assert home.chat.jump_to(target)
    around = [task for task in page.tasks if task[0] == messages._load_around]
    await around[0][0](*around[0][1])
    assert history.asked[-1] == ("around", 10)
    assert [m.seq for m in messages.shown] == list(range(1, 13))
    assert messages.highlight == messages.shown[9].local_id
    cache.close()
    full.close()


def tooltips(control: ft.BaseControl) -> list[str]:
    """The tooltips of a control and of everything inside it."""
    tooltip = getattr(control, "tooltip", None)
    found = [tooltip] if isinstance(tooltip, str) else []
    inside = list(getattr(control, "controls", None) or [])
    content = getattr(control, "content", None)
    if isinstance(content, ft.BaseControl):
        inside.append(content)
    return found + [tip for child in inside for tip in tooltips(child)]


def test_a_quote_shows_once_its_original_is_fetched(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A reply's original older than the cache: the bubble has no quote, and gets it when the
    original is fetched later (the bubble is not kept as it was)."""
    monkeypatch.setattr("client.views.message_list.refresh", lambda *_controls: None)
    home, history = new_device(tmp_path)
    cache, messages = home.store.cache, home.chat.messages
    source = history.full.rows(
        "SELECT id FROM messages WHERE conversation_id = ? AND seq = 20", [BIG_CHAT]
    )[0]["id"]
    assert cache.message_by_id(source) is None  # older than this device caches
    cache.db.execute(
        "UPDATE messages SET reply_to_id = ? WHERE conversation_id = ? AND seq = 260",
        [source, BIG_CHAT],
    )
    home.open_chat(BIG_CHAT)
    reply = next(m for m in messages.shown if m.seq == 260)
    quote = "Go to the message from Bob"
    assert not [t for t in tooltips(messages._bubble(reply)) if t.startswith(quote)]

    history._copy(BIG_CHAT, 20, 20, ("alone", 20))
    home.store.invalidate(Topic.OPEN_CHAT)
    assert [t for t in tooltips(messages._bubble(reply)) if t.startswith(quote)]
    cache.close()
    history.full.close()
