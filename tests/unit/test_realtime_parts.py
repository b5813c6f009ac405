"""The realtime layer's parts without a server: ack guard, publisher failure isolation, presence
gate and socket registries (the Redis one against the local Redis when it runs)."""

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from redis.asyncio import Redis

from protocol.models import PresenceStatus
from protocol.socket import TypingPayload
from server.errors import ApiError
from server.realtime import emitter
from server.realtime.acks import guarded, parse
from server.realtime.presence import MemoryGate, RedisGate
from server.realtime.publisher import SocketPublisher
from server.realtime.registry import MemoryRegistry, RedisRegistry, combined_status
from server.services.unit_of_work import Emit, RoomChange
from tests.support.live_server import REDIS_URL


class BrokenServer:
    """A Socket.IO server whose every emit and room change fails."""

    def __init__(self) -> None:
        self.emits: list[str] = []
        self.manager = None
        """python-socketio's in-process manager stands here: emits go one by one."""

    async def emit(self, event: str, data: Any, **kwargs: Any) -> None:
        self.emits.append(event)
        raise ConnectionError("redis is away")

    async def enter_room(self, sid: str, room: str) -> None:
        raise ConnectionError("redis is away")


def test_parse_refuses_anything_but_one_valid_object() -> None:
    for args in ((), ("text",), (None,), ([1],), ({},), ({"conversationId": "a", "x": 1},)):
        with pytest.raises(ApiError) as caught:
            parse(TypingPayload, args)
        assert caught.value.code == "VALIDATION_ERROR"
    assert parse(TypingPayload, ({"conversationId": "abc"},)).conversation_id == "abc"


async def test_guard_turns_every_failure_into_an_error_ack() -> None:
    async def crash() -> dict[str, Any]:
        raise RuntimeError("boom")

    ack = await guarded("send_message", crash)
    assert ack["error"]["code"] == "INTERNAL" and "boom" not in ack["error"]["message"]


async def test_publisher_never_raises_and_keeps_emitting_after_a_failure() -> None:
    server = BrokenServer()
    registry = MemoryRegistry()
    await registry.add("u1", "sid-1")
    publisher = SocketPublisher(server, registry)
    emits = [Emit("message_new", {}, ("conv:c",)), Emit("message_read", {}, ("conv:c",))]
    await publisher.publish(emits, [RoomChange(("u1",), "c", join=True)])
    assert server.emits == ["message_new", "message_read"]


class StuckServer:
    """A Socket.IO server whose emits never finish."""

    async def emit(self, event: str, data: Any, **kwargs: Any) -> None:
        await asyncio.Event().wait()


async def test_a_stuck_emit_is_abandoned_after_the_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(emitter, "EMIT_TIMEOUT_SECONDS", 0.05)
    delivered = await asyncio.wait_for(
        emitter.safe_emit(StuckServer(), "message_new", {}, "conv:c"),
        5,
    )
    assert delivered is False


async def test_memory_gate_allows_one_state_per_window() -> None:
    gate = MemoryGate()
    assert await gate.last("u") is PresenceStatus.OFFLINE
    assert await gate.claim("u", PresenceStatus.ONLINE, 0.2) is None
    wait = await gate.claim("u", PresenceStatus.OFFLINE, 0.2)
    assert wait is not None and 0 < wait <= 0.2
    assert await gate.last("u") is PresenceStatus.ONLINE
    await asyncio.sleep(wait)
    assert await gate.claim("u", PresenceStatus.OFFLINE, 0.2) is None
    assert await gate.last("u") is PresenceStatus.OFFLINE


def test_combined_status() -> None:
    online, away = PresenceStatus.ONLINE, PresenceStatus.AWAY
    assert combined_status([]) is PresenceStatus.OFFLINE
    assert combined_status([away, online]) is online
    assert combined_status([away, away]) is away


@pytest.fixture
async def redis() -> AsyncIterator[Redis]:
    client = Redis.from_url(REDIS_URL, socket_timeout=3)
    try:
        await client.ping()
    except Exception as exc:
        await client.aclose()
        pytest.skip(f"Redis not reachable at {REDIS_URL}: {exc}")
    yield client
    await client.aclose()


async def test_redis_registry_spans_nodes_and_forgets_a_dead_one(redis: Redis) -> None:
    user = uuid.uuid4().hex
    node_a, node_b = RedisRegistry(redis, "a-" + user), RedisRegistry(redis, "b-" + user)
    await node_a.add(user, "sid-a")
    await node_b.add(user, "sid-b")
    await node_b.set_status(user, "sid-b", PresenceStatus.AWAY)
    assert sorted(await node_a.sids_of(user)) == ["sid-a", "sid-b"]
    await node_a.remove(user, "sid-a")
    assert await node_a.status_of(user) is PresenceStatus.AWAY
    # node b dies without cleaning up: its heartbeat key lapses, its sockets stop counting
    await redis.delete(f"oc:node:{node_b.node_id}")
    assert await node_a.sids_of(user) == []
    assert await node_a.status_of(user) is PresenceStatus.OFFLINE
    assert await redis.hlen(f"oc:sockets:{user}") == 0


async def test_redis_gate_throttles_and_never_expires_a_non_offline_state(redis: Redis) -> None:
    user = uuid.uuid4().hex
    gate = RedisGate(redis)
    assert await gate.claim(user, PresenceStatus.ONLINE, 0.2) is None
    wait = await gate.claim(user, PresenceStatus.OFFLINE, 0.2)
    assert wait is not None and 0 < wait <= 0.2
    assert await gate.last(user) is PresenceStatus.ONLINE
    assert await redis.ttl(f"oc:presence:{user}") == -1
    await asyncio.sleep(wait)
    assert await gate.claim(user, PresenceStatus.OFFLINE, 0.2) is None
    assert await gate.last(user) is PresenceStatus.OFFLINE
    assert await redis.ttl(f"oc:presence:{user}") > 0


async def test_redis_registry_writes_its_sockets_back_after_its_key_lapsed(redis: Redis) -> None:
    user = uuid.uuid4().hex
    node_a, node_b = RedisRegistry(redis, "a-" + user), RedisRegistry(redis, "b-" + user)
    await node_a.add(user, "sid-a")
    await node_a.set_status(user, "sid-a", PresenceStatus.AWAY)
    await redis.delete(f"oc:node:{node_a.node_id}")  # node a stalled past its TTL
    assert await node_b.sids_of(user) == []  # ... and node b pruned its socket
    await node_a.beat()
    assert await node_b.sids_of(user) == ["sid-a"]
    assert await node_b.status_of(user) is PresenceStatus.AWAY
