"""Full-text search against the real server (SQLite FTS5, then PostgreSQL tsvector): prefix
matching, only the caller's conversations, deleted messages never found, highlights, filters,
and no query can make it fail."""

from datetime import UTC, datetime, timedelta

from tests.support.api import register
from tests.support.live_server import LiveServer


def test_prefix_match_with_highlights_in_my_conversations_only(live_server: LiveServer) -> None:
    alice, bob, eve = (register(live_server.url) for _ in range(3))
    chat = alice.direct_with(bob)
    alice.send(chat, "The quarterly budget is ready")
    bob.send(chat, "Budgeting takes time, see the budget sheet")
    alice.send(chat, "nothing relevant here")
    hidden = eve.direct_with(register(live_server.url))
    eve.send(hidden, "my budget is secret")

    found = bob.get("/search/messages", params={"q": "budg"})
    assert found.status_code == 200, found.text
    hits = found.json()["items"]
    assert len(hits) == 2
    assert {hit["message"]["conversation_id"] for hit in hits} == {chat}
    by_text = {hit["message"]["text"]: hit for hit in hits}
    first = by_text["The quarterly budget is ready"]
    assert first["snippet"] == "The quarterly [[budget]] is ready"
    assert first["match_offsets"] == [[14, 20]]
    assert first["conversation_title"] == alice.username.title()
    second = by_text["Budgeting takes time, see the budget sheet"]
    assert second["snippet"].count("[[") == 2
    both = bob.get("/search/messages", params={"q": "budget SHEET"}).json()["items"]
    assert [hit["message"]["text"] for hit in both] == [
        "Budgeting takes time, see the budget sheet"
    ]
    assert eve.get("/search/messages", params={"q": "quarterly"}).json()["items"] == []


def test_deleted_messages_are_never_found(live_server: LiveServer) -> None:
    alice, bob = register(live_server.url), register(live_server.url)
    chat = alice.direct_with(bob)
    message = alice.send(chat, "ephemeral pineapple").json()["id"]
    assert len(bob.get("/search/messages", params={"q": "pineapple"}).json()["items"]) == 1
    alice.patch(f"/messages/{message}", json={"text": "ephemeral mango"})
    assert bob.get("/search/messages", params={"q": "pineapple"}).json()["items"] == []
    assert len(bob.get("/search/messages", params={"q": "mango"}).json()["items"]) == 1
    alice.delete(f"/conversations/{chat}/messages/{message}")
    assert bob.get("/search/messages", params={"q": "mango"}).json()["items"] == []


def test_filters_and_pages(live_server: LiveServer) -> None:
    alice, bob, carol = (register(live_server.url) for _ in range(3))
    chat = alice.direct_with(bob)
    other = alice.direct_with(carol)
    for n in range(5):
        alice.send(chat, f"zebra number {n}")
    bob.send(chat, "zebra from bob")
    carol.send(other, "zebra from carol")
    assert len(alice.get("/search/messages", params={"q": "zebra"}).json()["items"]) == 7
    in_chat = alice.get("/search/messages", params={"q": "zebra", "conversation_id": chat})
    assert len(in_chat.json()["items"]) == 6
    from_bob = alice.get("/search/messages", params={"q": "zebra", "sender_id": bob.user_id})
    assert [hit["message"]["text"] for hit in from_bob.json()["items"]] == ["zebra from bob"]
    future = (datetime.now(UTC) + timedelta(minutes=5)).isoformat()
    past = (datetime.now(UTC) - timedelta(minutes=5)).isoformat()
    assert (
        alice.get("/search/messages", params={"q": "zebra", "after": future}).json()["items"] == []
    )
    assert (
        len(alice.get("/search/messages", params={"q": "zebra", "after": past}).json()["items"])
        == 7
    )
    assert (
        alice.get("/search/messages", params={"q": "zebra", "before": past}).json()["items"] == []
    )
    voice = alice.get("/search/messages", params={"q": "zebra", "type": "voice"})
    assert voice.status_code == 200 and voice.json()["items"] == []

    seen: list[str] = []
    cursor = None
    while True:
        params = {"q": "zebra", "limit": 3, **({"cursor": cursor} if cursor else {})}
        page = alice.get("/search/messages", params=params).json()
        seen.extend(hit["message"]["id"] for hit in page["items"])
        if not page["has_more"]:
            break
        cursor = page["next_cursor"]
    assert len(seen) == 7 and len(set(seen)) == 7


def test_hostile_queries_never_fail(live_server: LiveServer) -> None:
    alice, bob = register(live_server.url), register(live_server.url)
    chat = alice.direct_with(bob)
    alice.send(chat, 'quote " star * near NEAR(a b) colon: and & or | not !')
    hostile = ['"', "*", "NEAR(", "a OR", "AND", ":*", "&|!", "'", "\\", "()", "^", "-x"]
    hostile += ["near/3", "x:*&y", "%", "_", "😀", "NOT", '"unterminated', "a" * 256]
    for query in hostile:
        response = alice.get("/search/messages", params={"q": query})
        assert response.status_code == 200, (query, response.text)
    found = alice.get("/search/messages", params={"q": 'NEAR("'}).json()["items"]
    assert len(found) == 1
    for params in (
        {"q": ""},
        {},
        {"q": "x", "type": "hologram"},
        {"q": "x", "after": "yesterday"},
        {"q": "x", "after": "0001-01-01T00:00:00+14:00"},
        {"q": "x", "cursor": "garbage"},
        {"q": "x", "limit": 1000},
        {"q": "x" * 257},
        {"q": "x", "conversation_id": "../etc"},
    ):
        response = alice.get("/search/messages", params=params)
        assert response.status_code == 400, (params, response.text)
        assert response.json()["code"] == "VALIDATION_ERROR"
