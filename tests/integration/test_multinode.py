"""Two server processes sharing one PostgreSQL database and one Redis: what is sent through one
node reaches the sockets connected to the other (Socket.IO's Redis manager carries the emits and
the room changes between nodes)."""

import asyncio
import secrets
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import socketio

from tests.conftest import require_postgres
from tests.support.api import Account, register
from tests.support.live_server import LiveServer, backend_env, postgres_database

pytestmark = pytest.mark.postgres

WAIT = 10.0
"""Upper bound for any one delivery; a correct server takes milliseconds."""
START = 300.0
"""Upper bound for a node to start (imports and migrations are slow on a loaded machine)."""


@dataclass
class Nodes:
    """Two servers on the same database, Redis and secret key (a token from one works on both)."""

    first: LiveServer
    second: LiveServer


@pytest.fixture(scope="module")
def nodes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Nodes]:
    require_postgres()
    root = tmp_path_factory.mktemp("nodes")
    with postgres_database() as url:
        env = {**backend_env("postgres", url), "OPENCHAT_SECRET_KEY": secrets.token_urlsafe(32)}
        first, second = LiveServer(root / "a", env), LiveServer(root / "b", env)
        first.start(START)  # one at a time: the first one migrates the empty database
        try:
            second.start(START)
            yield Nodes(first, second)
        finally:
            second.stop()
            first.stop()


@dataclass
class Listener:
    """A python-socketio client that keeps every ``message_new`` it receives."""

    url: str
    account: Account
    sio: socketio.AsyncClient = field(default_factory=lambda: socketio.AsyncClient())
    messages: list[dict[str, Any]] = field(default_factory=list)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    async def connect(self) -> None:
        """Connect (WebSocket) with the account's access token."""

        async def on_message_new(payload: dict[str, Any]) -> None:
            self.messages.append(payload)
            self.arrived.set()

        self.sio.on("message_new", on_message_new)
        await self.sio.connect(
            self.url,
            auth={"token": self.account.access_token},
            transports=["websocket"],
            wait_timeout=WAIT,
        )

    async def message(self, message_id: str) -> dict[str, Any]:
        """The ``message_new`` of ``message_id``, waiting at most ``WAIT`` seconds for it."""
        async with asyncio.timeout(WAIT):
            while True:
                for payload in self.messages:
                    if payload.get("id") == message_id:
                        return payload
                self.arrived.clear()
                await self.arrived.wait()

    async def send(self, conversation_id: str, text: str) -> dict[str, Any]:
        """``send_message`` with an ack; returns the ack (the stored message)."""
        ack: dict[str, Any] = await self.sio.call(
            "send_message",
            {"conversationId": conversation_id, "text": text, "clientId": uuid.uuid4().hex},
            timeout=WAIT,
        )
        assert "error" not in ack, ack
        return ack


async def _connected(url: str, account: Account) -> Listener:
    listener = Listener(url, account)
    await listener.connect()
    return listener


async def test_messages_cross_nodes_both_ways(nodes: Nodes) -> None:
    alice, bob = register(nodes.first.url), register(nodes.second.url)
    conversation_id = alice.direct_with(bob)
    on_first = await _connected(nodes.first.url, alice)
    on_second = await _connected(nodes.second.url, bob)
    try:
        ack = await on_first.send(conversation_id, "through node one")
        received = await on_second.message(ack["id"])
        assert received["text"] == "through node one"
        assert received["senderId"] == alice.user_id
        assert received["eventId"] > 0

        response = bob.send(conversation_id, "back through node two (REST)")
        assert response.status_code == 201, response.text
        reply = await on_first.message(response.json()["id"])
        assert reply["senderId"] == bob.user_id
        assert reply["seq"] == ack["seq"] + 1
    finally:
        await on_first.sio.disconnect()
        await on_second.sio.disconnect()


async def test_conversation_created_while_online_reaches_the_other_node(nodes: Nodes) -> None:
    alice, bob = register(nodes.first.url), register(nodes.first.url)
    on_first = await _connected(nodes.first.url, alice)
    on_second = await _connected(nodes.second.url, bob)
    try:
        # Created through node one while bob's only socket is on node two: his socket must join
        # the new conversation's room there, or he would miss its messages until he reconnects.
        conversation_id = alice.direct_with(bob)
        ack = await on_first.send(conversation_id, "first words in a new chat")
        received = await on_second.message(ack["id"])
        assert received["conversationId"] == conversation_id
        assert received["clientId"] == ack["clientId"]
    finally:
        await on_first.sio.disconnect()
        await on_second.sio.disconnect()


async def test_a_burst_reaches_both_nodes_in_order(nodes: Nodes) -> None:
    """Sends pipelined on one socket (within the rate limit) are stored in batches whose emits
    leave in one Redis round trip: every socket, on this node and the other, gets them all, in
    seq order."""
    alice, bob = register(nodes.first.url), register(nodes.second.url)
    conversation_id = alice.direct_with(bob)
    sender = await _connected(nodes.first.url, alice)
    same_node = await _connected(nodes.first.url, bob)
    other_node = await _connected(nodes.second.url, bob)
    try:
        acks = await asyncio.gather(
            *(sender.send(conversation_id, f"burst {i}") for i in range(25))
        )
        ids = [ack["id"] for ack in sorted(acks, key=lambda ack: ack["seq"])]
        for listener in (same_node, other_node):
            await listener.message(ids[-1])
            seqs = [m["seq"] for m in listener.messages if m["conversationId"] == conversation_id]
            assert seqs == sorted(seqs) and len(seqs) == 25
            assert [m["id"] for m in listener.messages] == ids
    finally:
        for listener in (sender, same_node, other_node):
            await listener.sio.disconnect()
