"""The home screen is built again for every session of a page (sign out and in, a session that
ended and is signed in again, another account): what the old screen followed stops with it, so
the store has one home screen and one background fetcher, whatever came before."""

import asyncio
import json
from collections.abc import AsyncIterator, Callable, Coroutine
from pathlib import Path
from typing import Any

import flet as ft
import httpx
import pytest

from client.app import App
from client.config import load_settings
from client.engine import Engine
from client.errors import AuthError
from client.services.realtime import RealtimeClient
from client.services.session import FileVault, Session
from client.views.login import Credentials
from tests.unit.offline_fixtures import conversation, message

SERVER = "http://server"
OLD_PIN = "mc1-10"
"""A pinned message older than the cache: the open chat's banner fetches it."""


class FakeServer:
    """Signs anyone in (user id = the name) and answers ``GET /messages/{id}``, counting them;
    ``hold`` keeps those answers back until it is set."""

    def __init__(self) -> None:
        self.asked_for: list[str] = []
        self.hold = asyncio.Event()
        self.hold.set()

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path == "/api/v1/auth/login":
            user_id = json.loads(request.content)["username"]
            user = {"id": user_id, "username": user_id, "display_name": user_id.title()}
            tokens = {"access_token": f"access-{user_id}", "refresh_token": f"refresh-{user_id}"}
            return httpx.Response(200, json={"user": user, **tokens})
        if path == "/api/v1/auth/logout":
            return httpx.Response(204)
        if path.startswith("/api/v1/messages/"):
            message_id = path.rsplit("/", 1)[1]
            self.asked_for.append(message_id)
            await self.hold.wait()
            seq = int(message_id.rsplit("-", 1)[1])
            return httpx.Response(200, json=message(seq).model_dump(mode="json"))
        return httpx.Response(404, json={"code": "NOT_FOUND", "message": path})


class FakePage:
    """What ``App`` uses of ``ft.Page``; background tasks run on the test's loop."""

    web = False
    width = 1200.0

    def __init__(self) -> None:
        self.controls: list[ft.Control] = []
        self.on_keyboard_event: object = None
        self.started: list[asyncio.Task[object]] = []

    def add(self, *controls: ft.Control) -> None:
        self.controls.extend(controls)

    def update(self) -> None:
        pass

    def run_task(self, handler: Callable[[], Coroutine[Any, Any, object]]) -> asyncio.Task[object]:
        task = asyncio.get_running_loop().create_task(handler())
        self.started.append(task)
        return task


@pytest.fixture
def server() -> FakeServer:
    return FakeServer()


@pytest.fixture
async def app(
    tmp_path: Path, server: FakeServer, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[App]:
    """The app of one page, signed out, with a socket that never connects."""

    async def no_socket(self: RealtimeClient) -> None:
        pass

    monkeypatch.setattr(RealtimeClient, "start", no_socket)
    monkeypatch.setattr(RealtimeClient, "stop", no_socket)
    page = FakePage()
    app = App(page, load_settings(), tmp_path)  # type: ignore[arg-type]
    app.session = Session(
        tmp_path,
        SERVER,
        vault=FileVault(tmp_path / "secrets"),
        transport=httpx.MockTransport(server),
    )
    await app.start()
    yield app
    await app.close()


async def sign_in(app: App, name: str) -> Engine:
    """Sign in through the sign-in form's handler; the home screen's engine."""
    await app._sign_in(Credentials(SERVER, name, "secret-pass", register=False))
    assert app.engine is not None and app.home is not None
    return app.engine


async def settle() -> None:
    """Let background tasks and the store's batched refreshes run."""
    for _ in range(5):
        await asyncio.sleep(0.05)


def listeners(engine: Engine) -> int:
    """How many follow the engine's store."""
    return len(engine.store._listeners)


def open_chat_with_old_pin(app: App, engine: Engine) -> None:
    """The open chat pins a message the cache lacks: online, the banner fetches it."""
    engine.cache.upsert_conversation(conversation("c1"))
    engine.cache.set_pins("c1", [OLD_PIN])
    assert app.home is not None
    app.home.open_chat("c1")


async def end_session(app: App, engine: Engine) -> None:
    """The server refused the session (signed out elsewhere): the sign-in form shows."""
    await engine.end_session(AuthError("revoked", "INVALID_TOKEN"))
    await settle()
    assert app.home is None


async def test_a_session_signed_in_again_has_one_home_screen_and_one_fetcher(
    app: App, server: FakeServer
) -> None:
    """The session ends twice and the same person signs in again each time: the engine (and
    its store) carries on, the earlier home screens follow it no more, the pinned message is
    fetched once, and the second end of the session shows the sign-in form too."""
    engine = await sign_in(app, "alice")
    assert listeners(engine) == 2  # the home screen and its fetcher
    for _ in range(2):
        await end_session(app, engine)
        assert listeners(engine) == 0
        assert await sign_in(app, "alice") is engine
        assert listeners(engine) == 2

    open_chat_with_old_pin(app, engine)
    engine.store.set_connection("online")
    await settle()
    assert server.asked_for == [OLD_PIN]
    assert engine.cache.message_by_id(OLD_PIN) is not None


async def test_signing_out_stops_the_fetches_of_the_screen_it_leaves(
    app: App, server: FakeServer
) -> None:
    """A fetch still waiting for the server when the person signs out is cancelled (it would
    write into the closed cache of the account that left); the next account's store is
    followed by its own screen alone."""
    first = await sign_in(app, "alice")
    open_chat_with_old_pin(app, first)
    server.hold.clear()
    first.store.set_connection("online")
    await settle()
    assert server.asked_for == [OLD_PIN]
    page = app.page
    assert isinstance(page, FakePage) and len(page.started) == 1
    fetch = page.started[0]

    await app.sign_out()
    assert app.home is None and app.engine is None
    assert fetch.cancelled()
    assert listeners(first) == 0

    second = await sign_in(app, "bob")
    assert second is not first and listeners(second) == 2
    server.hold.set()
    await settle()
    assert len(page.started) == 1
