"""Per-user conversation settings (document 001 §2.2) against the real server on both backends:
PATCH is canonical, the aliases change the same row, nobody else's settings ever change."""

from datetime import UTC, datetime, timedelta

from tests.support.api import register
from tests.support.live_server import LiveServer


def test_patch_and_aliases_share_one_row(live_server: LiveServer) -> None:
    alice, bob = register(live_server.url), register(live_server.url)
    chat = alice.direct_with(bob)
    path = f"/conversations/{chat}"
    defaults = alice.get(f"{path}/settings").json()
    assert defaults["conversation_id"] == chat
    assert (defaults["is_pinned"], defaults["is_archived"], defaults["is_muted"]) == (
        False,
        False,
        False,
    )
    assert defaults["notifications_on"] is True

    pinned = alice.post(f"{path}/pin").json()
    assert pinned["is_pinned"] is True and pinned["pin_rank"] >= 1
    patched = alice.patch(f"{path}/settings", json={"is_archived": True, "notifications_on": False})
    assert patched.status_code == 200
    assert patched.json()["is_pinned"] is True and patched.json()["is_archived"] is True
    assert alice.delete(f"{path}/archive").json()["is_archived"] is False
    assert alice.post(f"{path}/archive").json()["is_archived"] is True
    assert alice.delete(f"{path}/pin").json()["pin_rank"] is None

    until = (datetime.now(UTC) + timedelta(hours=2)).isoformat()
    muted = alice.post(f"{path}/mute", json={"until": until}).json()
    assert muted["is_muted"] is True and muted["muted_until"] is not None
    forever = alice.post(f"{path}/mute", json={"until": None}).json()
    assert forever["is_muted"] is True and forever["muted_until"] is None
    assert alice.delete(f"{path}/mute").json()["is_muted"] is False
    assert alice.patch(f"{path}/settings", json={"is_muted": True}).json()["is_muted"] is True
    assert alice.patch(f"{path}/settings", json={"muted_until": None}).json()["is_muted"] is False
    naive = alice.patch(f"{path}/settings", json={"muted_until": "2999-01-01T00:00:00"})
    assert naive.status_code == 200 and naive.json()["muted_until"].startswith("2999-01-01")
    assert alice.post(f"{path}/mute", json={"until": "2999-01-01T00:00:00"}).status_code == 200
    past = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    assert alice.post(f"{path}/mute", json={"until": past}).json()["is_muted"] is False

    final = alice.get(f"{path}/settings").json()
    assert final["is_archived"] is True and final["notifications_on"] is False
    others = bob.get(f"{path}/settings").json()
    assert (others["is_pinned"], others["is_archived"], others["is_muted"]) == (False, False, False)
    assert others["notifications_on"] is True


def test_pins_order_the_list_and_archive_hides(live_server: LiveServer) -> None:
    me = register(live_server.url)
    chats = [register(live_server.url).direct_with(me) for _ in range(4)]
    assert me.post(f"/conversations/{chats[0]}/pin").json()["pin_rank"] == 1
    assert me.post(f"/conversations/{chats[2]}/pin").json()["pin_rank"] == 2
    me.post(f"/conversations/{chats[1]}/archive")
    listed = [item["id"] for item in me.get("/conversations").json()["items"]]
    assert listed == [chats[0], chats[2], chats[3]]
    archived = me.get("/conversations", params={"archived": "true"}).json()["items"]
    assert [item["id"] for item in archived] == [chats[1]]
    assert archived[0]["settings"]["is_archived"] is True


def test_refusals(live_server: LiveServer) -> None:
    alice, bob, outsider = (register(live_server.url) for _ in range(3))
    chat = alice.direct_with(bob)
    for method, suffix in (("GET", "settings"), ("POST", "pin"), ("POST", "mute")):
        response = outsider.request(method, f"/conversations/{chat}/{suffix}")
        assert response.status_code == 403 and response.json()["code"] == "NOT_A_MEMBER"
    assert alice.post("/conversations/unknown/archive").status_code == 404
    for body in ({"is_pinned": "very"}, {"colour": "red"}, {"muted_until": "tomorrow"}):
        response = alice.patch(f"/conversations/{chat}/settings", json=body)
        assert response.status_code == 400, (body, response.text)
        assert response.json()["code"] == "VALIDATION_ERROR"
    bad_mute = alice.post(f"/conversations/{chat}/mute", json={"until": 12, "x": 1})
    assert bad_mute.status_code == 400
