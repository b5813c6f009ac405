"""RealtimeClient against a minimal in-process Socket.IO server (no OpenChat logic): token
refusal -> refresh -> reconnect, catch-up before live events, acks and ack errors, drops."""

import asyncio
import contextlib
import json
import socket
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import socketio
import uvicorn

from client.errors import ForbiddenError, NetworkError
from client.services.api import ApiClient
from client.services.realtime import Backoff, ConnectionState, RealtimeClient, refusal_code


class TinyServer:
    """Accepts only the current token; answers ``send_message`` acks."""

    def __init__(self) -> None:
        self.valid_token = "access-2"
        self.sio = socketio.AsyncServer(async_mode="asgi")
        self.connections = 0
        self.sids: list[str] = []
        self.sio.on("connect", self.on_connect)
        self.sio.on("send_message", self.on_send)

    async def on_connect(self, sid: str, environ: dict[str, Any], auth: Any) -> None:
        if not isinstance(auth, dict) or auth.get("token") != self.valid_token:
            raise socketio.exceptions.ConnectionRefusedError(
                {"code": "INVALID_TOKEN", "message": "bad token"}
            )
        self.connections += 1
        self.sids.append(sid)
        await self.sio.emit("message_new", {"eventId": self.connections}, to=sid)

    async def on_send(self, sid: str, data: dict[str, Any]) -> dict[str, Any]:
        if data.get("text") == "blocked":
            return {"error": {"code": "BLOCKED", "message": "blocked"}}
        return {"id": "m1", "clientId": data["clientId"]}


@contextlib.asynccontextmanager
async def serve(app: Any) -> AsyncIterator[str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
    task = asyncio.create_task(server.serve())
    await wait_for(lambda: server.started)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


async def wait_for(predicate: Any, within: float = 10.0) -> None:
    for _ in range(int(within / 0.02)):
        if predicate():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("condition not reached in time")


def test_refusal_code_shapes() -> None:
    assert refusal_code([{"message": "x", "data": {"code": "INVALID_TOKEN"}}]) == "INVALID_TOKEN"
    assert refusal_code(["UNAUTHORIZED: missing token"]) == "UNAUTHORIZED"
    assert refusal_code([]) is None


async def test_refresh_on_refusal_catch_up_then_live_events() -> None:
    tiny = TinyServer()

    def refresh(request: httpx.Request) -> httpx.Response:
        assert json.loads(request.content) == {"refresh_token": "refresh-1"}
        user = {"id": "u", "username": "alice", "display_name": "A"}
        body = {"user": user, "access_token": "access-2", "refresh_token": "refresh-2"}
        return httpx.Response(200, json=body)

    api = ApiClient("http://unused", transport=httpx.MockTransport(refresh))
    api.set_tokens("access-1", "refresh-1")
    order: list[str] = []
    states: list[ConnectionState] = []

    async def on_connected() -> None:
        order.append("catch-up")
        await asyncio.sleep(0.2)  # live events queue up meanwhile
        order.append("caught-up")

    async def on_event(name: str, payload: dict[str, Any]) -> None:
        order.append(f"{name}:{payload['eventId']}")

    async with serve(socketio.ASGIApp(tiny.sio)) as url:
        client = RealtimeClient(
            url,
            api,
            on_event=on_event,
            on_state=states.append,
            on_connected=on_connected,
            backoff=Backoff(base=0.05, cap=0.2),
        )
        await client.start()
        assert await client.wait_online(10)
        await wait_for(lambda: "message_new:1" in order)
        assert order[:3] == ["catch-up", "caught-up", "message_new:1"]
        assert api.access_token == "access-2"

        ack = await client.call("send_message", {"clientId": "k1", "text": "hi"})
        assert ack == {"id": "m1", "clientId": "k1"}
        with pytest.raises(ForbiddenError) as caught:
            await client.call("send_message", {"clientId": "k2", "text": "blocked"})
        assert caught.value.code == "BLOCKED"

        await tiny.sio.disconnect(tiny.sids[-1])
        await wait_for(lambda: "message_new:2" in order)
        assert order.count("catch-up") == 2
        assert ConnectionState.CONNECTING in states[1:]
        await client.stop()
        assert client.state is ConnectionState.OFFLINE
        with pytest.raises(NetworkError):
            await client.call("send_message", {"clientId": "k3", "text": "x"})
    await api.aclose()


async def test_server_down_backs_off_and_reports_offline() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    api = ApiClient("http://unused", transport=httpx.MockTransport(lambda r: httpx.Response(500)))
    api.set_tokens("access", "refresh")
    states: list[ConnectionState] = []

    async def on_event(name: str, payload: dict[str, Any]) -> None:
        raise AssertionError("no events expected")

    client = RealtimeClient(
        f"http://127.0.0.1:{port}",
        api,
        on_event=on_event,
        on_state=states.append,
        backoff=Backoff(base=0.01, cap=0.05),
    )
    await client.start()
    await wait_for(lambda: states.count(ConnectionState.OFFLINE) >= 2)
    assert not await client.wait_online(0.05)
    await client.stop()
