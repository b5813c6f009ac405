"""Typing indicators (ephemeral, never logged).

Rules: only members may type (the handler checks); ``typing_start`` sends
``typing_indicator {conversationId, userId, displayName, isTyping: true, ttl: 3}`` to the
conversation's room except the typist's own sockets (every device of theirs, on every node).
The indicator lives ``ttl`` seconds unless renewed by another ``typing_start``; when it lapses —
or on ``typing_stop``, or when the typing socket disconnects — the room gets the same event with
``isTyping: false``. Clients should also clear an indicator ``ttl`` seconds after its last
renewal on their own (a node may die before it can send the stop).
"""

import asyncio
import logging
from dataclasses import dataclass

import socketio

from protocol import limits
from protocol.events import ServerEvent
from protocol.socket import TypingEvent
from server.realtime.emitter import safe_emit
from server.realtime.registry import SocketRegistry
from server.services.unit_of_work import conversation_room

log = logging.getLogger("openchat.realtime")


@dataclass
class _Typing:
    sid: str
    display_name: str
    expiry: asyncio.Task[None]


class TypingTracker:
    """The typing indicators started on this node, each with its expiry timer."""

    def __init__(
        self,
        sio: socketio.AsyncServer,
        registry: SocketRegistry,
        ttl: float = limits.TYPING_TTL_SECONDS,
    ) -> None:
        self._sio = sio
        self._registry = registry
        self._ttl = ttl
        self._active: dict[tuple[str, str], _Typing] = {}

    async def start(self, sid: str, user_id: str, display_name: str, conversation_id: str) -> None:
        """``user_id`` is typing in ``conversation_id`` (from socket ``sid``): tell the room and
        (re)arm the expiry."""
        key = (conversation_id, user_id)
        previous = self._active.pop(key, None)
        if previous is not None:
            previous.expiry.cancel()
        expiry = asyncio.create_task(self._expire(key), name="typing-expiry")
        self._active[key] = _Typing(sid, display_name, expiry)
        await self._send(user_id, display_name, conversation_id, is_typing=True)

    async def stop(self, user_id: str, display_name: str, conversation_id: str) -> None:
        """``user_id`` stopped typing in ``conversation_id``: tell the room."""
        current = self._active.pop((conversation_id, user_id), None)
        if current is not None:
            current.expiry.cancel()
        await self._send(user_id, display_name, conversation_id, is_typing=False)

    async def socket_closed(self, sid: str) -> None:
        """Stop every indicator the closed socket ``sid`` started."""
        for (conversation_id, user_id), typing in list(self._active.items()):
            if typing.sid == sid:
                await self.stop(user_id, typing.display_name, conversation_id)

    async def _expire(self, key: tuple[str, str]) -> None:
        await asyncio.sleep(self._ttl)
        typing = self._active.pop(key, None)
        if typing is not None:
            conversation_id, user_id = key
            await self._send(user_id, typing.display_name, conversation_id, is_typing=False)

    async def _send(
        self, user_id: str, display_name: str, conversation_id: str, *, is_typing: bool
    ) -> None:
        event = TypingEvent(
            conversation_id=conversation_id,
            user_id=user_id,
            display_name=display_name,
            is_typing=is_typing,
            ttl=self._ttl,
        )
        try:
            own_sids = await self._registry.sids_of(user_id)
        except Exception as exc:
            log.warning("typing: socket registry failed: %s", type(exc).__name__)
            return
        await safe_emit(
            self._sio,
            ServerEvent.TYPING_INDICATOR.value,
            event.model_dump(mode="json"),
            conversation_room(conversation_id),
            skip_sids=own_sids,
        )
