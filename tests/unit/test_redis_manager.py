"""The batching Redis manager publishes a run of emits in one pipeline, in order, in the very
format python-socketio's own ``emit`` publishes (so other nodes handle them unchanged)."""

import json
from typing import Any

import socketio

from server.realtime.redis_manager import BatchingRedisManager
from server.services.unit_of_work import Emit


class FakePipeline:
    """Records the commands queued on it and what ``execute`` sent."""

    def __init__(self, redis: "FakeRedis") -> None:
        self.redis = redis
        self.queued: list[tuple[str, str]] = []

    def publish(self, channel: str, message: str) -> None:
        self.queued.append((channel, message))

    async def execute(self) -> None:
        self.redis.round_trips.append(self.queued)


class FakeRedis:
    def __init__(self) -> None:
        self.round_trips: list[list[tuple[str, str]]] = []
        self.published: list[tuple[str, str]] = []

    def pipeline(self, transaction: bool) -> FakePipeline:
        assert transaction is False
        return FakePipeline(self)

    async def publish(self, channel: str, message: str) -> None:
        self.published.append((channel, message))


class RecordingManager(BatchingRedisManager):
    """Records the messages it would deliver to this node's sockets."""

    def __init__(self) -> None:
        super().__init__("redis://127.0.0.1:1/0", channel="test:sio")
        self.delivered: list[dict[str, Any]] = []

    async def _handle_emit(self, message: dict[str, Any]) -> None:
        self.delivered.append(message)


def _manager() -> tuple[BatchingRedisManager, FakeRedis, list[dict[str, Any]]]:
    manager = RecordingManager()
    socketio.AsyncServer(async_mode="asgi", client_manager=manager)
    redis = FakeRedis()
    manager.redis, manager.connected = redis, True
    return manager, redis, manager.delivered


async def test_a_run_of_emits_is_one_round_trip_in_order() -> None:
    manager, redis, delivered = _manager()
    emits = [Emit("message_new", {"seq": i}, ("conversation:c1",)) for i in range(5)]
    await manager.emit_many(emits)
    assert len(redis.round_trips) == 1
    published = [json.loads(message) for _, message in redis.round_trips[0]]
    assert [m["data"] for m in published] == [[{"seq": i}] for i in range(5)]
    assert {channel for channel, _ in redis.round_trips[0]} == {"test:sio"}
    assert delivered == published


async def test_published_like_python_socketios_own_emit() -> None:
    manager, redis, _ = _manager()
    await manager.emit("message_new", {"seq": 1}, room=["conversation:c1"])
    await manager.emit_many([Emit("message_new", {"seq": 1}, ("conversation:c1",))])
    own = json.loads(redis.published[0][1])
    batched = json.loads(redis.round_trips[0][0][1])
    assert batched == own


async def test_nothing_to_publish_is_no_round_trip() -> None:
    manager, redis, _ = _manager()
    await manager.emit_many([])
    assert redis.round_trips == []


async def test_redis_away_is_logged_not_raised() -> None:
    manager, redis, delivered = _manager()

    async def refuse() -> None:
        raise ConnectionError("redis is away")

    failing = FakePipeline(redis)
    failing.execute = refuse  # type: ignore[method-assign]
    redis.pipeline = lambda transaction: failing  # type: ignore[method-assign]
    await manager.emit_many([Emit("message_new", {"seq": 1}, ("conversation:c1",))])
    assert len(delivered) == 1  # this node's sockets still got it
    assert not manager.connected  # the next publish reconnects
