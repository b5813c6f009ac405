"""Which sockets each user has open, on every node, and each socket's presence state.

One node: a dictionary. Several nodes: a Redis hash per user (``oc:sockets:<user>``: sid ->
``<node>|<status>``) plus a heartbeat key per node (``oc:node:<node>``, renewed every
``HEARTBEAT_SECONDS``, expiring after ``NODE_TTL_SECONDS``). A node that dies without cleaning up
stops renewing its key, so its sockets stop counting within ``NODE_TTL_SECONDS`` and are pruned
the next time someone reads that user; a node that only stalled writes its sockets back at its
next beat.
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
    """The registry shared by every node through Redis.

    The node also keeps its own sockets in memory: when its heartbeat key had lapsed (a stalled
    event loop, a Redis restart) other nodes may have pruned them, so the next beat writes them
    back.
    """

    def __init__(self, redis: Redis, node_id: str | None = None) -> None:
        self._redis = redis
        self.node_id = node_id or uuid.uuid4().hex
        self._heartbeat: asyncio.Task[None] | None = None
        self._local: dict[str, tuple[str, PresenceStatus]] = {}
        """sid -> (user id, status) of this node's sockets."""

    @staticmethod
    def _user_key(user_id: str) -> str:
        return f"oc:sockets:{user_id}"

    @staticmethod
    def _node_key(node_id: str) -> str:
        return f"oc:node:{node_id}"

    def _entry(self, status: PresenceStatus) -> str:
        return f"{self.node_id}|{status.value}"

    async def beat(self) -> None:
        """Renew this node's key; when it had lapsed, write this node's sockets back."""
        previous = await self._redis.set(
            self._node_key(self.node_id), "1", ex=NODE_TTL_SECONDS, get=True
        )
        if previous is None and self._local:
            pipe = self._redis.pipeline(transaction=False)
            for sid, (user_id, status) in self._local.items():
                pipe.hset(self._user_key(user_id), sid, self._entry(status))
            await pipe.execute()

    async def _heartbeat_loop(self) -> None:
        while True:
            await asyncio.sleep(HEARTBEAT_SECONDS)
            try:
                await self.beat()
            except Exception as exc:  # Redis briefly away: try again next beat.
                log.warning("presence heartbeat failed: %s", type(exc).__name__)

    async def _ensure_heartbeat(self) -> None:
        if self._heartbeat is None or self._heartbeat.done():
            await self.beat()
            self._heartbeat = asyncio.create_task(self._heartbeat_loop(), name="presence-beat")

    async def add(self, user_id: str, sid: str) -> None:
        """Record a new socket of ``user_id`` (online) on this node."""
        self._local[sid] = (user_id, PresenceStatus.ONLINE)
        await self._ensure_heartbeat()
        await self._redis.hset(self._user_key(user_id), sid, self._entry(PresenceStatus.ONLINE))

    async def remove(self, user_id: str, sid: str) -> None:
        """Forget a closed socket."""
        self._local.pop(sid, None)
        await self._redis.hdel(self._user_key(user_id), sid)

    async def set_status(self, user_id: str, sid: str, status: PresenceStatus) -> None:
        """Set one socket's presence state (online or away)."""
        if sid not in self._local:
            return
        self._local[sid] = (user_id, status)
        await self._redis.hset(self._user_key(user_id), sid, self._entry(status))

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
