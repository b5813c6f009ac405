"""PostgreSQL connections that die under a running server (a database restart, a failover, an
idle timeout) cost no message: sends over the socket and over REST still answer with the stored
message, and reads still work."""

import asyncio
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest

from tests.conftest import start_server
from tests.support.api import register
from tests.support.live_server import LiveServer
from tests.support.sockets import connected, send_payload


@pytest.fixture
def pg_server(tmp_path: Path) -> Iterator[LiveServer]:
    """A server on a PostgreSQL database of its own (and Redis)."""
    yield from start_server(tmp_path, "postgres")


async def _kill_connections(database_url: str) -> int:
    """Terminate every other connection to the database; returns how many there were."""
    connection = await asyncpg.connect(database_url)
    try:
        killed = await connection.fetch(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
    finally:
        await connection.close()
    return len(killed)


async def test_sends_and_reads_survive_killed_database_connections(
    pg_server: LiveServer,
) -> None:
    server, url = pg_server, pg_server.env["OPENCHAT_DATABASE_URL"]
    alice, bob = register(server.url), register(server.url)
    conversation_id = alice.direct_with(bob)
    async with connected(server, alice) as sock:
        first = await sock.call("send_message", send_payload(conversation_id, "before"))
        assert first["seq"] == 1  # the send queue's pool holds a connection now
        for round_number in range(2):
            assert await _kill_connections(url) >= 1
            ack = await sock.call("send_message", send_payload(conversation_id, "after"))
            assert "error" not in ack, ack
            assert ack["seq"] == 2 + 2 * round_number
            rest = alice.send(conversation_id, "over rest")
            assert rest.status_code == 201, rest.text
            assert rest.json()["seq"] == 3 + 2 * round_number
            await asyncio.sleep(0)
    history = bob.get(f"/conversations/{conversation_id}/messages")
    assert history.status_code == 200
    texts = [item["text"] for item in reversed(history.json()["items"])]
    assert texts == ["before", "after", "over rest", "after", "over rest"]
