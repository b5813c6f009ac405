"""ServerTransport's REST fallback (no socket) and sync fetchers, over httpx.MockTransport."""

import json
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from client.errors import NetworkError
from client.offline.outbox_items import ActionKind, OutboxItem, OutboxState
from client.offline.transport import Route
from client.services.api import ApiClient
from client.services.transport import ServerTransport

NOW = datetime(2026, 1, 1, tzinfo=UTC).isoformat()


def item(kind: ActionKind, payload: dict[str, Any], conversation_id: str = "c1") -> OutboxItem:
    return OutboxItem(
        id=1,
        client_id="k1",
        kind=kind,
        conversation_id=conversation_id,
        target_client_id=None,
        payload=payload,
        state=OutboxState.QUEUED,
        revision=0,
        attempts=0,
        next_attempt_at=0.0,
        error_code=None,
        error_message=None,
        created_at=0.0,
    )


def make_transport(seen: list[httpx.Request]) -> ServerTransport:
    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        path = request.url.path
        if path == "/api/v1/messages":
            body = json.loads(request.content)
            message = {
                "id": "m1",
                "conversation_id": body["conversation_id"],
                "sender_id": "u1",
                "seq": 1,
                "text": body["text"],
                "client_id": body["client_id"],
                "created_at": NOW,
            }
            return httpx.Response(201, json=message)
        if path == "/api/v1/sync":
            return httpx.Response(200, json={"events": [], "next": 9, "has_more": False})
        if path.endswith("/settings"):
            return httpx.Response(200, json={"conversation_id": "c1", "is_archived": True})
        return httpx.Response(204)

    api = ApiClient("http://x", transport=httpx.MockTransport(handle))
    api.set_tokens("a", "r")
    return ServerTransport(api)


async def test_rest_fallback_for_each_kind() -> None:
    seen: list[httpx.Request] = []
    transport = make_transport(seen)
    sent = await transport.perform(
        item(ActionKind.SEND, {"conversation_id": "c1", "text": "hi", "client_id": "k1"})
    )
    assert [m.client_id for m in sent] == ["k1"]
    await transport.perform(item(ActionKind.DELETE, {"message_id": "m1"}))
    await transport.perform(item(ActionKind.UNREACT, {"message_id": "m1", "emoji": "👍"}))
    await transport.perform(item(ActionKind.PIN, {"conversation_id": "c1", "message_id": "m1"}))
    await transport.perform(
        item(ActionKind.SETTINGS, {"conversation_id": "c1", "patch": {"is_archived": True}})
    )
    assert [(r.method, r.url.path) for r in seen[1:]] == [
        ("DELETE", "/api/v1/conversations/c1/messages/m1"),
        ("DELETE", "/api/v1/messages/m1/reactions/👍"),
        ("POST", "/api/v1/conversations/c1/messages/m1/pin"),
        ("PATCH", "/api/v1/conversations/c1/settings"),
    ]
    assert json.loads(seen[-1].content) == {"is_archived": True}
    with pytest.raises(NetworkError):
        await transport.perform(
            item(ActionKind.MARK_DELIVERED, {"conversation_id": "c1", "message_id": "m1"})
        )


async def test_sync_head_is_next_of_a_page_without_since() -> None:
    seen: list[httpx.Request] = []
    transport = make_transport(seen)
    assert await transport.sync_head() == 9
    assert "since" not in seen[0].url.params


class _Socket:
    """Stands for a RealtimeClient: only whether it is connected matters to ``route``."""

    def __init__(self, connected: bool) -> None:
        self.connected = connected


@pytest.mark.parametrize("connected", [True, False])
def test_route_pipelines_over_the_socket_only(connected: bool) -> None:
    transport = make_transport([])
    transport.realtime = _Socket(connected)  # type: ignore[assignment]
    send = item(ActionKind.SEND, {"conversation_id": "c1", "text": "hi", "client_id": "k1"})
    pin = item(ActionKind.PIN, {"conversation_id": "c1", "message_id": "m1"})
    delivered = item(ActionKind.MARK_DELIVERED, {"conversation_id": "c1", "message_id": "m1"})
    socket_route = Route.PIPELINED if connected else Route.ALONE
    assert transport.route(send) is socket_route
    assert transport.route(pin) is Route.ALONE  # no socket event: always one REST call
    assert transport.route(delivered) is (Route.PIPELINED if connected else Route.LATER)
