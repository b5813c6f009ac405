"""Reactions (document 001 §2.1) against the real server on both backends."""

from urllib.parse import quote

from tests.support.api import register
from tests.support.live_server import LiveServer


def test_add_is_idempotent_and_summaries_are_per_viewer(live_server: LiveServer) -> None:
    alice, bob = register(live_server.url), register(live_server.url)
    chat = alice.direct_with(bob)
    message = alice.send(chat, "react to me").json()["id"]
    for _ in range(2):
        added = bob.post(f"/messages/{message}/reactions", json={"emoji": "👍"})
        assert added.status_code == 200, added.text
        assert added.json() == [
            {"emoji": "👍", "count": 1, "reacted_by_me": True, "user_ids": [bob.user_id]}
        ]
    alice.post(f"/messages/{message}/reactions", json={"emoji": "👍"})
    alice.post(f"/messages/{message}/reactions", json={"emoji": "❤️"})
    as_alice = alice.get(f"/messages/{message}/reactions").json()
    assert [(r["emoji"], r["count"], r["reacted_by_me"]) for r in as_alice] == [
        ("👍", 2, True),
        ("❤️", 1, True),
    ]
    as_bob = bob.get(f"/messages/{message}/reactions").json()
    assert [(r["emoji"], r["count"], r["reacted_by_me"]) for r in as_bob] == [
        ("👍", 2, True),
        ("❤️", 1, False),
    ]
    in_history = bob.get(f"/conversations/{chat}/messages").json()["items"][0]["reactions"]
    assert in_history == as_bob


def test_remove_is_204_and_a_no_op_when_absent(live_server: LiveServer) -> None:
    alice, bob = register(live_server.url), register(live_server.url)
    chat = alice.direct_with(bob)
    message = alice.send(chat, "hi").json()["id"]
    bob.post(f"/messages/{message}/reactions", json={"emoji": "🎉"})
    path = f"/messages/{message}/reactions/{quote('🎉')}"
    assert bob.delete(path).status_code == 204
    assert bob.delete(path).status_code == 204
    assert alice.delete(path).status_code == 204
    assert bob.get(f"/messages/{message}/reactions").json() == []


def test_refusals(live_server: LiveServer) -> None:
    alice, bob, outsider = (register(live_server.url) for _ in range(3))
    chat = alice.direct_with(bob)
    message = alice.send(chat, "hi").json()["id"]
    for emoji in ("x", "👍👍", "<b>", "", "🦖" * 20, 5):
        response = bob.post(f"/messages/{message}/reactions", json={"emoji": emoji})
        assert response.status_code == 400, (emoji, response.text)
        assert response.json()["code"] == "VALIDATION_ERROR"
    assert bob.delete(f"/messages/{message}/reactions/x").status_code == 400
    hidden = outsider.post(f"/messages/{message}/reactions", json={"emoji": "👍"})
    assert hidden.status_code == 404 and hidden.json()["code"] == "NOT_FOUND"
    assert outsider.get(f"/messages/{message}/reactions").status_code == 404
    assert bob.post("/messages/no-such/reactions", json={"emoji": "👍"}).status_code == 404
    alice.delete(f"/conversations/{chat}/messages/{message}")
    deleted = bob.post(f"/messages/{message}/reactions", json={"emoji": "👍"})
    assert deleted.status_code == 409 and deleted.json()["code"] == "CONFLICT"
