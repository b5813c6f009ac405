"""Helpers for the client's live-server tests: devices (session + engine per profile dir),
bounded polling, and running ``openchat-cli`` as a real process."""

import asyncio
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from client.offline.outbox import RetryPolicy
from client.offline.records import CachedMessage
from client.services.engine import Engine
from client.services.realtime import Backoff
from client.services.session import FileVault, Session
from tests.support.live_server import LiveServer

PASSWORD = "correct-horse-battery"
SERVER_ENV = {"OPENCHAT_MESSAGES_PER_MINUTE": "100000"}
"""The message rate limit is not what these tests measure."""
FAST_BACKOFF = Backoff(base=0.2, cap=1.0)
FAST_RETRY = RetryPolicy(base=0.2, cap=1.0)


def new_server(data_dir: Path, **env: str) -> LiveServer:
    """A server (not started) with the rate limit lifted and ``env`` added."""
    return LiveServer(data_dir, {**SERVER_ENV, **env})


STARTUP_TIMEOUT = 240.0
"""A loaded 2-core box can take a while to start a server."""


async def start(server: LiveServer) -> None:
    """Start ``server`` without blocking the event loop (the engines under test keep running)."""
    await asyncio.to_thread(server.start, STARTUP_TIMEOUT)


async def stop(server: LiveServer) -> None:
    """Stop ``server`` without blocking the event loop."""
    await asyncio.to_thread(server.stop)


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


async def device(
    profile: Path,
    server_url: str,
    username: str,
    *,
    register: bool = False,
    backoff: Backoff = FAST_BACKOFF,
    start: bool = True,
) -> Device:
    """Sign in (or register) ``username`` in ``profile`` and build its engine."""
    session = Session(profile, server_url, vault=FileVault(profile / "secrets"))
    if register:
        await session.register(username, PASSWORD, username.title())
    else:
        await session.login(username, PASSWORD)
    engine = Engine(session, backoff=backoff, retry=FAST_RETRY)
    if start:
        await engine.start()
    return Device(profile, session, engine)
