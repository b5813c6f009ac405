"""Emits that cannot fail their caller: a slow or broken delivery (Redis away, a socket gone) is
logged and dropped, so the change that caused it and its ack are never held up for long or
turned into an error. Clients recover anything missed through ``GET /sync``."""

import asyncio
import logging
from collections.abc import Sequence

import socketio

log = logging.getLogger("openchat.realtime")

EMIT_TIMEOUT_SECONDS = 5.0
"""Longest one emit may take (local sockets are queued at once; this bounds a Redis publish)."""


async def safe_emit(
    sio: socketio.AsyncServer,
    event: str,
    data: dict[str, object],
    rooms: Sequence[str] | str,
    skip_sids: Sequence[str] = (),
) -> bool:
    """Emit ``event`` to ``rooms`` (every node) except ``skip_sids``; False when it failed."""
    target = rooms if isinstance(rooms, str) else list(rooms)
    if not target:
        return True
    try:
        # A timeout scope, not wait_for: no extra task per emit (measurable on the send path).
        async with asyncio.timeout(EMIT_TIMEOUT_SECONDS):
            await sio.emit(event, data, room=target, skip_sid=list(skip_sids) or None)
    except Exception as exc:
        log.warning("emit of %s failed: %s", event, type(exc).__name__)
        return False
    return True
