"""Forwarding against the real server (SQLite, then PostgreSQL + Redis): each copy counts
against the message rate limit, a client id makes a retry safe, and a forward into a group the
caller may not post in, or of a message by someone blocked, is refused."""

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.support.api import Account, register
from tests.support.live_server import LiveServer
from tests.support.sockets import connected


def _group(owner: Account, *members: Account) -> str:
    response = owner.post(
        "/conversations",
        json={"type": "private_group", "title": "G", "member_ids": [m.user_id for m in members]},
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def _forward(account: Account, message_ids: list[str], targets: list[str], **extra: Any) -> Any:
    body = {"message_ids": message_ids, "target_conversation_ids": targets, **extra}
    return account.post("/messages/forward", json=body)


def test_each_copy_counts_against_the_message_rate_limit(live_server: LiveServer) -> None:
    alice, bob = register(live_server.url), register(live_server.url)
    chat, first, second = alice.direct_with(bob), _group(alice, bob), _group(alice, bob)
    ids = [alice.send(chat, f"message {n}").json()["id"] for n in range(10)]
    forwarded = _forward(alice, ids, [first, second])
    assert forwarded.status_code == 201 and len(forwarded.json()["messages"]) == 20
    limited = alice.send(chat, "the 31st message this minute")
    assert limited.status_code == 429 and limited.json()["code"] == "RATE_LIMITED"
    refused = _forward(alice, ids[:1], [first])
    assert refused.status_code == 429


def test_a_retried_forward_never_duplicates(live_server: LiveServer) -> None:
    alice, bob = register(live_server.url), register(live_server.url)
    chat, group = alice.direct_with(bob), _group(alice, bob)
    original = alice.send(chat, "forward me once").json()["id"]
    request_id = uuid.uuid4().hex
    first = _forward(alice, [original], [group], client_id=request_id)
    again = _forward(alice, [original], [group], client_id=request_id)
    assert first.status_code == 201 and again.status_code == 201
    assert [m["id"] for m in again.json()["messages"]] == [
        m["id"] for m in first.json()["messages"]
    ]
    history = alice.get(f"/conversations/{group}/messages").json()["items"]
    assert [m["text"] for m in history] == ["forward me once"]
    other = _forward(alice, [original], [group], client_id=uuid.uuid4().hex)
    assert other.json()["messages"][0]["id"] != first.json()["messages"][0]["id"]
    bad = _forward(alice, [original], [group], client_id="no spaces allowed")
    assert bad.status_code == 400 and bad.json()["code"] == "VALIDATION_ERROR"


async def test_a_retried_socket_forward_never_duplicates(live_server: LiveServer) -> None:
    alice, bob = register(live_server.url), register(live_server.url)
    chat, group = alice.direct_with(bob), _group(alice, bob)
    original = alice.send(chat, "over the socket").json()["id"]
    payload = {"messageIds": [original], "targetConversationIds": [group], "clientId": "f-1"}
    async with connected(live_server, alice) as sock:
        first = await sock.call("forward_message", payload)
        again = await sock.call("forward_message", payload)
    assert [m["id"] for m in again["messages"]] == [m["id"] for m in first["messages"]]


def test_muted_and_locked_groups_refuse_forwards_into_them(live_server: LiveServer) -> None:
    owner, member = register(live_server.url), register(live_server.url)
    chat = member.direct_with(owner)
    original = member.send(chat, "pass it on").json()["id"]
    locked, muting = _group(owner, member), _group(owner, member)
    assert owner.patch(f"/conversations/{locked}/lock", json={"locked": True}).status_code == 200
    until = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    muted = owner.post(
        f"/conversations/{muting}/members/{member.user_id}/mute", json={"until": until}
    )
    assert muted.status_code == 200
    refused = _forward(member, [original], [locked])
    assert refused.status_code == 403 and refused.json()["code"] == "LOCKED"
    refused = _forward(member, [original], [muting])
    assert refused.status_code == 403 and refused.json()["code"] == "MUTED"
    assert datetime.fromisoformat(refused.json()["until"]) == datetime.fromisoformat(until)
    assert _forward(owner, [original], [locked, muting]).status_code == 201


def test_a_message_by_someone_blocked_cannot_be_forwarded(live_server: LiveServer) -> None:
    alice, bob, carol = (register(live_server.url) for _ in range(3))
    group, elsewhere = _group(carol, alice, bob), alice.direct_with(carol)
    by_bob = bob.send(group, "from bob").json()["id"]
    assert bob.post(f"/users/{alice.user_id}/block").status_code == 200
    refused = _forward(alice, [by_bob], [elsewhere])
    assert refused.status_code == 403 and refused.json()["code"] == "BLOCKED"
    assert _forward(carol, [by_bob], [elsewhere]).status_code == 201


def test_the_owner_alone_turns_forwarding_out_of_a_group_off(live_server: LiveServer) -> None:
    owner, admin, member = (register(live_server.url) for _ in range(3))
    group = _group(owner, admin, member)
    assert owner.patch(
        f"/conversations/{group}/members/{admin.user_id}/role", json={"role": "admin"}
    ).is_success
    elsewhere = member.direct_with(owner)
    message = owner.send(group, "for this group only").json()["id"]
    assert _forward(member, [message], [elsewhere]).status_code == 201

    by_admin = admin.patch(f"/conversations/{group}", json={"allow_forward_out": False})
    assert by_admin.status_code == 403 and by_admin.json()["code"] == "FORBIDDEN"
    assert (
        member.patch(f"/conversations/{group}", json={"allow_forward_out": False}).status_code
        == 403
    )
    assert owner.patch(f"/conversations/{group}", json={}).status_code == 400
    assert (
        owner.patch(f"/conversations/{group}", json={"allow_forward_out": "no"}).status_code == 400
    )
    since = int(member.get("/sync").json()["next"])
    turned_off = owner.patch(f"/conversations/{group}", json={"allow_forward_out": False})
    assert turned_off.status_code == 200 and turned_off.json()["allow_forward_out"] is False
    assert member.get(f"/conversations/{group}").json()["allow_forward_out"] is False
    events = member.get("/sync", params={"since": since}).json()["events"]
    updates = [e["data"] for e in events if e["type"] == "conversation_updated"]
    assert updates and updates[-1]["allowForwardOut"] is False

    refused = _forward(member, [message], [elsewhere])
    assert refused.status_code == 403 and refused.json()["code"] == "FORBIDDEN"
    renamed = admin.patch(f"/conversations/{group}", json={"title": "Still renamable"})
    assert renamed.status_code == 200 and renamed.json()["allow_forward_out"] is False
    audit = owner.get(f"/conversations/{group}/audit-log").json()["items"]
    assert [e["action"] for e in audit[:2]] == ["rename", "set_forwarding"]
