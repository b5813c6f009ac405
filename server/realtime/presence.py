"""Presence: ``presence_update`` when a user's combined state changes, at most one per user per
``PRESENCE_THROTTLE_SECONDS``.

Rules:
- a user is online while any of their sockets (on any node) is online, away while all of them
  are away (``set_presence {status: "away"}``), offline when none is connected;
- ``presence_update {userId, status, lastSeenAt}`` goes to the rooms of the user's conversations
  (every member's sockets, the user's own other devices included); ``lastSeenAt`` is set when
  the user goes offline;
- throttle: a change inside the window is not sent at once; when the window ends the user's
  state *then* is sent if it differs from the last one sent (a trailing emit), so the last state
  always gets out and a quick offline -> online flap sends nothing;
- on connect the new socket receives one ``presence_update`` per contact (members of its
  conversations) who is online or away, so it starts with a full picture.
The gate (last state sent and when) is in Redis when configured, shared by every node.
"""

import asyncio
import logging
import time
from datetime import UTC, datetime
from typing import Protocol

import socketio
from redis.asyncio import Redis
from sqlalchemy import select

from protocol import limits
from protocol.events import ServerEvent
from protocol.models import PresenceStatus
from protocol.socket import PresenceEvent
from server.db import models
from server.realtime.emitter import safe_emit
from server.realtime.registry import SocketRegistry, as_text
from server.services.access import conversation_ids_of
from server.services.unit_of_work import Database, conversation_room

log = logging.getLogger("openchat.realtime")


class PresenceGate(Protocol):
    """The last presence sent for each user, and when."""

    async def last(self, user_id: str) -> PresenceStatus:
        """The last state sent (offline when none was)."""
        ...

    async def claim(self, user_id: str, status: PresenceStatus, window: float) -> float | None:
        """Record ``status`` as sent now and return None, unless one was sent less than
        ``window`` seconds ago: then return the seconds left."""
        ...


class MemoryGate:
    """The gate of a single node."""

    def __init__(self) -> None:
        self._sent: dict[str, tuple[PresenceStatus, float]] = {}

    async def last(self, user_id: str) -> PresenceStatus:
        """The last state sent (offline when none was)."""
        return self._sent.get(user_id, (PresenceStatus.OFFLINE, 0.0))[0]

    async def claim(self, user_id: str, status: PresenceStatus, window: float) -> float | None:
        """Record ``status`` as sent unless the window is still open (then: seconds left)."""
        now = time.monotonic()
        previous = self._sent.get(user_id)
        if previous is not None and now - previous[1] < window:
            return previous[1] + window - now
        self._sent[user_id] = (status, now)
        return None


_CLAIM = """
local at = tonumber(redis.call('HGET', KEYS[1], 'at') or '0')
local now, window = tonumber(ARGV[1]), tonumber(ARGV[2])
if now - at < window then
  return tostring(at + window - now)
end
redis.call('HSET', KEYS[1], 'at', ARGV[1], 'status', ARGV[3])
-- "offline" is also what a missing key means, so only an offline record may expire
if ARGV[3] == 'offline' then
  redis.call('EXPIRE', KEYS[1], 86400)
else
  redis.call('PERSIST', KEYS[1])
end
return false
"""


class RedisGate:
    """The gate shared by every node (an atomic check-and-set in a Lua script)."""

    def __init__(self, redis: Redis) -> None:
        self._redis = redis
        self._script = redis.register_script(_CLAIM)

    @staticmethod
    def _key(user_id: str) -> str:
        return f"oc:presence:{user_id}"

    async def last(self, user_id: str) -> PresenceStatus:
        """The last state sent (offline when none was)."""
        raw = await self._redis.hget(self._key(user_id), "status")
        return PresenceStatus(as_text(raw)) if raw else PresenceStatus.OFFLINE

    async def claim(self, user_id: str, status: PresenceStatus, window: float) -> float | None:
        """Record ``status`` as sent unless the window is still open (then: seconds left)."""
        result = await self._script(
            keys=[self._key(user_id)], args=[time.time(), window, status.value]
        )
        return float(result) if result else None


class PresenceNotifier:
    """Sends ``presence_update`` on changes, throttled per user with a trailing emit."""

    def __init__(
        self,
        sio: socketio.AsyncServer,
        db: Database,
        registry: SocketRegistry,
        gate: PresenceGate,
        window: float = limits.PRESENCE_THROTTLE_SECONDS,
    ) -> None:
        self._sio = sio
        self._db = db
        self._registry = registry
        self._gate = gate
        self._window = window
        self._trailing: dict[str, asyncio.Task[None]] = {}

    async def changed(self, user_id: str) -> None:
        """The user's sockets changed: send their state if it differs from the last one sent,
        now or when the throttle window ends. Never raises (presence is best effort)."""
        try:
            await self._send_if_changed(user_id)
        except Exception as exc:
            log.warning("presence update failed: %s", type(exc).__name__)

    async def _send_if_changed(self, user_id: str) -> None:
        status = await self._registry.status_of(user_id)
        if status == await self._gate.last(user_id):
            return
        wait = await self._gate.claim(user_id, status, self._window)
        if wait is not None:
            self._schedule(user_id, wait)
            return
        event = PresenceEvent(
            user_id=user_id,
            status=status,
            last_seen_at=datetime.now(UTC) if status is PresenceStatus.OFFLINE else None,
        )
        async with self._db.read() as session:
            conversation_ids = await conversation_ids_of(session, user_id)
        rooms = [conversation_room(c) for c in conversation_ids]
        await safe_emit(
            self._sio, ServerEvent.PRESENCE_UPDATE.value, event.model_dump(mode="json"), rooms
        )

    def _schedule(self, user_id: str, delay: float) -> None:
        if user_id in self._trailing:
            return

        async def trailing() -> None:
            await asyncio.sleep(delay)
            del self._trailing[user_id]
            await self.changed(user_id)

        self._trailing[user_id] = asyncio.create_task(trailing(), name="presence-trailing")

    async def send_snapshot(self, sid: str, user_id: str, conversation_ids: list[str]) -> None:
        """Send the new socket ``sid`` the state of every contact who is online or away."""
        if not conversation_ids:
            return
        try:
            async with self._db.read() as session:
                contacts = await session.scalars(
                    select(models.ConversationMember.user_id)
                    .where(
                        models.ConversationMember.conversation_id.in_(conversation_ids),
                        models.ConversationMember.user_id != user_id,
                    )
                    .distinct()
                )
                contact_ids = list(contacts)
            for contact in contact_ids:
                status = await self._registry.status_of(contact)
                if status is not PresenceStatus.OFFLINE:
                    event = PresenceEvent(user_id=contact, status=status)
                    data = event.model_dump(mode="json")
                    await safe_emit(self._sio, ServerEvent.PRESENCE_UPDATE.value, data, sid)
        except Exception as exc:
            log.warning("presence snapshot failed: %s", type(exc).__name__)
