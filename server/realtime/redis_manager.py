"""python-socketio's Redis client manager, plus one Redis round trip for a run of emits.

``AsyncRedisManager.emit`` delivers to this node's sockets and then awaits one ``PUBLISH`` per
emit, so a send batch of fifty messages waited for fifty Redis round trips in a row before its
acks could go out. ``emit_many`` delivers the run locally in order and publishes it in one
pipeline (``transaction=False``: one write, one read; Redis keeps the commands' order, so the
other nodes receive the emits in the order given). The other nodes handle each published emit
exactly as if ``emit`` had published it: the message format is python-socketio's own
(``AsyncPubSubManager.emit``), which the multi-node tests exercise.

Every emit without a callback, this node's own and those other nodes publish, reaches this node's
sockets through ``local_delivery.deliver``: no task and no turn of the event loop per emit, so
the Redis listener keeps up with a busy peer.
"""

from collections.abc import Sequence
from typing import Any

import socketio

from server.realtime.local_delivery import deliver
from server.services.unit_of_work import Emit

NAMESPACE = "/"


class BatchingRedisManager(socketio.AsyncRedisManager):
    """``AsyncRedisManager`` with ``emit_many`` (see the module docstring)."""

    connected: bool
    """Set by the base class: whether ``redis`` is connected (else the next publish connects)."""

    async def emit_many(self, emits: Sequence[Emit]) -> None:
        """Deliver ``emits`` to this node's sockets in order, then publish them to the other
        nodes in one round trip. Only JSON payloads without acks (what the publisher sends)."""
        published: list[str] = []
        for emit in emits:
            message = self._emit_message(emit)
            await self._handle_emit(message)
            published.append(self.json.dumps(message))
        await self._publish_all(published)

    async def _handle_emit(self, message: dict[str, Any]) -> None:
        """Deliver a pub/sub emit message to this node's sockets (``deliver`` when it has no
        callback and no binary parts, python-socketio's own handling otherwise)."""
        if message.get("callback") is not None or message.get("binary"):
            await super()._handle_emit(message)
            return
        data = message["data"]
        if isinstance(data, list):
            data = data[0] if len(data) == 1 else tuple(data)
        await deliver(
            self,
            message["event"],
            data,
            message.get("namespace") or NAMESPACE,
            message.get("room"),
            message.get("skip_sid"),
        )

    def _emit_message(self, emit: Emit) -> dict[str, Any]:
        """The pub/sub message ``AsyncPubSubManager.emit`` builds for this emit."""
        return {
            "method": "emit",
            "event": emit.event,
            "data": [emit.data],
            "binary": False,
            "namespace": NAMESPACE,
            "room": list(emit.rooms),
            "skip_sid": None,
            "callback": None,
            "host_id": self.host_id,
        }

    async def _publish_all(self, messages: list[str]) -> None:
        """``PUBLISH`` each message in one pipeline; like ``_publish``, reconnect and retry once,
        then give up with a log line (clients recover what they missed through ``/sync``)."""
        if not messages:
            return
        for attempt in range(2):
            try:
                if not self.connected:
                    self._redis_connect()
                pipeline = self.redis.pipeline(transaction=False)
                for message in messages:
                    pipeline.publish(self.channel, message)
                await pipeline.execute()
                return
            except Exception as exc:
                self.connected = False
                self._get_logger().error(
                    "Cannot publish to redis (%s)... %s",
                    type(exc).__name__,
                    "retrying" if attempt == 0 else "giving up",
                )
