"""Socket.IO event handlers: validate the payload -> call the service -> answer through the ack."""

from protocol.errors import ErrorCode
from protocol.events import ClientEvent
from protocol.models import PresenceStatus
from protocol.socket import (
    DeleteMessagePayload,
    EditMessagePayload,
    ForwardMessagePayload,
    MarkReadPayload,
    MessageDeliveredPayload,
    ReactionPayload,
    SendMessagePayload,
    SetPresencePayload,
    TypingPayload,
)
from server.context import ServerContext
from server.errors import ApiError
from server.realtime.acks import OK, Ack
from server.realtime.connections import Caller, Connections
from server.realtime.message_events import MessageEvents
from server.realtime.presence import (
    MemoryGate,
    PresenceGate,
    PresenceNotifier,
    RedisGate,
)
from server.realtime.publisher import SocketPublisher
from server.realtime.registry import MemoryRegistry, RedisRegistry, SocketRegistry
from server.realtime.typing import TypingTracker
from server.services.access import require_member


class PresenceAndTyping:
    """The ephemeral events: typing_start, typing_stop and set_presence."""

    def __init__(
        self,
        context: ServerContext,
        registry: SocketRegistry,
        presence: PresenceNotifier,
        typing: TypingTracker,
    ) -> None:
        self._context = context
        self._registry = registry
        self._presence = presence
        self._typing = typing

    async def _require_member(self, caller: Caller, conversation_id: str) -> None:
        async with self._context.db.read() as session:
            await require_member(session, caller.user_id, conversation_id)

    async def typing_start(self, caller: Caller, payload: TypingPayload) -> Ack:
        """Members only; the room (not the typist's own sockets) gets ``typing_indicator``."""
        await self._require_member(caller, payload.conversation_id)
        await self._typing.start(
            caller.sid, caller.user_id, caller.display_name, payload.conversation_id
        )
        return OK

    async def typing_stop(self, caller: Caller, payload: TypingPayload) -> Ack:
        """Members only; the room gets ``typing_indicator`` with ``isTyping: false``."""
        await self._require_member(caller, payload.conversation_id)
        await self._typing.stop(caller.user_id, caller.display_name, payload.conversation_id)
        return OK

    async def set_presence(self, caller: Caller, payload: SetPresencePayload) -> Ack:
        """This socket is online or away; the user's combined state may change."""
        try:
            await self._registry.set_status(
                caller.user_id, caller.sid, PresenceStatus(payload.status)
            )
        except Exception as exc:
            raise ApiError(ErrorCode.INTERNAL, "presence is unavailable right now") from exc
        await self._presence.changed(caller.user_id)
        return OK


def register_handlers(context: ServerContext) -> None:
    """Attach the connect/disconnect handlers and every client event to ``context.sio``."""
    registry: SocketRegistry
    gate: PresenceGate
    if context.redis is not None:
        registry, gate = RedisRegistry(context.redis), RedisGate(context.redis)
    else:
        registry, gate = MemoryRegistry(), MemoryGate()
    if isinstance(context.db.publisher, SocketPublisher):
        context.db.publisher.registry = registry
    presence = PresenceNotifier(context.sio, context.db, registry, gate)
    typing = TypingTracker(context.sio, registry)
    connections = Connections(context, registry, presence, typing)
    connections.install()

    ephemeral = PresenceAndTyping(context, registry, presence, typing)
    connections.on(ClientEvent.TYPING_START, TypingPayload, ephemeral.typing_start)
    connections.on(ClientEvent.TYPING_STOP, TypingPayload, ephemeral.typing_stop)
    connections.on(ClientEvent.SET_PRESENCE, SetPresencePayload, ephemeral.set_presence)

    events = MessageEvents(context)
    connections.on_queued(ClientEvent.SEND_MESSAGE, SendMessagePayload, events.send_message)
    connections.on(ClientEvent.EDIT_MESSAGE, EditMessagePayload, events.edit_message)
    connections.on(ClientEvent.DELETE_MESSAGE, DeleteMessagePayload, events.delete_message)
    connections.on(ClientEvent.ADD_REACTION, ReactionPayload, events.add_reaction)
    connections.on(ClientEvent.REMOVE_REACTION, ReactionPayload, events.remove_reaction)
    connections.on(ClientEvent.MARK_READ, MarkReadPayload, events.mark_read)
    connections.on(ClientEvent.MESSAGE_DELIVERED, MessageDeliveredPayload, events.message_delivered)
    connections.on(ClientEvent.FORWARD_MESSAGE, ForwardMessagePayload, events.forward_message)
