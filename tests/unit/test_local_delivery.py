"""Emits reach this node's sockets inline: the packets python-socketio would send, to the same
recipients, in call order, without a turn of the event loop per emit."""

import asyncio
import json
from typing import Any

import pytest
import socketio
from engineio import packet as eio_packet

from server.realtime.local_delivery import DirectManager
from server.realtime.redis_manager import BatchingRedisManager

ROOM = "conversation:c1"


class Wire:
    """Records the engine.io packets handed to each socket (``_send_eio_packet``)."""

    def __init__(self, sio: socketio.AsyncServer, closing: set[str] | None = None) -> None:
        self.sent: list[tuple[str, Any]] = []
        self.closing = closing or set()

        async def send(eio_sid: str, pkt: eio_packet.Packet) -> None:
            if eio_sid in self.closing:
                raise ConnectionError("the socket is closing")
            self.sent.append((eio_sid, json.loads(pkt.data[1:])))

        sio._send_eio_packet = send


async def _join(manager: socketio.AsyncManager, eio_sid: str, *rooms: str) -> str:
    sid: str = await manager.connect(eio_sid, "/")
    for room in rooms:
        await manager.enter_room(sid, "/", room)
    return sid


async def test_a_room_gets_each_emit_once_per_socket_in_call_order() -> None:
    sio = socketio.AsyncServer(async_mode="asgi", client_manager=DirectManager())
    wire = Wire(sio)
    await _join(sio.manager, "e1", ROOM)
    await _join(sio.manager, "e2", ROOM)
    await _join(sio.manager, "e3", "conversation:other")
    for seq in range(3):
        await sio.emit("message_new", {"seq": seq}, room=ROOM)
    assert wire.sent == [
        (eio_sid, ["message_new", {"seq": seq}]) for seq in range(3) for eio_sid in ("e1", "e2")
    ]


async def test_emits_take_no_turn_of_the_event_loop() -> None:
    sio = socketio.AsyncServer(async_mode="asgi", client_manager=DirectManager())
    wire = Wire(sio)
    await _join(sio.manager, "e1", ROOM)
    turned = asyncio.Event()
    asyncio.get_running_loop().call_soon(turned.set)
    for seq in range(20):
        await sio.emit("message_new", {"seq": seq}, room=ROOM)
    assert not turned.is_set()  # every packet was handed over before the loop turned once
    assert len(wire.sent) == 20


async def test_skip_sid_and_several_rooms() -> None:
    sio = socketio.AsyncServer(async_mode="asgi", client_manager=DirectManager())
    wire = Wire(sio)
    typist = await _join(sio.manager, "e1", ROOM)
    await _join(sio.manager, "e2", ROOM, "user:u2")
    await _join(sio.manager, "e3", "user:u3")
    await sio.emit("typing_indicator", {"on": True}, room=[ROOM, "user:u3"], skip_sid=typist)
    assert sorted(eio_sid for eio_sid, _ in wire.sent) == ["e2", "e3"]


async def test_a_closing_socket_does_not_stop_the_others() -> None:
    sio = socketio.AsyncServer(async_mode="asgi", client_manager=DirectManager())
    wire = Wire(sio, closing={"e1"})
    await _join(sio.manager, "e1", ROOM)
    await _join(sio.manager, "e2", ROOM)
    await sio.emit("message_new", {"seq": 1}, room=ROOM)
    assert wire.sent == [("e2", ["message_new", {"seq": 1}])]


@pytest.mark.parametrize("arguments", [None, ({"a": 1}, 2)])
async def test_no_data_or_several_arguments_as_python_socketio_sends_them(
    arguments: Any,
) -> None:
    sio = socketio.AsyncServer(async_mode="asgi", client_manager=DirectManager())
    wire = Wire(sio)
    await _join(sio.manager, "e1", ROOM)
    await sio.emit("ping_me", arguments, room=ROOM)
    expected = ["ping_me"] if arguments is None else ["ping_me", *arguments]
    assert wire.sent == [("e1", expected)]


async def test_an_emit_from_another_node_is_delivered_inline() -> None:
    manager = BatchingRedisManager("redis://127.0.0.1:1/0", channel="test:sio")
    sio = socketio.AsyncServer(async_mode="asgi", client_manager=manager)
    wire = Wire(sio)
    await _join(manager, "e1", ROOM)
    turned = asyncio.Event()
    asyncio.get_running_loop().call_soon(turned.set)
    for seq in range(5):  # as the pub/sub listener hands them over
        await manager._handle_emit(
            {
                "method": "emit",
                "event": "message_new",
                "data": [{"seq": seq}],
                "binary": False,
                "namespace": "/",
                "room": [ROOM],
                "skip_sid": None,
                "callback": None,
                "host_id": "another-node",
            }
        )
    assert not turned.is_set()
    assert wire.sent == [("e1", ["message_new", {"seq": seq}]) for seq in range(5)]
