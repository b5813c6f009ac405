"""Helpers for the client's live-server tests: a running server, devices (session + engine per
profile dir), direct chats, bounded polling, a proxy that blocks WebSockets, and running
``openchat-cli`` as a real process."""

import asyncio
import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from client.engine import REST_FALLBACK_AFTER, Engine
from client.offline.outbox_worker import RetryPolicy
from client.offline.records import CachedMessage
from client.services.realtime import Backoff
from client.services.session import FileVault, Session
from protocol.models import Conversation
from tests.support.live_server import LiveServer

PASSWORD = "correct-horse-battery"
SERVER_ENV = {"OPENCHAT_MESSAGES_PER_MINUTE": "100000"}
"""The message rate limit is not what these tests measure."""
FAST_BACKOFF = Backoff(base=0.2, cap=1.0)
FAST_RETRY = RetryPolicy(base=0.2, cap=1.0)


def new_server(data_dir: Path, **env: str) -> LiveServer:
    """A server (not started) with the rate limit lifted and ``env`` added."""
    return LiveServer(data_dir, {**SERVER_ENV, **env})


def unique_name(prefix: str) -> str:
    """A username no other test uses."""
    return f"{prefix}_{uuid.uuid4().hex[:8]}"


STARTUP_TIMEOUT = 240.0
"""A loaded 2-core box can take a while to start a server."""


async def start(server: LiveServer) -> None:
    """Start ``server`` without blocking the event loop (the engines under test keep running)."""
    await asyncio.to_thread(server.start, STARTUP_TIMEOUT)


async def stop(server: LiveServer) -> None:
    """Stop ``server`` without blocking the event loop."""
    await asyncio.to_thread(server.stop)


@asynccontextmanager
async def running_server(data_dir: Path, **env: str) -> AsyncIterator[LiveServer]:
    """A started ``new_server(data_dir, **env)``, stopped on the way out."""
    server = new_server(data_dir, **env)
    await start(server)
    try:
        yield server
    finally:
        await stop(server)


async def restart(server: LiveServer) -> None:
    """Stop and start ``server`` on the same port and data."""
    await stop(server)
    await start(server)


def cli_env() -> dict[str, str]:
    """The environment of a CLI process: tokens in the profile's file vault."""
    return {**os.environ, "OPENCHAT_SECRET_STORE": "file"}


def run_cli(profile: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run ``openchat-cli --profile PROFILE ARGS...`` to completion."""
    command = [sys.executable, "-m", "client.cli", "--profile", str(profile), *args]
    return subprocess.run(
        command, capture_output=True, text=True, timeout=timeout, env=cli_env(), check=False
    )


def start_cli(profile: Path, *args: str) -> subprocess.Popen[str]:
    """Start ``openchat-cli --profile PROFILE ARGS...`` in the background."""
    command = [sys.executable, "-m", "client.cli", "--profile", str(profile), *args]
    return subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=cli_env()
    )


async def wait_until(predicate: Callable[[], bool], within: float = 30.0, what: str = "") -> None:
    """Poll ``predicate`` every 50 ms until it holds; fail after ``within`` seconds."""
    for _ in range(int(within / 0.05)):
        if predicate():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what or predicate}")


@dataclass
class Device:
    """One profile dir on one 'phone': its session and engine."""

    profile: Path
    session: Session
    engine: Engine

    @property
    def user_id(self) -> str:
        """The signed-in user's id."""
        return self.engine.account.user_id

    @property
    def username(self) -> str:
        """The signed-in user's username."""
        return self.engine.account.username

    def messages(self, conversation_id: str, limit: int = 1000) -> list[CachedMessage]:
        """The cached messages of a conversation, oldest first."""
        return self.engine.cache.messages_before(conversation_id, None, limit)

    def texts(self, conversation_id: str) -> list[str | None]:
        """The texts of the stored (server-acknowledged) messages, in seq order."""
        return [m.text for m in self.messages(conversation_id) if m.seq is not None]

    async def close(self) -> None:
        """Stop the engine and close the session."""
        await self.engine.stop()
        await self.session.aclose()

    async def direct_chat(self, peer_id: str) -> Conversation:
        """Open (or find) the direct chat with ``peer_id`` and put it in the cache."""
        conversation = await self.session.api.create_direct(peer_id)
        with self.engine.cache.transaction():
            self.engine.cache.upsert_conversation(conversation)
        return conversation

    async def expect_texts(self, conversation_id: str, expected: list[str], within: float) -> None:
        """Wait until the stored messages of a conversation are exactly ``expected``."""
        await wait_until(
            lambda: len(self.texts(conversation_id)) >= len(expected),
            within,
            f"{self.profile.name} receives {len(expected)} messages",
        )
        assert self.texts(conversation_id) == expected


async def device(
    profile: Path,
    server_url: str,
    username: str,
    *,
    register: bool = False,
    backoff: Backoff = FAST_BACKOFF,
    start: bool = True,
    rest_after: float = REST_FALLBACK_AFTER,
) -> Device:
    """Sign in (or register) ``username`` in ``profile`` and build its engine."""
    session = Session(profile, server_url, vault=FileVault(profile / "secrets"))
    if register:
        await session.register(username, PASSWORD, username.title())
    else:
        await session.login(username, PASSWORD)
    engine = Engine(session, backoff=backoff, retry=FAST_RETRY, rest_after=rest_after)
    if start:
        await engine.start()
    return Device(profile, session, engine)


class WebSocketBlockingProxy:
    """A TCP proxy in front of a server that passes HTTP but answers every WebSocket upgrade
    with 403, like a corporate proxy that blocks WebSockets. ``url`` is where clients go."""

    def __init__(self, target_url: str) -> None:
        host_port = target_url.split("://", 1)[1].rstrip("/")
        host, port = host_port.rsplit(":", 1)
        self._target = (host, int(port))
        self._server: asyncio.Server | None = None
        self.refused = 0
        """How many WebSocket upgrades were refused."""

    @property
    def url(self) -> str:
        """The proxy's base URL."""
        assert self._server is not None
        port = self._server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    async def start(self) -> None:
        """Listen on a free local port."""
        self._server = await asyncio.start_server(self._client, "127.0.0.1", 0)

    async def stop(self) -> None:
        """Stop listening (open connections end with their clients)."""
        if self._server is not None:
            self._server.close()

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
            writer.close()
            return
        if b"upgrade: websocket" in head.lower():
            self.refused += 1
            writer.write(
                b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            )
            await writer.drain()
            writer.close()
            return
        upstream_reader, upstream_writer = await asyncio.open_connection(*self._target)
        upstream_writer.write(head)
        await asyncio.gather(
            _pipe(reader, upstream_writer), _pipe(upstream_reader, writer), return_exceptions=True
        )


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Copy bytes until end of stream, then close the writing side."""
    try:
        while chunk := await reader.read(65536):
            writer.write(chunk)
            await writer.drain()
    finally:
        writer.close()
