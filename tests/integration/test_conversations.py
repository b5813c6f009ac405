"""Conversations against the real server (SQLite, then PostgreSQL + Redis): direct chats are
unique per pair, groups have roles, lists carry previews, unread counts and settings."""

import httpx

from tests.support.api import Account, register
from tests.support.live_server import LiveServer


def test_direct_chat_is_unique_per_pair(live_server: LiveServer) -> None:
    alice, bob = register(live_server.url, display_name="Alice"), register(live_server.url)
    first = alice.post("/conversations", json={"type": "direct", "user_id": bob.user_id})
    assert first.status_code == 201, first.text
    body = first.json()
    assert body["type"] == "direct" and body["title"] == bob.username.title()
    assert body["peer"]["id"] == bob.user_id and body["member_count"] == 2
    again = alice.post("/conversations", json={"type": "direct", "user_id": bob.user_id})
    assert again.status_code == 200 and again.json()["id"] == body["id"]
    other_side = bob.post("/conversations", json={"type": "direct", "user_id": alice.user_id})
    assert other_side.status_code == 200
    assert other_side.json()["id"] == body["id"] and other_side.json()["title"] == "Alice"


def test_direct_chat_refusals(live_server: LiveServer) -> None:
    alice = register(live_server.url)
    cases = [
        ({"type": "direct", "user_id": alice.user_id}, 400, "VALIDATION_ERROR"),
        ({"type": "direct", "user_id": "no-such-user"}, 404, "NOT_FOUND"),
        ({"type": "direct", "user_id": 42}, 400, "VALIDATION_ERROR"),
        ({"type": "direct", "user_id": "../../etc/passwd"}, 400, "VALIDATION_ERROR"),
        ({"type": "channel", "user_id": "x"}, 400, "VALIDATION_ERROR"),
        ({"type": "private_group", "title": "<b></b>"}, 400, "VALIDATION_ERROR"),
        ({"type": "private_group", "title": "T", "member_ids": ["ghost"]}, 404, "NOT_FOUND"),
    ]
    for body, status, code in cases:
        response = alice.post("/conversations", json=body)
        assert response.status_code == status, (body, response.text)
        assert response.json()["code"] == code
    unauthenticated = httpx.post(f"{live_server.url}/api/v1/conversations", json={})
    assert unauthenticated.status_code == 401
    assert unauthenticated.json()["code"] == "UNAUTHORIZED"


def _group(owner: Account, *members: Account, title: str = "Team") -> dict[str, object]:
    response = owner.post(
        "/conversations",
        json={"type": "private_group", "title": title, "member_ids": [m.user_id for m in members]},
    )
    assert response.status_code == 201, response.text
    body: dict[str, object] = response.json()
    return body


def test_group_roles_members_and_outsiders(live_server: LiveServer) -> None:
    owner, member, outsider = (register(live_server.url) for _ in range(3))
    group = _group(owner, member, member)
    assert group["type"] == "private_group" and group["title"] == "Team"
    assert group["my_role"] == "owner" and group["member_count"] == 2
    as_member = member.get(f"/conversations/{group['id']}")
    assert as_member.status_code == 200 and as_member.json()["my_role"] == "member"
    members = owner.get(f"/conversations/{group['id']}/members")
    assert members.status_code == 200
    roles = {m["user"]["id"]: m["role"] for m in members.json()["items"]}
    assert roles == {owner.user_id: "owner", member.user_id: "member"}
    for path in (f"/conversations/{group['id']}", f"/conversations/{group['id']}/members"):
        refused = outsider.get(path)
        assert refused.status_code == 403 and refused.json()["code"] == "NOT_A_MEMBER"
    missing = outsider.get("/conversations/00000000-0000-0000-0000-000000000000")
    assert missing.status_code == 404 and missing.json()["code"] == "NOT_FOUND"


def test_list_has_preview_unread_count_and_pages(live_server: LiveServer) -> None:
    me = register(live_server.url)
    peers = [register(live_server.url) for _ in range(3)]
    chat_ids = [peer.direct_with(me) for peer in peers]
    for index, (peer, chat_id) in enumerate(zip(peers, chat_ids, strict=True)):
        for n in range(index + 1):
            assert peer.send(chat_id, f"message {n} from peer {index}").status_code == 201
    me.send(chat_ids[0], "my own message does not count as unread")
    listing = me.get("/conversations")
    assert listing.status_code == 200
    items = listing.json()["items"]
    assert [item["id"] for item in items] == [chat_ids[0], chat_ids[2], chat_ids[1]]
    by_id = {item["id"]: item for item in items}
    assert by_id[chat_ids[2]]["unread_count"] == 3
    assert by_id[chat_ids[2]]["last_message"]["text"] == "message 2 from peer 2"
    assert by_id[chat_ids[0]]["unread_count"] == 1
    assert by_id[chat_ids[0]]["settings"]["is_pinned"] is False
    newest = by_id[chat_ids[2]]["last_message"]["id"]
    assert (
        me.post(f"/conversations/{chat_ids[2]}/read", json={"message_id": newest}).status_code
        == 204
    )
    assert me.get(f"/conversations/{chat_ids[2]}").json()["unread_count"] == 0

    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 1, **({"cursor": cursor} if cursor else {})}
        page = me.get("/conversations", params=params).json()
        seen.extend(item["id"] for item in page["items"])
        if not page["has_more"]:
            break
        cursor = page["next_cursor"]
    assert seen == [item["id"] for item in items]
    for bad in ({"cursor": "not-a-cursor"}, {"limit": 0}, {"limit": 101}, {"archived": "maybe"}):
        response = me.get("/conversations", params=bad)
        assert response.status_code == 400, (bad, response.text)
        assert response.json()["code"] == "VALIDATION_ERROR"
