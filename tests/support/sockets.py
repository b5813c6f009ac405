"""Socket.IO test clients: a socket that records every server event for bounded waits, and
helpers for connecting, refusals and acks."""

import asyncio
import time
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest
import socketio

from tests.support.api import Account
from tests.support.live_server import LiveServer

WAIT = 10.0
"""Upper bound for anything the server should deliver (never a sleep)."""
Match = Callable[[Any], bool]


class Sock:
    """An ``AsyncClient`` that records every server event for bounded waits."""

    def __init__(self) -> None:
        self.sio = socketio.AsyncClient(reconnection=False)
        self.events: defaultdict[str, list[tuple[float, Any]]] = defaultdict(list)
        self.refusal: Any = None
        self._changed = asyncio.Condition()
        self.sio.on("*", self._record)
        self.sio.on("connect_error", self._refused)

    async def _record(self, event: str, data: Any = None) -> None:
        async with self._changed:
            self.events[event].append((time.monotonic(), data))
            self._changed.notify_all()

    async def _refused(self, data: Any = None) -> None:
        self.refusal = data

    def received(self, event: str, match: Match = lambda _d: True) -> list[Any]:
        """Payloads of ``event`` received so far that ``match``."""
        return [data for _at, data in self.events[event] if match(data)]

    async def wait(self, event: str, match: Match = lambda _d: True, count: int = 1) -> Any:
        """The ``count``-th payload of ``event`` matching ``match`` (waiting up to ``WAIT``)."""

        async def nth() -> Any:
            async with self._changed:
                while True:
                    found = self.received(event, match)
                    if len(found) >= count:
                        return found[count - 1]
                    await self._changed.wait()

        return await asyncio.wait_for(nth(), WAIT)

    async def until(self, condition: Callable[[], bool]) -> None:
        """Wait (up to ``WAIT``) until ``condition()`` holds, re-checking at each event."""

        async def check() -> None:
            async with self._changed:
                while not condition():
                    await self._changed.wait()

        await asyncio.wait_for(check(), WAIT)

    async def call(self, event: str, *args: Any) -> Any:
        """Emit with an ack and return the ack."""
        data: Any = args[0] if len(args) == 1 else (tuple(args) if args else None)
        return await self.sio.call(event, data, timeout=WAIT)

    async def close(self) -> None:
        """Disconnect."""
        if self.sio.connected:
            await self.sio.disconnect()


@asynccontextmanager
async def connected(
    server: LiveServer, account: Account | None, **kwargs: Any
) -> AsyncIterator[Sock]:
    """A socket signed in as ``account`` (``auth`` / ``headers`` can be overridden)."""
    sock = Sock()
    if account is not None and "auth" not in kwargs and "headers" not in kwargs:
        kwargs["auth"] = {"token": account.access_token}
    await sock.sio.connect(server.url, transports=["websocket"], wait_timeout=WAIT, **kwargs)
    try:
        yield sock
    finally:
        await sock.close()


async def refused(server: LiveServer, **kwargs: Any) -> Any:
    """Try to connect; return what ``connect_error`` received."""
    sock = Sock()
    with pytest.raises(socketio.exceptions.ConnectionError):
        await sock.sio.connect(server.url, transports=["websocket"], wait_timeout=WAIT, **kwargs)
    await sock.close()
    return sock.refusal


def error_code(ack: Any) -> str:
    """The code of an error ack (fails the test on a success ack)."""
    assert isinstance(ack, dict) and "error" in ack, ack
    assert set(ack["error"]) >= {"code", "message"}, ack
    return str(ack["error"]["code"])


def send_payload(conversation_id: str, text: Any = "hello", **extra: Any) -> dict[str, Any]:
    """A ``send_message`` payload with a fresh client id."""
    return {
        "conversationId": conversation_id,
        "text": text,
        "clientId": uuid.uuid4().hex,
        **extra,
    }
