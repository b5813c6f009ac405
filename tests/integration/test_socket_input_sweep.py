"""Every client socket event, with each field of a valid payload replaced in turn by a value of
the wrong type, an unknown id, an oversized or odd string: the ack is a result or a clear error
(``{"error": {code, message}}``, never INTERNAL), and the connection survives — on SQLite and on
PostgreSQL."""

import uuid
from typing import Any

from pydantic import BaseModel

from protocol.events import ClientEvent
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
from tests.support.api import register
from tests.support.live_server import LiveServer
from tests.support.sockets import connected

ODD_VALUES: tuple[Any, ...] = (
    None,
    12345,
    True,
    1.5,
    [],
    ["x"] * 1000,
    {"nested": {"deep": True}},
    "",
    "00000000-0000-4000-8000-000000000000",
    "x" * 100_000,
    "😀" * 50,
    "\x00\x1b[31m",
)


def _valid(
    conversation_id: str, message_id: str
) -> dict[ClientEvent, tuple[type[BaseModel], dict[str, Any]]]:
    """A valid payload of every event, with its model."""
    return {
        ClientEvent.SEND_MESSAGE: (
            SendMessagePayload,
            {"conversationId": conversation_id, "text": "hi", "clientId": uuid.uuid4().hex},
        ),
        ClientEvent.EDIT_MESSAGE: (EditMessagePayload, {"messageId": message_id, "text": "edit"}),
        ClientEvent.DELETE_MESSAGE: (
            DeleteMessagePayload,
            {"messageId": message_id, "conversationId": conversation_id},
        ),
        ClientEvent.ADD_REACTION: (ReactionPayload, {"messageId": message_id, "emoji": "👍"}),
        ClientEvent.REMOVE_REACTION: (ReactionPayload, {"messageId": message_id, "emoji": "👍"}),
        ClientEvent.TYPING_START: (TypingPayload, {"conversationId": conversation_id}),
        ClientEvent.TYPING_STOP: (TypingPayload, {"conversationId": conversation_id}),
        ClientEvent.MARK_READ: (
            MarkReadPayload,
            {"conversationId": conversation_id, "messageId": message_id},
        ),
        ClientEvent.MESSAGE_DELIVERED: (
            MessageDeliveredPayload,
            {"conversationId": conversation_id, "messageId": message_id},
        ),
        ClientEvent.FORWARD_MESSAGE: (
            ForwardMessagePayload,
            {"messageIds": [message_id], "targetConversationIds": [conversation_id]},
        ),
        ClientEvent.SET_PRESENCE: (SetPresencePayload, {"status": "away"}),
    }


def _clear(ack: Any, what: str) -> None:
    assert isinstance(ack, dict), f"{what}: {ack!r}"
    if "error" in ack:
        error = ack["error"]
        assert error.get("code") and error.get("message"), f"{what}: {ack}"
        assert error["code"] != "INTERNAL", f"{what}: {ack}"


async def test_every_field_of_every_event_refuses_odd_values_clearly(
    live_server: LiveServer,
) -> None:
    caller, other = register(live_server.url), register(live_server.url)
    conversation_id = caller.direct_with(other)
    sent = caller.send(conversation_id, "sweep target")
    assert sent.status_code == 201, sent.text
    message_id = sent.json()["id"]
    # The field values go through validation before any rate limit or storage, except the
    # odd-but-valid ones (an unknown id, an emoji text): few enough to stay under the limits.
    async with connected(live_server, caller) as sock:
        for event, (model, valid) in _valid(conversation_id, message_id).items():
            fields = model.model_json_schema(by_alias=True)["properties"]
            for field in fields:
                for value in ODD_VALUES:
                    payload = {**valid, field: value}
                    if event is ClientEvent.SEND_MESSAGE:
                        payload.setdefault("clientId", uuid.uuid4().hex)
                    ack = await sock.call(event.value, payload)
                    _clear(ack, f"{event.value} {field}={str(value)[:20]!r}")
        ack = await sock.call(ClientEvent.TYPING_STOP.value, {"conversationId": conversation_id})
        assert "error" not in ack, ack  # the connection survived all of it
        assert sock.sio.connected
