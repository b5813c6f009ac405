"""``GET /sync`` against the real server on both backends: every change a user may see, in
order, nothing they may not; the head for a full resync; 410 once the log was pruned."""

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import start_server
from tests.support.api import Account, register
from tests.support.live_server import LiveServer


def _all_events(account: Account, since: int) -> tuple[list[dict[str, Any]], int]:
    events: list[dict[str, Any]] = []
    while True:
        page = account.get("/sync", params={"since": since, "limit": 2}).json()
        events.extend(page["events"])
        since = page["next"]
        if not page["has_more"]:
            return events, since


def test_replays_visible_changes_in_order(live_server: LiveServer) -> None:
    alice, bob, eve = (register(live_server.url) for _ in range(3))
    head = alice.get("/sync").json()
    assert head["events"] == [] and head["has_more"] is False
    start = head["next"]
    chat = alice.direct_with(bob)
    message = alice.send(chat, "sync me").json()["id"]
    alice.patch(f"/messages/{message}", json={"text": "sync me, edited"})
    bob.post(f"/messages/{message}/reactions", json={"emoji": "👍"})
    bob.post(f"/conversations/{chat}/read", json={"message_id": message})
    alice.post(f"/conversations/{chat}/messages/{message}/pin")
    bob.post(f"/conversations/{chat}/mute")
    bob.post(f"/users/{eve.user_id}/block")
    eve_chat = eve.direct_with(register(live_server.url))
    eve.send(eve_chat, "not for alice or bob")
    alice.delete(f"/conversations/{chat}/messages/{message}")

    events, _ = _all_events(bob, start)
    types = [event["type"] for event in events]
    assert types == [
        "conversation_updated",
        "message_new",
        "message_edited",
        "reaction_added",
        "message_read",
        "message_pinned",
        "settings_updated",
        "user_blocked",
        "message_deleted",
        "message_unpinned",
        "reaction_removed",
    ]
    ids = [event["id"] for event in events]
    assert ids == sorted(ids)
    for event in events:
        data = event["data"]
        assert isinstance(data, dict) and data["eventId"] == event["id"]
    new = events[1]["data"]
    assert isinstance(new, dict)
    assert new["conversationId"] == chat and new["text"] == "sync me" and new["clientId"]
    reaction = events[3]["data"]
    assert isinstance(reaction, dict)
    assert reaction["reactions"][0]["userIds"] == [bob.user_id]

    alice_types = [event["type"] for event in _all_events(alice, start)[0]]
    assert "settings_updated" not in alice_types and "user_blocked" not in alice_types
    assert alice_types.count("message_new") == 1


def test_bad_parameters(live_server: LiveServer) -> None:
    alice = register(live_server.url)
    for params in ({"since": -1}, {"since": "x"}, {"since": 0, "limit": 0}, {"limit": 5000}):
        response = alice.get("/sync", params=params)
        assert response.status_code == 400, (params, response.text)
        assert response.json()["code"] == "VALIDATION_ERROR"
    far = alice.get("/sync", params={"since": 10**12}).json()
    assert far == {"events": [], "next": 10**12, "has_more": False}


@pytest.fixture(params=["sqlite", "postgres"])
def short_log(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[LiveServer]:
    """A server that keeps events for one second only."""
    yield from start_server(
        tmp_path / "server", request.param, env={"OPENCHAT_EVENT_RETENTION": "1"}
    )


def test_pruned_log_answers_410(short_log: LiveServer) -> None:
    alice, bob = register(short_log.url), register(short_log.url)
    start = alice.get("/sync").json()["next"]
    chat = alice.direct_with(bob)
    alice.send(chat, "old news")
    time.sleep(2.5)
    alice.send(chat, "fresh")
    expired = bob.get("/sync", params={"since": start})
    assert expired.status_code == 410 and expired.json()["code"] == "SYNC_EXPIRED"
    head = bob.get("/sync").json()["next"]
    alice.send(chat, "after the resync")
    events, _ = _all_events(bob, head)
    assert [event["type"] for event in events] == ["message_new"]
