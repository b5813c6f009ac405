"""Deleting a message takes its pins and reactions with it, and says so through events that
/sync replays (SQLite, then PostgreSQL + Redis)."""

from tests.support.api import register
from tests.support.live_server import LiveServer


def test_deleting_a_message_unpins_it_and_drops_its_reactions(live_server: LiveServer) -> None:
    alice, bob = register(live_server.url), register(live_server.url)
    chat = alice.direct_with(bob)
    kept, doomed = (alice.send(chat, text).json()["id"] for text in ("kept", "doomed"))
    for message_id in (kept, doomed):
        assert alice.post(f"/conversations/{chat}/messages/{message_id}/pin").status_code == 200
    bob.post(f"/messages/{doomed}/reactions", json={"emoji": "👍"})
    alice.post(f"/messages/{doomed}/reactions", json={"emoji": "👍"})
    bob.post(f"/messages/{doomed}/reactions", json={"emoji": "❤️"})
    since = bob.get("/sync").json()["next"]

    assert alice.delete(f"/conversations/{chat}/messages/{doomed}").status_code == 204
    assert bob.get(f"/conversations/{chat}").json()["pinned_message_ids"] == [kept]
    assert bob.get(f"/messages/{doomed}/reactions").json() == []
    events = bob.get("/sync", params={"since": since}).json()["events"]
    assert [event["type"] for event in events] == [
        "message_deleted",
        "message_unpinned",
        "reaction_removed",
        "reaction_removed",
        "reaction_removed",
    ]
    unpinned = events[1]["data"]
    assert unpinned["messageId"] == doomed and unpinned["pinnedMessageIds"] == [kept]
    removed = [(e["data"]["userId"], e["data"]["emoji"]) for e in events[2:]]
    assert removed == [(bob.user_id, "👍"), (alice.user_id, "👍"), (bob.user_id, "❤️")]
    assert events[-1]["data"]["reactions"] == []
    assert events[2]["data"]["reactions"][0]["userIds"] == [alice.user_id]
    again = alice.delete(f"/conversations/{chat}/messages/{doomed}")
    assert again.status_code == 204
    assert bob.get("/sync", params={"since": events[-1]["id"]}).json()["events"] == []
