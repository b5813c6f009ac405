"""A group's audit log and the seed protocol's ``room_locked`` / ``member_role_changed`` events,
against the real server on both backends."""

import asyncio
from datetime import UTC, datetime, timedelta

from tests.support.api import Account, register
from tests.support.live_server import LiveServer
from tests.support.sockets import connected


def _group(owner: Account, *members: Account) -> str:
    response = owner.post(
        "/conversations",
        json={
            "type": "private_group",
            "title": "Audit",
            "member_ids": [m.user_id for m in members],
        },
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def _all_entries(account: Account, group_id: str) -> list[dict[str, object]]:
    """Every entry, paging two at a time with the server's cursors."""
    entries: list[dict[str, object]] = []
    cursor = None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = account.get(f"/conversations/{group_id}/audit-log", params=params)
        assert page.status_code == 200, page.text
        entries += page.json()["items"]
        cursor = page.json()["next_cursor"]
        if not page.json()["has_more"]:
            return entries


def test_the_log_records_who_did_what_newest_first(live_server: LiveServer) -> None:
    owner, admin, member = (register(live_server.url) for _ in range(3))
    group_id = _group(owner, admin, member)
    base = f"/conversations/{group_id}"
    assert owner.patch(f"{base}/members/{admin.user_id}/role", json={"role": "admin"}).is_success
    until = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    assert admin.post(f"{base}/members/{member.user_id}/mute", json={"until": until}).is_success
    assert admin.delete(f"{base}/members/{member.user_id}/mute").is_success
    message_id = member.send(group_id, "pin me, then delete me").json()["id"]
    assert admin.post(f"{base}/messages/{message_id}/pin").is_success
    assert owner.delete(f"{base}/messages/{message_id}/pin").is_success
    assert admin.delete(f"{base}/messages/{message_id}").status_code == 204
    own = admin.send(group_id, "mine").json()["id"]
    assert admin.delete(f"{base}/messages/{own}").status_code == 204
    assert owner.patch(f"{base}/lock", json={"locked": True}).is_success

    entries = _all_entries(admin, group_id)
    actions = [(e["action"], e["actor_id"], e["target_id"]) for e in entries]
    assert actions == [
        ("lock_room", owner.user_id, None),
        ("delete_message", admin.user_id, member.user_id),
        ("unpin_message", owner.user_id, member.user_id),
        ("pin_message", admin.user_id, member.user_id),
        ("unmute_user", admin.user_id, member.user_id),
        ("mute_user", admin.user_id, member.user_id),
        ("change_role", owner.user_id, admin.user_id),
    ], "one's own deletion is not an admin action"
    assert entries[1]["details"] == {"message_id": message_id}
    assert entries[-1]["details"] == {"role": "admin"}


def test_only_owners_and_admins_read_the_log(live_server: LiveServer) -> None:
    owner, member, outsider = (register(live_server.url) for _ in range(3))
    group_id = _group(owner, member)
    path = f"/conversations/{group_id}/audit-log"
    assert owner.get(path).status_code == 200
    refused = member.get(path)
    assert refused.status_code == 403 and refused.json()["code"] == "FORBIDDEN"
    assert outsider.get(path).json()["code"] == "NOT_A_MEMBER"
    direct = owner.direct_with(member)
    assert owner.get(f"/conversations/{direct}/audit-log").json()["code"] == "NOT_A_GROUP"
    assert owner.get("/conversations/unknown-id/audit-log").status_code == 404
    assert owner.get(path, params={"cursor": "forged"}).status_code == 400


async def test_lock_and_role_changes_are_announced_by_their_seed_names(
    live_server: LiveServer,
) -> None:
    owner, member = register(live_server.url), register(live_server.url)
    group_id = _group(owner, member)
    base = f"/conversations/{group_id}"
    async with connected(live_server, member) as sock:
        await asyncio.to_thread(owner.patch, f"{base}/lock", json={"locked": True})
        locked = await sock.wait("room_locked")
        assert locked == {"conversationId": group_id, "locked": True}
        await asyncio.to_thread(
            owner.patch, f"{base}/members/{member.user_id}/role", json={"role": "admin"}
        )
        changed = await sock.wait("member_role_changed")
        assert changed == {"conversationId": group_id, "userId": member.user_id, "newRole": "admin"}
        await asyncio.to_thread(owner.post, f"{base}/leave")
        handed_on = await sock.wait("member_role_changed", lambda d: d["newRole"] == "owner")
        assert handed_on["userId"] == member.user_id
