"""How this server writes Socket.IO packets: JSON through orjson, and no search of every outgoing
payload for binary attachments.

python-socketio's default packet walks each payload it sends (every ack, every emit) looking for
``bytes`` to split off as binary attachments, and encodes with the standard ``json`` module; on
the send path the two took about a tenth of the event loop's time. Our protocol sends only JSON
over the socket (files go over REST), so ``WirePacket`` skips the walk, and ``FastJson`` encodes
with orjson: the same JSON (compact, UTF-8 rather than ``\\u`` escapes). Reading stays with the
standard module (orjson reads big integers as floats and refuses some input the standard module
takes), so what a client may send is read as before, binary events included.
"""

import json
from typing import Any

import orjson
from socketio import packet


class FastJson:
    """The ``dumps``/``loads`` pair python-socketio calls (``Packet.json``)."""

    @staticmethod
    def dumps(value: Any, **options: Any) -> str:
        """Compact JSON text of ``value`` (``options`` are the standard module's; orjson's output
        is already compact). Values orjson cannot encode go through the standard module."""
        try:
            return orjson.dumps(value).decode()
        except TypeError:
            return json.dumps(value, **options)

    loads = staticmethod(json.loads)


class WirePacket(packet.Packet):
    """A Socket.IO packet of JSON only (see the module docstring)."""

    uses_binary_events = False
    json = FastJson
