"""Jumping into history the cache does not hold: the store's window stops at holes in the cache
(seqs missing), ``History`` fetches the pages around a message or across a hole by seq, and the
search screen merges the server's hits into the cache's."""

import asyncio
import logging
from collections.abc import Callable, Coroutine, Sequence
from pathlib import Path
from typing import Any

import httpx
import pytest

from client.engine import Engine
from client.errors import AuthError, NetworkError, NotFoundError
from client.history import AROUND_AFTER, AROUND_BEFORE, History
from client.offline.cache import Cache
from client.search_hits import local_hit, merge_hits, server_hit
from client.services.session import FileVault, Session
from client.store import Store, Topic, contiguous_head, contiguous_tail
from protocol.models import Message, Page, SearchHit
from tests.unit.offline_fixtures import ME, conversation, message

SERVER_HISTORY = 300
"""Messages the server holds in ``c1``."""
CACHED_FROM = 251
"""A new device cached only the recent ones: seqs 251…300."""


class FakeApi:
    """``GET /conversations/{id}/messages`` (newest first, before seq ``cursor``) and
    ``GET /search/messages`` over the server's messages."""

    def __init__(self, history: Sequence[Message]) -> None:
        self.history = list(history)
        self.asked: list[tuple[str | None, int | None]] = []
        self.asked_for: list[str] = []
        """The ids ``GET /messages/{id}`` was asked for."""
        self.offline = False

    async def messages(
        self, conversation_id: str, *, cursor: str | None = None, limit: int | None = None
    ) -> Page[Message]:
        self.asked.append((cursor, limit))
        if self.offline:
            raise NetworkError("offline")
        before = int(cursor) if cursor else 1 << 62
        newest_first = sorted(
            (m for m in self.history if m.conversation_id == conversation_id and m.seq < before),
            key=lambda m: -m.seq,
        )
        items = newest_first[: limit or 30]
        return Page[Message](items=items, has_more=len(newest_first) > len(items))

    async def message(self, message_id: str) -> Message:
        self.asked_for.append(message_id)
        if self.offline:
            raise NetworkError("offline")
        found = next((m for m in self.history if m.id == message_id), None)
        if found is None:
            raise NotFoundError("message not found", "NOT_FOUND")
        return found

    async def search_messages(
        self, query: str, *, conversation_id: str | None = None, limit: int | None = None
    ) -> Page[SearchHit]:
        if self.offline:
            raise NetworkError("offline")
        found = [m for m in self.history if m.text and query in m.text]
        hits = [
            SearchHit(message=m, snippet=f"[[{query}]]", match_offsets=[(0, len(query))])
            for m in found
        ]
        return Page[SearchHit](items=hits[: limit or 30])


@pytest.fixture
def cache(tmp_path: Path) -> Cache:
    c = Cache.open(tmp_path, ME)
    c.upsert_conversation(conversation("c1"))
    for seq in range(CACHED_FROM, SERVER_HISTORY + 1):
        c.store_message(message(seq))
    return c


@pytest.fixture
def api() -> FakeApi:
    return FakeApi([message(seq) for seq in range(1, SERVER_HISTORY + 1)])


@pytest.fixture
def store(cache: Cache) -> Store:
    return Store(cache, page_size=50, window_size=120)


def seqs(store: Store) -> list[int | None]:
    assert store.window is not None
    return [m.seq for m in store.window.messages]


def test_runs_stop_where_a_seq_is_missing(cache: Cache) -> None:
    cache.store_message(message(100))
    page = cache.messages_before("c1", 253, 10)  # 100, 251, 252
    assert [m.seq for m in contiguous_tail(page)] == [251, 252]
    assert [m.seq for m in contiguous_head(page)] == [100]
    assert contiguous_tail(page, before=250) == []
    assert [m.seq for m in contiguous_head(page[1:], after=250)] == [251, 252]


def test_the_window_stops_at_a_hole_and_says_where(store: Store, cache: Cache) -> None:
    """A page fetched far back (seqs 60…120) and the recent ones (251…300): the newest page
    stops at 251 and asks for what is before it; a jump to 100 pages newer up to 120, then
    asks for what follows instead of skipping to 251."""
    for seq in range(60, 121):
        cache.store_message(message(seq))
    store.open_chat("c1")
    assert seqs(store) == list(range(251, 301))
    assert not store.load_older() and store.missing_before() == 251

    window = store.open_at("c1", "mc1-100")
    assert window is not None and not window.at_latest and window.has_older
    assert seqs(store) == list(range(60, 103))  # all cached before it, two after it
    assert store.missing_before() == 60 and store.missing_after() is None
    assert store.load_newer() and seqs(store) == list(range(60, 121))
    assert not store.load_newer() and store.missing_after() == 120


def test_the_first_message_has_nothing_before_it(store: Store, cache: Cache) -> None:
    for seq in range(1, 11):
        cache.store_message(message(seq))
    window = store.open_at("c1", "mc1-5")
    assert window is not None and not window.has_older
    assert seqs(store) == [1, 2, 3, 4, 5, 6, 7]
    assert store.missing_before() is None and not store.load_older()


async def test_a_jump_to_an_uncached_message_loads_the_history_around_it(
    store: Store, cache: Cache, api: FakeApi
) -> None:
    history = History(cache, store, api)
    heard: list[Topic] = []
    store.subscribe(heard.append)
    assert store.open_at("c1", "mc1-100") is None
    assert await history.load_around("c1", 100) == AROUND_BEFORE + 1 + AROUND_AFTER
    assert Topic.CHAT_LIST in heard  # a pinned or quoted message may have come
    assert api.asked == [(str(100 + AROUND_AFTER + 1), AROUND_BEFORE + 1 + AROUND_AFTER)]
    window = store.open_at("c1", "mc1-100")
    assert window is not None
    assert seqs(store) == list(range(100 - AROUND_BEFORE, 103))


async def test_paging_across_holes_fetches_the_missing_pages(
    store: Store, cache: Cache, api: FakeApi
) -> None:
    """From a jump far back, paging newer fills the hole page by page until the window meets
    the cached recent messages; paging older reaches the first message."""
    history = History(cache, store, api)
    await history.load_around("c1", 100)
    store.open_at("c1", "mc1-100")
    assert store.window is not None
    for _ in range(20):  # pages: bounded, so a window that never gets there fails
        if store.window.at_latest:
            break
        if not store.load_newer():
            last = store.missing_after()
            assert last is not None
            assert await history.fill_after("c1", last) > 0
    shown = seqs(store)
    assert shown == list(range(SERVER_HISTORY - len(shown) + 1, SERVER_HISTORY + 1))

    store.open_at("c1", "mc1-100")
    for _ in range(20):
        if not store.window.has_older:
            break
        if not store.load_older():
            first = store.missing_before()
            assert first is not None
            assert await history.fill_before("c1", first) > 0
    assert seqs(store)[0] == 1


async def test_offline_the_fetch_fails_and_the_cache_is_unchanged(
    store: Store, cache: Cache, api: FakeApi
) -> None:
    api.offline = True
    with pytest.raises(NetworkError):
        await History(cache, store, api).load_around("c1", 100)
    assert cache.message_by_id("mc1-100") is None


async def test_server_hits_merge_after_the_local_ones_once_each(
    store: Store, cache: Cache, api: FakeApi
) -> None:
    """The cache finds its recent copies at once; the server's answer adds the old ones, and a
    message both found is listed once, where the cache put it."""
    local = [local_hit(r) for r in cache.search("number 29")]
    assert {h.seq for h in local} == set(range(290, 300))
    found = await History(cache, store, api).search("number 29")
    merged = merge_hits(local, found)
    assert merged[: len(local)] == local
    assert len({h.key for h in merged}) == len(merged)
    assert {h.seq for h in merged} == {29, *range(290, 300)}
    old = next(h for h in merged if h.seq == 29)
    assert old.snippet == "[[number 29]]" and old.match_offsets == ((0, 9),)
    assert old.local_id is None and cache.message_by_id("mc1-29") is None


def test_hits_from_both_sides_describe_the_same_message_alike(cache: Cache) -> None:
    result = cache.search("number 260")[0]
    hit = server_hit(
        SearchHit(message=message(260), snippet="[[number]] 260", match_offsets=[(8, 14)])
    )
    mine = local_hit(result)
    assert (mine.key, mine.seq, mine.conversation_id) == (hit.key, hit.seq, hit.conversation_id)
    assert merge_hits([mine], [hit]) == [mine]


def _refer_to_old_messages(cache: Cache, api: FakeApi) -> None:
    """Message 10 is pinned, and 260 (cached) replies to 20 and 270 to 20 too: both older
    than the cache."""
    cache.set_pins("c1", ["mc1-10"])
    for seq in (260, 270):
        reply = message(seq).model_copy(update={"reply_to_id": "mc1-20"})
        cache.store_message(reply)
        api.history[seq - 1] = reply


async def test_pinned_and_quoted_messages_older_than_the_cache_are_fetched_once(
    store: Store, cache: Cache, api: FakeApi
) -> None:
    """Each is fetched alone (once, however often asked), the banner and quotes can show it,
    and the window still stops at the hole: a single message far back is no history."""
    _refer_to_old_messages(cache, api)
    history = History(cache, store, api)
    store.open_chat("c1")
    assert store.missing_references() == ["mc1-10", "mc1-20"]
    heard: list[Topic] = []
    store.subscribe(heard.append)

    assert await history.fetch_references() == 2
    assert api.asked_for == ["mc1-10", "mc1-20"] and api.asked == []
    assert [m.id for m in cache.pinned_messages("c1")] == ["mc1-10"]
    assert Topic.CHAT_LIST in heard and Topic.OPEN_CHAT in heard
    assert store.missing_references() == []
    assert await history.fetch_references() == 0 and len(api.asked_for) == 2

    assert seqs(store) == list(range(251, 301))
    assert not store.load_older() and store.missing_before() == 251
    assert await history.fill_before("c1", 251) == 50
    assert store.load_older() and seqs(store)[0] == 201
    assert store.open_at("c1", "mc1-10") is not None and seqs(store) == [10]
    assert store.missing_before() == 10 and store.missing_after() == 10


async def test_references_offline_are_fetched_once_back_online(
    store: Store, cache: Cache, api: FakeApi
) -> None:
    """Offline nothing is fetched or asked for; the watch asks once the connection is back,
    and not again after; an id the server refuses is not asked for again."""
    _refer_to_old_messages(cache, api)
    history = History(cache, store, api)
    started: list[object] = []

    def run(fetch: Callable[[], Coroutine[Any, Any, object]]) -> asyncio.Future[None]:
        started.append(fetch)
        recorded: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        recorded.set_result(None)
        return recorded

    history.watch(run)
    store.open_chat("c1")
    assert started == []  # offline

    api.offline = True  # the socket came up, but the request fails
    store.set_connection("online")
    assert started == [history.fetch_references]
    assert await history.fetch_references() == 0
    assert cache.message_by_id("mc1-10") is None

    store.set_connection("offline")
    api.offline = False
    store.set_connection("online")
    assert len(started) == 2
    assert await history.fetch_references() == 2
    store.set_connection("offline")
    store.set_connection("online")
    assert len(started) == 2  # nothing left to fetch

    cache.set_pins("c1", ["mc1-10", "gone"])
    store.invalidate(Topic.CHAT_LIST)
    assert len(started) == 3
    assert await history.fetch_references() == 0
    store.invalidate(Topic.CHAT_LIST)
    assert len(started) == 3 and api.asked_for.count("gone") == 1


def _session_over(tmp_path: Path) -> Session:
    """A signed-in session whose server now refuses every token (revoked elsewhere)."""

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/v1/auth/login":
            user = {"id": "me", "username": "me", "display_name": "Me"}
            tokens = {"access_token": "access", "refresh_token": "refresh"}
            return httpx.Response(200, json={"user": user, **tokens})
        return httpx.Response(401, json={"code": "INVALID_TOKEN", "message": "revoked"})

    return Session(
        tmp_path / "profile",
        "http://server",
        vault=FileVault(tmp_path / "profile" / "secrets"),
        transport=httpx.MockTransport(handler),
    )


async def test_a_session_over_during_a_background_fetch_goes_back_to_sign_in(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The pinned message is fetched in the background when the refresh token was revoked:
    nothing is raised into the page's task, the engine ends the session (the app shows the
    sign-in form), and the message is asked for again in the next session."""
    session = _session_over(tmp_path)
    await session.login("me", "secret-pass")
    engine = Engine(session)
    try:
        history = History(engine.cache, engine.store, session.api, engine.end_session)
        engine.cache.set_pins("c1", ["old-pin"])
        engine.store.open_chat("c1")
        with caplog.at_level(logging.ERROR):
            assert await history.fetch_references() == 0
        assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
        assert engine.signed_out.is_set() and engine.worker.paused
        assert session.active is not None and not session.active.signed_in
        assert history._unasked() == ["old-pin"]
    finally:
        await engine.stop()
        await session.aclose()


async def test_without_a_hook_a_session_over_is_raised(
    store: Store, cache: Cache, api: FakeApi
) -> None:
    async def refused(message_id: str) -> Message:
        raise AuthError("revoked", "INVALID_TOKEN")

    api.message = refused  # type: ignore[method-assign]
    _refer_to_old_messages(cache, api)
    store.open_chat("c1")
    with pytest.raises(AuthError):
        await History(cache, store, api).fetch_references()


async def test_every_pinned_message_older_than_the_cache_is_fetched_newest_pin_first(
    store: Store, cache: Cache, api: FakeApi
) -> None:
    """The banner cycles through every pin, so each one the cache lacks is fetched."""
    cache.set_pins("c1", ["mc1-10", "mc1-260", "mc1-30"])
    history = History(cache, store, api)
    store.open_chat("c1")
    assert store.missing_references() == ["mc1-30", "mc1-10"]
    assert await history.fetch_references() == 2
    assert [m.id for m in cache.pinned_messages("c1")] == ["mc1-10", "mc1-260", "mc1-30"]
    assert store.missing_references() == []
