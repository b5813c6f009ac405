"""The socket lifecycle: authenticate the handshake, join the rooms, track presence and typing,
and run every client event in the ack guard, one event at a time per socket."""

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pydantic import BaseModel
from socketio import exceptions as sio_errors

from protocol.errors import ErrorCode
from server.context import ServerContext
from server.db import models
from server.errors import ApiError
from server.realtime.acks import Ack, error_ack, failure_ack, guarded, parse
from server.realtime.auth import Handshake, authenticate, refusal, token_expired
from server.realtime.presence import PresenceNotifier
from server.realtime.registry import SocketRegistry
from server.realtime.typing import TypingTracker
from server.services.access import conversation_ids_of
from server.services.unit_of_work import conversation_room, user_room

log = logging.getLogger("openchat.realtime")

P = TypeVar("P", bound=BaseModel)

NAMESPACE = "/"
CONNECTED_WAIT_SECONDS = 5.0
"""How long the post-connect work waits for python-socketio to finish the handshake."""


@dataclass
class Caller:
    """The user behind one connected socket. ``lock`` makes the socket's events run one at a
    time in arrival order (a queued event holds it only until it is queued)."""

    sid: str
    user_id: str
    display_name: str
    handshake: Handshake
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


Action = Callable[[Caller, P], Awaitable[Ack]]
Submit = Callable[[Caller, P], Awaitable[Ack]]
"""Queues the event when called (synchronously) and returns the awaitable of its ack."""


class Connections:
    """The connected sockets of this node and the handlers python-socketio calls."""

    def __init__(
        self,
        context: ServerContext,
        registry: SocketRegistry,
        presence: PresenceNotifier,
        typing: TypingTracker,
    ) -> None:
        self._context = context
        self._sio = context.sio
        self._registry = registry
        self._presence = presence
        self._typing = typing
        self._callers: dict[str, Caller] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def install(self) -> None:
        """Register connect, disconnect and the answer to unknown events."""
        self._sio.on("connect", self.connect)
        self._sio.on("disconnect", self.disconnect)
        self._sio.on("*", self.unknown_event)

    def on(self, event: str, model: type[P], action: Action[P]) -> None:
        """Handle client ``event``: validate its payload with ``model``, run ``action`` and
        answer through the ack (errors included)."""

        async def handler(sid: str, *args: Any) -> Ack:
            caller = self._callers.get(sid)
            if caller is None or caller.handshake.expired():
                return self._refuse(sid, caller)

            async def call() -> Ack:
                return await action(caller, parse(model, args))

            async with caller.lock:
                return await guarded(event, call)

        self._sio.on(event, handler)

    def on_queued(self, event: str, model: type[P], submit: Submit[P]) -> None:
        """Handle client ``event`` whose work is queued (sends): validate its payload and call
        ``submit`` in the socket's turn, which queues it in arrival order; the turn passes on
        at once, so a socket's pipelined events of this kind can share the queue's batches,
        and the ack follows when the queued work is done."""

        async def handler(sid: str, *args: Any) -> Ack:
            caller = self._callers.get(sid)
            if caller is None or caller.handshake.expired():
                return self._refuse(sid, caller)
            async with caller.lock:
                try:
                    answer = submit(caller, parse(model, args))
                except Exception as exc:
                    return failure_ack(event, exc)
            return await guarded(event, lambda: answer)

        self._sio.on(event, handler)

    async def connect(self, sid: str, environ: dict[str, Any], auth: Any = None) -> None:
        """Accept a handshake with a valid access token; join the user's room and the rooms of
        every conversation they belong to. Refusals: UNAUTHORIZED (no token), INVALID_TOKEN
        (bad, expired, or its user is gone), INTERNAL (the server could not set it up)."""
        handshake = authenticate(self._context.tokens, auth, environ)
        user_id = handshake.user_id
        try:
            # Registered before reading the memberships: a membership added meanwhile finds
            # this socket through the registry, one added earlier is in the read.
            await self._registry.add(user_id, sid)
            async with self._context.db.read() as session:
                user = await session.get(models.User, user_id)
                conversation_ids = await conversation_ids_of(session, user_id)
            if user is None:
                await self._registry.remove(user_id, sid)
                raise refusal(ErrorCode.INVALID_TOKEN, "the token's user no longer exists")
            await self._sio.enter_room(sid, user_room(user_id))
            for conversation_id in conversation_ids:
                await self._sio.enter_room(sid, conversation_room(conversation_id))
        except sio_errors.ConnectionRefusedError:
            raise
        except Exception as exc:
            log.exception("socket connect failed")
            await self._forget(user_id, sid)
            raise refusal(ErrorCode.INTERNAL, "the server could not accept the socket") from exc
        self._callers[sid] = Caller(sid, user_id, user.display_name, handshake)
        self._background(self._after_connect(sid, user_id, conversation_ids))

    def _refuse(self, sid: str, caller: Caller | None) -> Ack:
        """The ack for an event of a socket not signed in, or whose access token has expired
        (that socket is then closed: the client reconnects with a fresh token)."""
        if caller is None:
            return error_ack(ApiError(ErrorCode.UNAUTHORIZED, "the socket is not signed in"))
        self._background(self._sio.disconnect(sid))
        return error_ack(token_expired())

    async def disconnect(self, sid: str, reason: str | None = None) -> None:
        """Forget the socket: stop its typing indicators, update the user's presence."""
        del reason
        caller = self._callers.pop(sid, None)
        if caller is None:
            return
        await self._typing.socket_closed(sid)
        await self._forget(caller.user_id, sid)
        await self._presence.changed(caller.user_id)

    async def unknown_event(self, event: str, sid: str, *args: Any) -> Ack:
        """Any event this server does not know is answered VALIDATION_ERROR."""
        del sid, args
        return error_ack(ApiError(ErrorCode.VALIDATION_ERROR, f"unknown event {event[:64]!r}"))

    async def _forget(self, user_id: str, sid: str) -> None:
        try:
            await self._registry.remove(user_id, sid)
        except Exception as exc:
            log.warning("socket registry remove failed: %s", type(exc).__name__)

    async def _after_connect(self, sid: str, user_id: str, conversation_ids: list[str]) -> None:
        """Once the handshake is complete: announce the user, send the socket its contacts'
        presence. A socket that never completes it (gone during the handshake, so python-socketio
        calls no disconnect handler) is forgotten."""
        manager = self._sio.manager
        loop = asyncio.get_running_loop()
        deadline = loop.time() + CONNECTED_WAIT_SECONDS
        while not manager.is_connected(sid, NAMESPACE):
            if sid not in self._callers:
                return
            if loop.time() > deadline:
                await self.disconnect(sid)
                return
            await asyncio.sleep(0.01)
        await self._presence.changed(user_id)
        await self._presence.send_snapshot(sid, user_id, conversation_ids)

    def _background(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
