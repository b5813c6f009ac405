"""Blocks (document 001 §2.3) against the real server on both backends: a blocked pair cannot
send, react or forward to each other, in either direction. In groups a block does not stop
either from writing to the group, but neither can react to the other's messages, and neither
can put the other in a new group."""

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
    listed = alice.get("/users/blocked").json()
    assert [entry["user"]["id"] for entry in listed] == [bob.user_id]
    assert bob.get("/users/blocked").json() == []
    assert alice.delete(f"/users/{bob.user_id}/block").status_code == 204
    assert alice.delete(f"/users/{bob.user_id}/block").status_code == 204
    assert alice.get("/users/blocked").json() == []
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
