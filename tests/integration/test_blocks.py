"""Blocks (document 001 §2.3) against the real server on both backends: a blocked pair cannot
send, react or forward to each other, in either direction. In groups a block does not stop
either from writing to the group, but neither can react to the other's messages, and neither
can put the other in a new group."""

import uuid
from collections.abc import Callable
from typing import Any

from tests.support.api import Account, register
from tests.support.live_server import LiveServer


def _refused_blocked(response: object) -> None:
    assert getattr(response, "status_code", None) == 403, getattr(response, "text", "")
    assert response.json()["code"] == "BLOCKED"  # type: ignore[attr-defined]


def _group(owner: Account, *members: Account) -> str:
    body = {"type": "private_group", "title": "G", "member_ids": [m.user_id for m in members]}
    response = owner.post("/conversations", json=body)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def test_block_list_and_unblock(live_server: LiveServer) -> None:
    alice, bob = register(live_server.url), register(live_server.url)
    blocked = alice.post(f"/users/{bob.user_id}/block")
    assert blocked.status_code == 200 and blocked.json()["user"]["id"] == bob.user_id
    assert alice.post(f"/users/{bob.user_id}/block").status_code == 200
    listed = alice.get("/users/blocked").json()["items"]
    assert [entry["user"]["id"] for entry in listed] == [bob.user_id]
    assert bob.get("/users/blocked").json()["items"] == []
    assert alice.delete(f"/users/{bob.user_id}/block").status_code == 204
    assert alice.delete(f"/users/{bob.user_id}/block").status_code == 204
    assert alice.get("/users/blocked").json()["items"] == []
    myself = alice.post(f"/users/{alice.user_id}/block")
    assert myself.status_code == 400 and myself.json()["code"] == "VALIDATION_ERROR"
    assert alice.post("/users/nobody/block").status_code == 404


def test_blocked_pair_cannot_send_react_or_forward(live_server: LiveServer) -> None:
    alice, bob, carol = (register(live_server.url) for _ in range(3))
    chat = alice.direct_with(bob)
    from_bob = bob.send(chat, "before the block").json()["id"]
    from_alice = alice.send(chat, "mine").json()["id"]
    carol_chat = carol.direct_with(alice)
    to_forward = carol.send(carol_chat, "forward me").json()["id"]
    assert alice.post(f"/users/{bob.user_id}/block").status_code == 200

    for sender in (alice, bob):
        _refused_blocked(sender.send(chat, "after the block"))
    _refused_blocked(alice.post(f"/messages/{from_bob}/reactions", json={"emoji": "👍"}))
    _refused_blocked(bob.post(f"/messages/{from_alice}/reactions", json={"emoji": "👍"}))
    _refused_blocked(
        alice.post(
            "/messages/forward",
            json={"message_ids": [to_forward], "target_conversation_ids": [chat]},
        )
    )
    history = bob.get(f"/conversations/{chat}/messages")
    assert history.status_code == 200 and len(history.json()["items"]) == 2

    assert alice.delete(f"/users/{bob.user_id}/block").status_code == 204
    assert bob.send(chat, "after the unblock").status_code == 201


def test_new_chats_and_groups_with_a_blocked_user(live_server: LiveServer) -> None:
    alice, bob, carol = (register(live_server.url) for _ in range(3))
    bob.post(f"/users/{alice.user_id}/block")
    _refused_blocked(alice.post("/conversations", json={"type": "direct", "user_id": bob.user_id}))
    _refused_blocked(
        alice.post(
            "/conversations",
            json={"type": "private_group", "title": "G", "member_ids": [bob.user_id]},
        )
    )
    group = _group(carol, alice, bob)
    by_bob = bob.send(group, "groups still work")
    assert by_bob.status_code == 201
    assert alice.send(group, "for me too").status_code == 201
    _refused_blocked(alice.post(f"/messages/{by_bob.json()['id']}/reactions", json={"emoji": "👍"}))
    assert (
        carol.post(f"/messages/{by_bob.json()['id']}/reactions", json={"emoji": "👍"}).status_code
        == 200
    )


def test_people_search_and_the_block_list_are_paginated(live_server: LiveServer) -> None:
    me = register(live_server.url)
    stem = f"pag{uuid.uuid4().hex[:8]}"
    others = [register(live_server.url, username=f"{stem}_{n}") for n in range(5)]
    others.append(register(live_server.url, display_name=f"Not {stem} first"))
    found = _all_pages(me, "/users", {"query": stem})
    prefix_first = [o.user_id for o in others[:5]] + [others[5].user_id]
    assert found == prefix_first, "username-prefix matches first, then by username"
    for other in others:
        assert me.post(f"/users/{other.user_id}/block").status_code == 200
    blocked = _all_pages(me, "/users/blocked", {}, key=lambda item: item["user"]["id"])
    assert blocked == [o.user_id for o in reversed(others)], "most recent first"
    bad = me.get("/users/blocked", params={"cursor": "nonsense"})
    assert bad.status_code == 400 and bad.json()["code"] == "VALIDATION_ERROR"
    assert me.get("/users", params={"query": stem, "limit": 0}).status_code == 400


def _all_pages(
    account: Account,
    path: str,
    params: dict[str, str],
    key: Callable[[dict[str, Any]], str] = lambda item: str(item["id"]),
) -> list[str]:
    """Every item of a paginated list, two at a time."""
    seen: list[str] = []
    cursor: str | None = None
    while True:
        query = {**params, "limit": "2", **({"cursor": cursor} if cursor else {})}
        page = account.get(path, params=query).json()
        seen.extend(key(item) for item in page["items"])
        if not page["has_more"]:
            return seen
        cursor = page["next_cursor"]
