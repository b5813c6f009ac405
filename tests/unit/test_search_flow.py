"""The search panel's flow without a browser: the cache's hits at once and the server's merged in
when they come, "No results", a failure told in a snack bar, and a hit only the server found
opened after its history is fetched."""

import asyncio
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, cast

import flet as ft
import pytest

from client.errors import NetworkError
from client.history import History
from client.offline.cache import Cache
from client.store import Store
from client.views.search_flow import SearchFlow
from protocol.models import Message, Page, SearchHit
from tests.unit.offline_fixtures import ME, conversation, message


class FakePage:
    """What ``SearchFlow`` uses of ``ft.Page``: dialogs shown, tasks run."""

    def __init__(self) -> None:
        self.shown: list[ft.DialogControl] = []
        self.tasks: list[Coroutine[Any, Any, None]] = []

    def show_dialog(self, dialog: ft.DialogControl) -> None:
        self.shown.append(dialog)

    def pop_dialog(self) -> ft.DialogControl | None:
        return self.shown.pop() if self.shown else None

    def run_task(self, handler: Callable[..., Coroutine[Any, Any, None]], *args: Any) -> None:
        self.tasks.append(handler(*args))

    async def run_all(self) -> None:
        while self.tasks:
            await self.tasks.pop(0)

    def snack_texts(self) -> list[str]:
        return [
            str(cast(ft.Text, d.content).value) for d in self.shown if isinstance(d, ft.SnackBar)
        ]


class FakeApi:
    """A server whose old messages the device does not hold."""

    def __init__(self) -> None:
        self.old = message(5, text="kayak rental at noon")
        self.offline = False
        self.gate: asyncio.Event | None = None

    async def messages(
        self, conversation_id: str, *, cursor: str | None = None, limit: int | None = None
    ) -> Page[Message]:
        return Page[Message](items=[self.old])

    async def message(self, message_id: str) -> Message:
        return self.old

    async def search_messages(
        self, query: str, *, conversation_id: str | None = None, limit: int | None = None
    ) -> Page[SearchHit]:
        if self.gate is not None:
            await self.gate.wait()
        if self.offline:
            raise NetworkError("offline")
        hits = [SearchHit(message=self.old, snippet="[[kayak]] rental at noon")]
        return Page[SearchHit](items=hits if query.startswith("kayak") else [])


@pytest.fixture
def parts(tmp_path: Path) -> tuple[SearchFlow, FakePage, FakeApi, list[str]]:
    cache = Cache.open(tmp_path, ME)
    cache.upsert_conversation(conversation("c1"))
    cache.store_message(message(50, text="kayak trip photos"))
    page, api, shown = FakePage(), FakeApi(), []

    def show_message(conversation_id: str, message_id: str) -> bool:
        if cache.message_by_id(message_id) is None:
            return False
        shown.append(message_id)
        return True

    flow = SearchFlow(
        cast(ft.Page, page),
        cache,
        History(cache, Store(cache), api),
        title_of=lambda hit: "Bob",
        show_message=show_message,
        open_chat=lambda conversation_id: None,
    )
    return flow, page, api, shown


def listed(flow: SearchFlow) -> list[str]:
    """What the panel lists: each hit's text, or the empty state."""
    assert flow.panel is not None
    if not flow.panel.hits:
        return [str(cast(ft.Text, row).value) for row in flow.panel.results.controls]
    return [hit.snippet.replace("[[", "").replace("]]", "") for hit in flow.panel.hits]


async def test_local_hits_at_once_then_the_servers_merged_in(
    parts: tuple[SearchFlow, FakePage, FakeApi, list[str]],
) -> None:
    """The cache's hit shows with the loading bar; the server's answer adds the old message,
    and choosing it fetches its history before the chat shows it."""
    flow, page, _api, shown = parts
    flow.open("kayak")
    assert flow.panel is not None and flow.panel.loading.visible
    assert listed(flow) == ["kayak trip photos"]
    await page.run_all()
    assert not flow.panel.loading.visible
    assert listed(flow) == ["kayak trip photos", "kayak rental at noon"]

    old = flow.panel.hits[1]
    flow.choose(old)
    assert shown == [] and flow.panel is None  # not cached: fetched first
    await page.run_all()
    assert shown == ["mc1-5"]


async def test_nothing_found_says_no_results(
    parts: tuple[SearchFlow, FakePage, FakeApi, list[str]],
) -> None:
    flow, page, _api, _shown = parts
    flow.open("zebra")
    await page.run_all()
    assert listed(flow) == ["No results"]


async def test_a_failed_server_search_keeps_the_local_hits_and_says_why(
    parts: tuple[SearchFlow, FakePage, FakeApi, list[str]],
) -> None:
    flow, page, api, _shown = parts
    api.offline = True
    flow.open("kayak")
    await page.run_all()
    assert flow.panel is not None and not flow.panel.loading.visible
    assert listed(flow) == ["kayak trip photos"]
    assert page.snack_texts() == [
        "Searching all messages needs the server. You are offline; try again when connected."
    ]


async def test_an_answer_to_an_older_query_is_dropped(
    parts: tuple[SearchFlow, FakePage, FakeApi, list[str]],
) -> None:
    flow, page, api, _shown = parts
    api.gate = asyncio.Event()
    flow.open("kayak")
    first = page.tasks.pop(0)
    flow.search("zebra")
    api.gate.set()
    await first  # the kayak answer comes after the zebra query: not shown
    assert listed(flow) == []
    await page.run_all()
    assert listed(flow) == ["No results"]
