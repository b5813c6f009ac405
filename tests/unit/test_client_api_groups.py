"""ApiClient's group administration calls: method, path and body of each request, and the
typed answers."""

import json
from datetime import UTC, datetime

import httpx

from client.services.api import ApiClient

NOW = datetime(2026, 1, 1, tzinfo=UTC).isoformat()
USER = {"id": "u2", "username": "bob", "display_name": "Bob"}
MEMBER = {"user": USER, "role": "admin", "joined_at": NOW}
GROUP = {
    "id": "g1",
    "type": "private_group",
    "title": "Reading circle",
    "created_at": NOW,
    "updated_at": NOW,
}


async def test_group_administration_requests() -> None:
    seen: list[tuple[str, str, object]] = []

    def handle(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content) if request.content else None
        seen.append((request.method, request.url.path.removeprefix("/api/v1"), body))
        if request.method == "PATCH" and request.url.path.endswith("/g1"):
            return httpx.Response(200, json=GROUP)
        if request.method == "POST" and request.url.path.endswith("/members"):
            return httpx.Response(200, json=[MEMBER])
        if request.url.path.endswith(("/role", "/mute")):
            return httpx.Response(200, json=MEMBER)
        if request.url.path.endswith("/lock"):
            return httpx.Response(200, json={**GROUP, "locked": True})
        if request.url.path.endswith("/bans"):
            ban = {"user": USER, "banned_until": None, "banned_at": NOW}
            return httpx.Response(200, json={"items": [ban], "has_more": False})
        return httpx.Response(204)

    api = ApiClient("http://x/", transport=httpx.MockTransport(handle))
    api.set_tokens("a", "r")
    assert (await api.rename_group("g1", "Reading circle")).title == "Reading circle"
    assert [m.user.id for m in await api.add_members("g1", ["u2"])] == ["u2"]
    assert (await api.set_role("g1", "u2", "admin")).role == "admin"
    await api.remove_member("g1", "u2")
    await api.leave_group("g1")
    until = datetime(2026, 1, 2, tzinfo=UTC)
    assert (await api.mute_member("g1", "u2", until)).user.id == "u2"
    await api.mute_member("g1", "u2", None)
    await api.ban_member("g1", "u2", None)
    assert [(b.user.id, b.banned_until) for b in await api.bans("g1")] == [("u2", None)]
    await api.unban_member("g1", "u2")
    assert (await api.set_locked("g1", True)).locked
    await api.aclose()
    assert seen == [
        ("PATCH", "/conversations/g1", {"title": "Reading circle"}),
        ("POST", "/conversations/g1/members", {"user_ids": ["u2"]}),
        ("PATCH", "/conversations/g1/members/u2/role", {"role": "admin"}),
        ("DELETE", "/conversations/g1/members/u2", None),
        ("POST", "/conversations/g1/leave", None),
        ("POST", "/conversations/g1/members/u2/mute", {"until": "2026-01-02T00:00:00Z"}),
        ("DELETE", "/conversations/g1/members/u2/mute", None),
        ("POST", "/conversations/g1/members/u2/ban", {"until": None}),
        ("GET", "/conversations/g1/bans", None),
        ("DELETE", "/conversations/g1/members/u2/ban", None),
        ("PATCH", "/conversations/g1/lock", {"locked": True}),
    ]
