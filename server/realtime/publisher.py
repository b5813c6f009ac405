"""Delivers committed changes to sockets: room joins/leaves first, then the emits in order."""

import asyncio
import logging
from collections.abc import Sequence

import socketio

from server.realtime.emitter import EMIT_TIMEOUT_SECONDS, safe_emit
from server.realtime.redis_manager import BatchingRedisManager
from server.realtime.registry import MemoryRegistry, SocketRegistry
from server.services.unit_of_work import Emit, RoomChange, conversation_room

log = logging.getLogger("openchat.realtime")


class SocketPublisher:
    """The ``Publisher`` of the unit of work, over the Socket.IO server (and its Redis manager
    when several nodes share the work: emits and room changes then reach every node).

    Through Redis a run of emits is published in one round trip (``emit_many``). Room changes
    find a user's sockets through the ``SocketRegistry`` (in Redis when several nodes share the
    work); python-socketio's Redis manager forwards ``enter_room`` / ``leave_room`` for a socket
    of another node to that node, ahead of the emits that follow.
    Publishing never raises: the change is committed, so a failed delivery is logged and left
    to ``GET /sync``.
    """

    def __init__(self, sio: socketio.AsyncServer, registry: SocketRegistry | None = None) -> None:
        self._sio = sio
        self.registry: SocketRegistry = registry or MemoryRegistry()

    async def publish(self, emits: Sequence[Emit], rooms: Sequence[RoomChange]) -> None:
        """Apply room changes, then send the emits in order."""
        for change in rooms:
            try:
                await asyncio.wait_for(self._change_rooms(change), EMIT_TIMEOUT_SECONDS)
            except Exception as exc:
                log.warning("room change failed: %s", type(exc).__name__)
        manager = self._sio.manager
        if isinstance(manager, BatchingRedisManager) and emits:
            try:
                async with asyncio.timeout(EMIT_TIMEOUT_SECONDS):
                    await manager.emit_many(emits)
            except Exception as exc:
                log.warning("emits failed: %s", type(exc).__name__)
            return
        for emit in emits:
            await safe_emit(self._sio, emit.event, emit.data, emit.rooms)

    async def _change_rooms(self, change: RoomChange) -> None:
        room = conversation_room(change.conversation_id)
        for user_id in change.user_ids:
            for sid in await self.sids_of(user_id):
                if change.join:
                    await self._sio.enter_room(sid, room)
                else:
                    await self._sio.leave_room(sid, room)

    async def sids_of(self, user_id: str) -> list[str]:
        """The socket ids of every connection of ``user_id`` (on every node)."""
        return await self.registry.sids_of(user_id)
