"""The server's Socket.IO packets carry the same JSON as python-socketio's default ones, read
what the standard module reads, and still decode a client's binary events."""

import json

import pytest
from socketio import packet

from server.realtime.wire import FastJson, WirePacket

PAYLOAD = {
    "id": "m1",
    "text": "héllo 😀 <b>",
    "mentions": ["u2"],
    "reactions": [{"emoji": "👍", "count": 2, "reactedByMe": True}],
    "replyToId": None,
    "seq": 41,
}


@pytest.mark.parametrize("kind", [packet.EVENT, packet.ACK])
def test_the_same_json_as_the_default_packet(kind: int) -> None:
    data = ["message_new", PAYLOAD] if kind == packet.EVENT else [PAYLOAD]
    ours = WirePacket(kind, data=data, namespace="/", id=7 if kind == packet.ACK else None)
    default = packet.Packet(kind, data=data, namespace="/", id=7 if kind == packet.ACK else None)
    mine, theirs = ours.encode(), default.encode()
    assert isinstance(mine, str) and isinstance(theirs, str)
    assert mine[:2] == theirs[:2]  # packet type (and ack id)
    prefix = len(str(kind)) + (1 if kind == packet.ACK else 0)
    assert json.loads(mine[prefix:]) == json.loads(theirs[prefix:]) == data
    assert ", " not in mine and '": ' not in mine  # compact


def test_decodes_what_it_encodes() -> None:
    encoded = WirePacket(packet.EVENT, data=["send_message", PAYLOAD]).encode()
    assert isinstance(encoded, str)
    assert WirePacket(encoded_packet=encoded).data == ["send_message", PAYLOAD]


@pytest.mark.parametrize(
    "text", ['{"a": NaN}', '"\\ud800"', "[1e999]", '{"n": 12345678901234567890123}']
)
def test_reads_what_the_standard_module_reads(text: str) -> None:
    ours, standard = FastJson.loads(text), json.loads(text)
    assert repr(ours) == repr(standard)  # NaN is not equal to itself


def test_bad_json_is_still_refused() -> None:
    with pytest.raises(ValueError):
        FastJson.loads("{not json")


def test_what_orjson_cannot_encode_goes_through_the_standard_module() -> None:
    assert FastJson.dumps({1: "a"}, separators=(",", ":")) == '{"1":"a"}'


def test_a_clients_binary_event_is_still_decoded() -> None:
    incoming = WirePacket(encoded_packet='51-["upload",{"_placeholder":true,"num":0}]')
    assert incoming.packet_type == packet.BINARY_EVENT
    assert incoming.attachment_count == 1
    assert incoming.add_attachment(b"\x00\x01")
    assert incoming.data == ["upload", b"\x00\x01"]
