"""Offline sending against the real server: queued while it is down, delivered once each and in
order after it starts, through the socket's window or over REST when WebSockets are blocked; a
client killed with SIGKILL mid-drain loses and duplicates nothing."""

import asyncio
import json
from collections.abc import Sequence
from pathlib import Path

import pytest

from client.offline.outbox_items import OutboxItem
from client.services.api import ApiClient
from protocol.models import Message
from tests.integration.client_harness import (
    PASSWORD,
    Device,
    WebSocketBlockingProxy,
    device,
    run_cli,
    running_server,
    start,
    start_cli,
    stop,
    unique_name,
)
from tests.support.live_server import LiveServer


async def server_texts(server: LiveServer, username: str, conversation_id: str) -> list[str]:
    """Every message text of a conversation as the server stores it, in seq order."""
    api = ApiClient(server.url)
    await api.login(username, PASSWORD)
    texts: list[tuple[int, str]] = []
    cursor: str | None = None
    while True:
        page = await api.messages(conversation_id, cursor=cursor, limit=100)
        texts.extend((m.seq, m.text or "") for m in page.items)
        if not page.has_more or page.next_cursor is None:
            break
        cursor = page.next_cursor
    await api.aclose()
    return [text for _seq, text in sorted(texts)]


async def delivered_in_order(
    server: LiveServer, sender: Device, receiver: Device, conversation_id: str, expected: list[str]
) -> None:
    """The receiver got exactly ``expected``, in order, as the sender and the server have it."""
    await receiver.expect_texts(conversation_id, expected, 60)
    assert sender.texts(conversation_id) == expected
    assert await server_texts(server, receiver.username, conversation_id) == expected


@pytest.mark.timeout(900)
async def test_fifty_messages_sent_while_server_down(tmp_path: Path) -> None:
    async with running_server(tmp_path / "server") as server:
        alice_name, bob_name = unique_name("alice"), unique_name("bob")
        alice = await device(tmp_path / "alice", server.url, alice_name, register=True, start=False)
        bob = await device(tmp_path / "bob", server.url, bob_name, register=True)
        try:
            conversation = await alice.direct_chat(bob.user_id)
            await stop(server)

            expected = [f"offline message {i:02d}" for i in range(50)]
            for text in expected:
                alice.engine.actions.send_text(conversation.id, text)
            assert alice.engine.outbox.counts().pending == 50

            await alice.engine.start()  # server down: connecting, nothing lost
            await start(server)
            assert await alice.engine.wait_drained(60)

            await delivered_in_order(server, alice, bob, conversation.id, expected)
        finally:
            await alice.close()
            await bob.close()


@pytest.mark.timeout(900)
async def test_window_of_sends_arrives_once_each_in_order(tmp_path: Path) -> None:
    async with running_server(tmp_path / "server") as server:
        alice_name, bob_name = unique_name("alice"), unique_name("bob")
        alice = await device(
            tmp_path / "alice", server.url, alice_name, register=True, start=False, rest_after=600
        )  # only the socket carries the sends
        bob = await device(tmp_path / "bob", server.url, bob_name, register=True)
        try:
            conversation = await alice.direct_chat(bob.user_id)
            expected = [f"queued {i:03d}" for i in range(200)]
            for text in expected:
                alice.engine.actions.send_text(conversation.id, text)
            alice.engine.worker.window = 16
            started: list[int] = []
            """How many sends had no answer yet when each one started (at most the window)."""
            unanswered: list[asyncio.Future[Sequence[Message]]] = []
            socket_start = alice.engine.transport.start

            def counting_start(item: OutboxItem) -> "asyncio.Future[Sequence[Message]]":
                future = socket_start(item)
                unanswered[:] = [f for f in unanswered if not f.done()] + [future]
                started.append(len(unanswered))
                return future

            alice.engine.transport.start = counting_start  # type: ignore[method-assign]
            await alice.engine.start()
            assert await alice.engine.wait_drained(120)

            assert len(started) >= 200 and max(started) == 16  # pipelined, window-bounded
            await delivered_in_order(server, alice, bob, conversation.id, expected)
        finally:
            await alice.close()
            await bob.close()


@pytest.mark.timeout(900)
async def test_cli_send_returns_at_once_with_server_down(tmp_path: Path) -> None:
    async with running_server(tmp_path / "server") as server:
        alice_name, bob_name = unique_name("alice"), unique_name("bob")
        profile = tmp_path / "alice"
        bob = await device(tmp_path / "bob", server.url, bob_name, register=True, start=False)
        await bob.close()
        registered = run_cli(profile, "--server", server.url, "register", alice_name, PASSWORD)
        assert registered.returncode == 0, registered.stderr
        first = run_cli(profile, "send", bob_name, "hello while online")  # creates the chat
        assert first.returncode == 0, first.stderr

        await stop(server)
        for text in ("one", "two", "three"):
            queued = run_cli(profile, "send", bob_name, text)
            assert queued.returncode == 0, queued.stderr
        outbox = run_cli(profile, "--json", "outbox")
        assert len(json.loads(outbox.stdout)) == 4
        history = run_cli(profile, "history", bob_name, "--json")
        assert [m["status"] for m in json.loads(history.stdout)] == ["pending"] * 4
        refused = run_cli(profile, "sync", "--timeout", "2")
        assert refused.returncode == 1

        await start(server)
        synced = run_cli(profile, "--json", "sync", "--timeout", "60")
        assert synced.returncode == 0, synced.stdout + synced.stderr
        assert json.loads(synced.stdout)["pending"] == 0
        history = json.loads(run_cli(profile, "--json", "history", bob_name).stdout)
        expected = ["hello while online", "one", "two", "three"]
        assert [m["text"] for m in history] == expected
        assert all(m["seq"] is not None for m in history)
        conversation_id = history[0]["conversation_id"]
        assert await server_texts(server, bob_name, conversation_id) == expected
        chats = json.loads(run_cli(profile, "--json", "chats").stdout)
        assert [c["id"] for c in chats] == [conversation_id]
        found = json.loads(run_cli(profile, "--json", "search", "thr").stdout)
        assert [h["message"]["text"] for h in found] == ["three"]


@pytest.mark.timeout(900)
async def test_sigkill_while_draining_200_messages(tmp_path: Path) -> None:
    async with running_server(tmp_path / "server") as server:
        alice_name, bob_name = unique_name("alice"), unique_name("bob")
        profile = tmp_path / "alice"
        bob = await device(tmp_path / "bob", server.url, bob_name, register=True, start=False)
        await bob.close()
        registered = run_cli(profile, "--server", server.url, "register", alice_name, PASSWORD)
        assert registered.returncode == 0, registered.stderr
        alice = await device(profile, server.url, alice_name, start=False)
        conversation = await alice.direct_chat(bob.user_id)
        expected = [f"queued {i:03d}" for i in range(200)]
        for text in expected:
            alice.engine.actions.send_text(conversation.id, text)
        await alice.close()

        watcher = ApiClient(server.url)
        await watcher.login(bob_name, PASSWORD)

        async def delivered() -> int:
            page = await watcher.messages(conversation.id, limit=1)
            return page.items[0].seq if page.items else 0

        process = start_cli(profile, "sync", "--timeout", "120")
        seen = 0
        for _ in range(1200):
            seen = await delivered()
            if seen >= 20 or process.poll() is not None:
                break
            await asyncio.sleep(0.025)
        process.kill()  # SIGKILL, mid-drain
        process.wait()
        assert 0 < seen < 200, f"the kill should land mid-drain (saw {seen})"

        resumed = run_cli(profile, "--json", "sync", "--timeout", "120")
        assert resumed.returncode == 0, resumed.stdout + resumed.stderr
        assert await server_texts(server, bob_name, conversation.id) == expected
        await watcher.aclose()

        again = await device(profile, server.url, alice_name, start=False)
        assert again.engine.outbox.counts().pending == 0
        assert again.texts(conversation.id) == expected
        await again.close()


@pytest.mark.timeout(900)
async def test_outbox_drains_over_rest_when_websockets_are_blocked(tmp_path: Path) -> None:
    async with running_server(tmp_path / "server") as server:
        proxy = WebSocketBlockingProxy(server.url)
        await proxy.start()
        alice_name, bob_name = unique_name("alice"), unique_name("bob")
        alice = await device(
            tmp_path / "alice", proxy.url, alice_name, register=True, start=False, rest_after=1.0
        )
        bob = await device(tmp_path / "bob", server.url, bob_name, register=True)
        try:
            conversation = await alice.direct_chat(bob.user_id)
            expected = [f"over rest {i:02d}" for i in range(20)]
            for text in expected:
                alice.engine.actions.send_text(conversation.id, text)

            await alice.engine.start()
            assert await alice.engine.wait_drained(120)
            assert proxy.refused > 0 and not alice.engine.caught_up.is_set()
            await delivered_in_order(server, alice, bob, conversation.id, expected)
        finally:
            await alice.close()
            await bob.close()
            await proxy.stop()
