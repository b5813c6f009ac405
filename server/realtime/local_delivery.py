"""Delivery of an emit to this node's sockets without a task per recipient.

python-socketio's ``AsyncManager.emit`` encodes the packet once, then starts one task per
recipient and waits for them all: every emit costs at least one turn of the event loop. Our
send path publishes a batch's ``message_new`` emits one after another, and python-socketio's
Redis listener hands each emit from another node to ``emit`` one at a time, so under load, when
one turn of the loop serves hundreds of sockets, those turns added up to most of a message's
latency (and capped how many emits per second a node could take in from Redis).

Handing an engine.io packet to a WebSocket is only a put on that socket's unbounded queue (its
writer task does the I/O), so ``deliver`` does it inline: the same packet, the same
recipients, in the order of the calls, with no task and no turn of the loop. A recipient whose
socket is closing is logged and skipped, as the tasks' failures were before.
"""

import logging
from typing import Any

import socketio
from engineio import packet as eio_packet
from socketio import packet

log = logging.getLogger("openchat.realtime")


async def deliver(
    manager: socketio.AsyncManager,
    event: str,
    data: Any,
    namespace: str,
    room: str | list[str] | None,
    skip_sid: str | list[str] | None,
) -> None:
    """Send ``event`` with ``data`` (a tuple: several arguments) to the sockets of ``room`` on
    this node, except ``skip_sid``: what ``AsyncManager.emit`` does without a callback."""
    if namespace not in manager.rooms:
        return
    arguments = list(data) if isinstance(data, tuple) else ([] if data is None else [data])
    skipped = skip_sid if isinstance(skip_sid, list) else [skip_sid]
    # Collected before the first await: the rooms may change while packets are handed over.
    recipients = [
        eio_sid for sid, eio_sid in manager.get_participants(namespace, room) if sid not in skipped
    ]
    if not recipients:
        return
    server = manager.server
    encoded = server.packet_class(packet.EVENT, namespace=namespace, data=[event, *arguments])
    parts = encoded.encode()
    frames = [
        eio_packet.Packet(eio_packet.MESSAGE, part)
        for part in (parts if isinstance(parts, list) else [parts])
    ]
    for eio_sid in recipients:
        for frame in frames:
            try:
                await server._send_eio_packet(eio_sid, frame)
            except Exception as exc:  # a socket closing under us: the others still get it
                log.info("emit of %s to a closing socket dropped: %s", event, type(exc).__name__)


class DirectManager(socketio.AsyncManager):
    """The single-node client manager: emits without a callback go through ``deliver``."""

    async def emit(
        self,
        event: str,
        data: Any,
        namespace: str,
        room: str | list[str] | None = None,
        skip_sid: str | list[str] | None = None,
        callback: Any = None,
        to: str | list[str] | None = None,
        **kwargs: Any,
    ) -> None:
        """See ``AsyncManager.emit``."""
        if callback is not None:
            await super().emit(
                event, data, namespace, room=room, skip_sid=skip_sid, callback=callback, to=to
            )
            return
        await deliver(self, event, data, namespace, to or room, skip_sid)
