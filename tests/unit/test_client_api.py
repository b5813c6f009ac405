"""ApiClient against httpx.MockTransport: auth header, single-flight refresh, error mapping."""

import asyncio
import json
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from client.errors import (
    AuthError,
    ForbiddenError,
    NetworkError,
    NotFoundError,
    RateLimitedError,
    ServerUnavailableError,
    SyncExpiredError,
    TransientError,
    ValidationFailedError,
)
from client.services.api import ApiClient
from protocol.rest import AuthResponse

NOW = datetime(2026, 1, 1, tzinfo=UTC).isoformat()
USER = {"id": "u1", "username": "alice", "display_name": "Alice"}


def auth_body(n: int) -> dict[str, Any]:
    return {"user": USER, "access_token": f"access-{n}", "refresh_token": f"refresh-{n}"}


def message(seq: int) -> dict[str, Any]:
    return {
        "id": f"m{seq}",
        "conversation_id": "c1",
        "sender_id": "u1",
        "seq": seq,
        "text": "hi",
        "created_at": NOW,
    }


class FakeServer:
    """Accepts ``access-N`` for the current N only; refresh rotates N."""

    def __init__(self) -> None:
        self.generation = 1
        self.refreshes = 0
        self.requests: list[httpx.Request] = []
        self.expire_on_arrival = 0
        """How many more authenticated requests arrive after their token expired."""

    async def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        path = request.url.path
        if path == "/api/v1/auth/refresh":
            self.refreshes += 1
            await asyncio.sleep(0.01)
            body = json.loads(request.content)
            if body["refresh_token"] != f"refresh-{self.generation}":
                return httpx.Response(401, json={"code": "INVALID_TOKEN", "message": "revoked"})
            self.generation += 1
            return httpx.Response(200, json=auth_body(self.generation))
        if path == "/api/v1/auth/login":
            return httpx.Response(200, json=auth_body(self.generation))
        if request.headers.get("Authorization") != f"Bearer access-{self.generation}":
            return httpx.Response(401, json={"code": "INVALID_TOKEN", "message": "expired"})
        if self.expire_on_arrival:  # refresh-N stays valid
            self.expire_on_arrival -= 1
            return httpx.Response(401, json={"code": "INVALID_TOKEN", "message": "expired"})
        if path == "/api/v1/users/me":
            return httpx.Response(200, json=USER)
        if path == "/api/v1/conversations/c1/messages":
            return httpx.Response(
                200, json={"items": [message(2), message(1)], "next_cursor": None}
            )
        if request.url.raw_path == b"/api/v1/messages/m1/reactions/%F0%9F%91%8D":
            return httpx.Response(204)
        raise AssertionError(f"unexpected {request.method} {path}")


async def test_login_sets_bearer_and_notifies() -> None:
    server = FakeServer()
    seen: list[AuthResponse] = []

    async def on_tokens(auth: AuthResponse) -> None:
        seen.append(auth)

    api = ApiClient("http://x", transport=httpx.MockTransport(server.handle), on_tokens=on_tokens)
    await api.login("Alice", "secret-pass")
    me = await api.me()
    assert me.username == "alice"
    assert server.requests[-1].headers["Authorization"] == "Bearer access-1"
    assert [a.refresh_token for a in seen] == ["refresh-1"]
    page = await api.messages("c1")
    assert [m.seq for m in page.items] == [2, 1]
    await api.remove_reaction("m1", "👍")
    await api.aclose()


async def test_expired_token_refreshes_once_for_concurrent_requests() -> None:
    server = FakeServer()
    api = ApiClient("http://x", transport=httpx.MockTransport(server.handle))
    await api.login("alice", "secret-pass")
    server.generation = 2  # the server rotated: access-1 now expired, refresh-1 still valid
    api.set_tokens("access-1", "refresh-2")
    results = await asyncio.gather(*(api.me() for _ in range(5)))
    assert all(r.id == "u1" for r in results)
    assert server.refreshes == 1
    assert api.access_token == "access-3"
    await api.aclose()


def _api_recording_sign_outs(server: FakeServer) -> tuple[ApiClient, list[bool]]:
    """A client of ``server`` and the list its sign-out hook appends to."""
    signed_out: list[bool] = []

    async def on_signed_out() -> None:
        signed_out.append(True)

    api = ApiClient(
        "http://x", transport=httpx.MockTransport(server.handle), on_signed_out=on_signed_out
    )
    return api, signed_out


async def test_a_token_that_expires_on_the_way_to_a_slow_server_is_no_sign_out() -> None:
    """Short-lived tokens and a slow server: the refreshed token expired before the server
    read it. The session is not over (the refresh worked): the request goes again with a
    newer token; refused every time, it is left for later, still signed in."""
    server = FakeServer()
    api, signed_out = _api_recording_sign_outs(server)
    await api.login("alice", "secret-pass")
    server.expire_on_arrival = 2
    assert (await api.me()).id == "u1"
    assert server.refreshes == 2

    server.expire_on_arrival = 100
    with pytest.raises(TransientError):
        await api.me()
    assert signed_out == [] and api.refresh_token is not None
    server.expire_on_arrival = 0
    assert (await api.me()).id == "u1"
    await api.aclose()


async def test_revoked_refresh_token_raises_auth_error_and_signs_out() -> None:
    server = FakeServer()
    api, signed_out = _api_recording_sign_outs(server)
    api.set_tokens("stale", "refresh-0")
    with pytest.raises(AuthError):
        await api.me()
    assert signed_out == [True]
    assert api.refresh_token is None
    await api.aclose()


@pytest.mark.parametrize(
    ("status", "body", "headers", "expected", "code"),
    [
        (403, {"code": "BLOCKED", "message": "no"}, {}, ForbiddenError, "BLOCKED"),
        (404, {"code": "NOT_FOUND", "message": "gone"}, {}, NotFoundError, "NOT_FOUND"),
        (422, {"detail": [{"msg": "bad"}]}, {}, ValidationFailedError, "VALIDATION_ERROR"),
        (410, {"code": "SYNC_EXPIRED", "message": "old"}, {}, SyncExpiredError, "SYNC_EXPIRED"),
        (503, {"code": "INTERNAL", "message": "down"}, {}, ServerUnavailableError, "INTERNAL"),
        (429, {"code": "RATE_LIMITED", "message": "slow", "retryAfter": 7}, {}, None, ""),
        (429, {"code": "RATE_LIMITED", "message": "slow"}, {"Retry-After": "3"}, None, ""),
    ],
)
async def test_error_mapping(
    status: int,
    body: dict[str, Any],
    headers: dict[str, str],
    expected: type[Exception] | None,
    code: str,
) -> None:
    def handle(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, json=body, headers=headers)

    api = ApiClient("http://x", transport=httpx.MockTransport(handle))
    api.set_tokens("a", "r")
    with pytest.raises(Exception) as caught:
        await api.sync(0)
    if expected is None:
        assert isinstance(caught.value, RateLimitedError)
        assert caught.value.retry_after == float(body.get("retryAfter", 3))
    else:
        assert isinstance(caught.value, expected)
        assert getattr(caught.value, "code", None) == code
    await api.aclose()


async def test_network_error() -> None:
    def handle(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    api = ApiClient("http://x", transport=httpx.MockTransport(handle))
    api.set_tokens("a", "r")
    with pytest.raises(NetworkError):
        await api.send_message("c1", "hello", "client-1")
    await api.aclose()


async def test_request_bodies_and_query() -> None:
    captured: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        captured.append(request)
        if request.url.path == "/api/v1/messages":
            return httpx.Response(201, json=message(1) | {"client_id": "k1"})
        if request.url.path == "/api/v1/sync":
            return httpx.Response(200, json={"events": [], "next": 5, "has_more": False})
        return httpx.Response(200, json={"items": [], "next_cursor": None})

    api = ApiClient("http://x/", transport=httpx.MockTransport(handle))
    api.set_tokens("a", "r")
    sent = await api.send_message("c1", "<b>hi</b>", "k1")
    assert sent.client_id == "k1"
    assert json.loads(captured[0].content) == {
        "conversation_id": "c1",
        "text": "hi",
        "client_id": "k1",
    }
    page = await api.sync(4, limit=10)
    assert page.next == 5
    assert captured[1].url.params["since"] == "4"
    assert captured[1].url.params["limit"] == "10"
    await api.conversations(archived=True)
    assert captured[2].url.params["archived"] == "true"
    await api.aclose()


async def test_health_is_outside_the_api_prefix() -> None:
    def handle(request: httpx.Request) -> httpx.Response:
        assert str(request.url) == "http://x:1/healthz"
        return httpx.Response(200, json={"status": "ok", "database": "sqlite", "redis": False})

    api = ApiClient("http://x:1/", transport=httpx.MockTransport(handle))
    assert (await api.health()).database == "sqlite"
    await api.aclose()


async def test_members_are_read_page_by_page() -> None:
    """A group larger than one page: every member comes back, the cursor followed to the end."""
    everyone = [f"u{number}" for number in range(130)]
    seen: list[httpx.QueryParams] = []

    def handle(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/api/v1/conversations/g1/members"
        seen.append(request.url.params)
        start = int(request.url.params.get("cursor") or 0)
        end = min(start + int(request.url.params["limit"]), len(everyone))
        items = [
            {
                "user": {"id": uid, "username": uid, "display_name": uid.upper()},
                "role": "member",
                "joined_at": "2026-11-23T12:00:00Z",
            }
            for uid in everyone[start:end]
        ]
        more = end < len(everyone)
        return httpx.Response(
            200, json={"items": items, "next_cursor": str(end) if more else None, "has_more": more}
        )

    api = ApiClient("http://x", transport=httpx.MockTransport(handle))
    api.set_tokens("a", "r")
    members = await api.members("g1")
    assert [m.user.id for m in members] == everyone
    assert [params.get("cursor") for params in seen] == [None, "100"]
    await api.aclose()
