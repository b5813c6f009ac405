"""Offline sending against the real server: queued while it is down, delivered once each and in
order after it starts; a client killed with SIGKILL mid-drain loses and duplicates nothing."""

import asyncio
import json
import uuid
from pathlib import Path

import pytest

from client.services.api import ApiClient
from tests.integration.client_harness import (
    PASSWORD,
    device,
    new_server,
    run_cli,
    start,
    start_cli,
    stop,
    wait_until,
)
from tests.support.live_server import LiveServer


def name(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:8]}"


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


@pytest.mark.timeout(900)
async def test_fifty_messages_sent_while_server_down(tmp_path: Path) -> None:
    server = new_server(tmp_path / "server")
    await start(server)
    alice_name, bob_name = name("alice"), name("bob")
    alice = await device(tmp_path / "alice", server.url, alice_name, register=True, start=False)
    bob = await device(tmp_path / "bob", server.url, bob_name, register=True)
    try:
        conversation = await alice.session.api.create_direct(bob.user_id)
        with alice.engine.cache.transaction():
            alice.engine.cache.upsert_conversation(conversation)
        await stop(server)

        expected = [f"offline message {i:02d}" for i in range(50)]
        for text in expected:
            alice.engine.actions.send_text(conversation.id, text)
        assert alice.engine.outbox.counts().pending == 50

        await alice.engine.start()  # server down: connecting, nothing lost
        await start(server)
        assert await alice.engine.wait_drained(60)

        await wait_until(
            lambda: len(bob.texts(conversation.id)) >= 50, 60, "bob receives the 50 messages"
        )
        assert bob.texts(conversation.id) == expected
        assert alice.texts(conversation.id) == expected
        assert await server_texts(server, bob_name, conversation.id) == expected
    finally:
        await alice.close()
        await bob.close()
        await stop(server)


@pytest.mark.timeout(900)
async def test_cli_send_returns_at_once_with_server_down(tmp_path: Path) -> None:
    server = new_server(tmp_path / "server")
    await start(server)
    alice_name, bob_name = name("alice"), name("bob")
    profile = tmp_path / "alice"
    try:
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
        assert [m["text"] for m in history] == ["hello while online", "one", "two", "three"]
        assert all(m["seq"] is not None for m in history)
        conversation_id = history[0]["conversation_id"]
        assert await server_texts(server, bob_name, conversation_id) == [
            "hello while online",
            "one",
            "two",
            "three",
        ]
        chats = json.loads(run_cli(profile, "--json", "chats").stdout)
        assert [c["id"] for c in chats] == [conversation_id]
        found = json.loads(run_cli(profile, "--json", "search", "thr").stdout)
        assert [h["message"]["text"] for h in found] == ["three"]
    finally:
        await stop(server)


@pytest.mark.timeout(900)
async def test_sigkill_while_draining_200_messages(tmp_path: Path) -> None:
    server = new_server(tmp_path / "server")
    await start(server)
    alice_name, bob_name = name("alice"), name("bob")
    profile = tmp_path / "alice"
    try:
        bob = await device(tmp_path / "bob", server.url, bob_name, register=True, start=False)
        await bob.close()
        registered = run_cli(profile, "--server", server.url, "register", alice_name, PASSWORD)
        assert registered.returncode == 0, registered.stderr
        alice = await device(profile, server.url, alice_name, start=False)
        conversation = await alice.session.api.create_direct(bob.user_id)
        with alice.engine.cache.transaction():
            alice.engine.cache.upsert_conversation(conversation)
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
    finally:
        await stop(server)
