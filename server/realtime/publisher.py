"""Delivers committed changes to sockets: room joins/leaves first, then the emits in order."""

from collections.abc import Sequence

import socketio

from server.services.unit_of_work import Emit, RoomChange, conversation_room, user_room


class SocketPublisher:
    """The ``Publisher`` of the unit of work, over the Socket.IO server (and its Redis manager
    when several nodes share the work: emits and room changes then reach every node)."""

    def __init__(self, sio: socketio.AsyncServer) -> None:
        self._sio = sio

    async def publish(self, emits: Sequence[Emit], rooms: Sequence[RoomChange]) -> None:
        """Apply room changes, then send the emits in order."""
        for change in rooms:
            await self._change_rooms(change)
        for emit in emits:
            await self._sio.emit(emit.event, emit.data, room=list(emit.rooms))

    async def _change_rooms(self, change: RoomChange) -> None:
        room = conversation_room(change.conversation_id)
        for user_id in change.user_ids:
            for sid in await self.sids_of(user_id):
                if change.join:
                    await self._sio.enter_room(sid, room)
                else:
                    await self._sio.leave_room(sid, room)

    async def sids_of(self, user_id: str) -> list[str]:
        """The socket ids of every connection of ``user_id`` known to this node."""
        return [sid for sid, _eio in self._sio.manager.get_participants("/", user_room(user_id))]
