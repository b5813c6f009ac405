"""Which sockets each user has open, on every node, and each socket's presence state.

One node: a dictionary. Several nodes: a Redis hash per user (``oc:sockets:<user>``: sid ->
``<node>|<status>``) plus a heartbeat key per node (``oc:node:<node>``, renewed every
``HEARTBEAT_SECONDS``, expiring after ``NODE_TTL_SECONDS``). A node that dies without cleaning up
stops renewing its key, so its sockets stop counting within ``NODE_TTL_SECONDS`` and are pruned
the next time someone reads that user.
"""

import asyncio
import logging
import uuid
from typing import Protocol

from redis.asyncio import Redis

from protocol.models import PresenceStatus

log = logging.getLogger("openchat.realtime")

HEARTBEAT_SECONDS = 5.0
NODE_TTL_SECONDS = 15


def as_text(value: bytes | str) -> str:
    """A Redis reply as text (clients may or may not decode responses)."""
    return value.decode() if isinstance(value, bytes) else value


def combined_status(statuses: list[PresenceStatus]) -> PresenceStatus:
    """A user's presence from their sockets': online if any socket is online, away if all of
    them are away, offline without sockets."""
    if not statuses:
        return PresenceStatus.OFFLINE
    if PresenceStatus.ONLINE in statuses:
        return PresenceStatus.ONLINE
    return PresenceStatus.AWAY


class SocketRegistry(Protocol):
    """The sockets of every user across nodes, with each socket's presence state."""

    async def add(self, user_id: str, sid: str) -> None:
        """Record a new socket of ``user_id`` (online)."""
        ...

    async def remove(self, user_id: str, sid: str) -> None:
        """Forget a closed socket."""
        ...

    async def set_status(self, user_id: str, sid: str, status: PresenceStatus) -> None:
        """Set one socket's presence state (online or away)."""
        ...

    async def sids_of(self, user_id: str) -> list[str]:
        """Every open socket of ``user_id`` on every live node."""
        ...

    async def status_of(self, user_id: str) -> PresenceStatus:
        """The user's combined presence (see ``combined_status``)."""
        ...


class MemoryRegistry:
    """The registry of a single node."""

    def __init__(self) -> None:
        self._sockets: dict[str, dict[str, PresenceStatus]] = {}

    async def add(self, user_id: str, sid: str) -> None:
        """Record a new socket of ``user_id`` (online)."""
        self._sockets.setdefault(user_id, {})[sid] = PresenceStatus.ONLINE

    async def remove(self, user_id: str, sid: str) -> None:
        """Forget a closed socket."""
        sockets = self._sockets.get(user_id, {})
        sockets.pop(sid, None)
        if not sockets:
            self._sockets.pop(user_id, None)

    async def set_status(self, user_id: str, sid: str, status: PresenceStatus) -> None:
        """Set one socket's presence state (online or away)."""
        sockets = self._sockets.get(user_id)
        if sockets is not None and sid in sockets:
            sockets[sid] = status

    async def sids_of(self, user_id: str) -> list[str]:
        """Every open socket of ``user_id``."""
        return list(self._sockets.get(user_id, {}))

    async def status_of(self, user_id: str) -> PresenceStatus:
        """The user's combined presence."""
        return combined_status(list(self._sockets.get(user_id, {}).values()))


class RedisRegistry:
    """The registry shared by every node through Redis."""

    def __init__(self, redis: Redis, node_id: str | None = None) -> None:
        self._redis = redis
        self.node_id = node_id or uuid.uuid4().hex
        self._heartbeat: asyncio.Task[None] | None = None

    @staticmethod
    def _user_key(user_id: str) -> str:
        return f"oc:sockets:{user_id}"

    @staticmethod
    def _node_key(node_id: str) -> str:
        return f"oc:node:{node_id}"

    async def _beat(self) -> None:
        await self._redis.set(self._node_key(self.node_id), "1", ex=NODE_TTL_SECONDS)

    async def _heartbeat_loop(self) -> None:
        while True:
            await asyncio.sleep(HEARTBEAT_SECONDS)
            try:
                await self._beat()
            except Exception as exc:  # Redis briefly away: try again next beat.
                log.warning("presence heartbeat failed: %s", type(exc).__name__)

    async def _ensure_heartbeat(self) -> None:
        if self._heartbeat is None or self._heartbeat.done():
            await self._beat()
            self._heartbeat = asyncio.create_task(self._heartbeat_loop(), name="presence-beat")

    async def add(self, user_id: str, sid: str) -> None:
        """Record a new socket of ``user_id`` (online) on this node."""
        await self._ensure_heartbeat()
        value = f"{self.node_id}|{PresenceStatus.ONLINE.value}"
        await self._redis.hset(self._user_key(user_id), sid, value)

    async def remove(self, user_id: str, sid: str) -> None:
        """Forget a closed socket."""
        await self._redis.hdel(self._user_key(user_id), sid)

    async def set_status(self, user_id: str, sid: str, status: PresenceStatus) -> None:
        """Set one socket's presence state (online or away)."""
        key = self._user_key(user_id)
        if await self._redis.hexists(key, sid):
            await self._redis.hset(key, sid, f"{self.node_id}|{status.value}")

    async def _live_sockets(self, user_id: str) -> dict[str, PresenceStatus]:
        """sid -> status of the user's sockets on live nodes; prunes those of dead nodes."""
        key = self._user_key(user_id)
        raw = await self._redis.hgetall(key)
        if not raw:
            return {}
        entries: dict[str, tuple[str, str]] = {}
        for sid, value in raw.items():
            node, _, status = as_text(value).partition("|")
            entries[as_text(sid)] = (node, status)
        nodes = sorted({node for node, _status in entries.values()})
        alive_flags = await self._redis.mget([self._node_key(n) for n in nodes])
        alive = {node for node, flag in zip(nodes, alive_flags, strict=True) if flag is not None}
        dead = [sid for sid, (node, _status) in entries.items() if node not in alive]
        if dead:
            await self._redis.hdel(key, *dead)
        return {
            sid: PresenceStatus(status) for sid, (node, status) in entries.items() if node in alive
        }

    async def sids_of(self, user_id: str) -> list[str]:
        """Every open socket of ``user_id`` on every live node."""
        return list(await self._live_sockets(user_id))

    async def status_of(self, user_id: str) -> PresenceStatus:
        """The user's combined presence across nodes."""
        return combined_status(list((await self._live_sockets(user_id)).values()))
