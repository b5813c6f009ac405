"""Group administration against the real server (SQLite, then PostgreSQL + Redis): adding,
removing, banning, muting, roles, leaving, renaming and locking, every refusal, and the events
members (and the people who leave) receive live and through /sync."""

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.support.api import Account, register
from tests.support.live_server import LiveServer
from tests.support.sockets import connected

Group = tuple[str, Account, Account, Account]
"""A group id, its owner, an admin and a plain member."""


def _soon(**delta: float) -> str:
    return (datetime.now(UTC) + timedelta(**delta)).isoformat()


def _make_group(owner: Account, *members: Account, title: str = "Team") -> str:
    response = owner.post(
        "/conversations",
        json={"type": "private_group", "title": title, "member_ids": [m.user_id for m in members]},
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


@pytest.fixture
def group(live_server: LiveServer) -> Group:
    """A group with an owner, an admin and a member."""
    owner, admin, member = (register(live_server.url) for _ in range(3))
    group_id = _make_group(owner, admin, member)
    promoted = owner.patch(
        f"/conversations/{group_id}/members/{admin.user_id}/role", json={"role": "admin"}
    )
    assert promoted.status_code == 200, promoted.text
    return group_id, owner, admin, member


def _head(account: Account) -> int:
    return int(account.get("/sync").json()["next"])


def _events(account: Account, since: int, kind: str) -> list[dict[str, Any]]:
    page = account.get("/sync", params={"since": since, "limit": 1000}).json()
    return [event["data"] for event in page["events"] if event["type"] == kind]


def _roles(account: Account, group_id: str) -> dict[str, str]:
    response = account.get(f"/conversations/{group_id}/members")
    assert response.status_code == 200, response.text
    return {m["user"]["id"]: m["role"] for m in response.json()["items"]}


def _refused(response: Any, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.json()["code"] == code, response.text


def test_owners_and_admins_add_members_who_then_get_the_group(
    live_server: LiveServer, group: Group
) -> None:
    group_id, owner, admin, member = group
    newcomer, another, stranger = (register(live_server.url) for _ in range(3))
    since = _head(newcomer)
    added = admin.post(f"/conversations/{group_id}/members", json={"user_ids": [newcomer.user_id]})
    assert added.status_code == 200, added.text
    assert [(m["user"]["id"], m["role"]) for m in added.json()] == [(newcomer.user_id, "member")]
    again = owner.post(
        f"/conversations/{group_id}/members",
        json={"user_ids": [newcomer.user_id, another.user_id]},
    )
    assert [m["user"]["id"] for m in again.json()] == [another.user_id], "members are skipped"

    joined = _events(newcomer, since, "member_joined")
    assert [(e["userId"], e["actorId"]) for e in joined] == [
        (newcomer.user_id, admin.user_id),
        (another.user_id, owner.user_id),
    ]
    seen = newcomer.get(f"/conversations/{group_id}")
    assert seen.status_code == 200 and seen.json()["member_count"] == 5

    path = f"/conversations/{group_id}/members"
    _refused(member.post(path, json={"user_ids": [stranger.user_id]}), 403, "FORBIDDEN")
    _refused(stranger.post(path, json={"user_ids": [stranger.user_id]}), 403, "NOT_A_MEMBER")
    _refused(owner.post(path, json={"user_ids": ["nobody"]}), 404, "NOT_FOUND")
    _refused(owner.post(path, json={"user_ids": []}), 400, "VALIDATION_ERROR")
    _refused(owner.post(path, json={"user_ids": ["../x"]}), 400, "VALIDATION_ERROR")
    stranger.post(f"/users/{owner.user_id}/block")
    _refused(owner.post(path, json={"user_ids": [stranger.user_id]}), 403, "BLOCKED")


def test_removal_follows_rank_and_the_removed_user_learns_of_it(
    live_server: LiveServer, group: Group
) -> None:
    group_id, owner, admin, member = group
    second_admin = register(live_server.url)
    owner.post(f"/conversations/{group_id}/members", json={"user_ids": [second_admin.user_id]})
    owner.patch(
        f"/conversations/{group_id}/members/{second_admin.user_id}/role", json={"role": "admin"}
    )
    members = f"/conversations/{group_id}/members"
    _refused(member.delete(f"{members}/{admin.user_id}"), 403, "FORBIDDEN")
    _refused(admin.delete(f"{members}/{owner.user_id}"), 403, "FORBIDDEN")
    _refused(admin.delete(f"{members}/{second_admin.user_id}"), 403, "FORBIDDEN")
    _refused(admin.delete(f"{members}/nobody"), 404, "NOT_FOUND")

    since = _head(member)
    assert admin.delete(f"{members}/{member.user_id}").status_code == 204
    left = _events(member, since, "member_left")
    assert [(e["userId"], e["reason"], e["actorId"]) for e in left] == [
        (member.user_id, "removed", admin.user_id)
    ]
    _refused(member.get(f"/conversations/{group_id}"), 403, "NOT_A_MEMBER")
    _refused(member.send(group_id, "still here?"), 403, "NOT_A_MEMBER")
    assert owner.delete(f"{members}/{second_admin.user_id}").status_code == 204
    assert set(_roles(owner, group_id)) == {owner.user_id, admin.user_id}


def test_leaving_and_an_owner_handing_the_group_on(live_server: LiveServer, group: Group) -> None:
    group_id, owner, admin, member = group
    since = _head(member)
    assert owner.post(f"/conversations/{group_id}/leave").status_code == 204
    assert _roles(member, group_id) == {admin.user_id: "owner", member.user_id: "member"}
    updated = _events(member, since, "member_updated")
    assert [(e["userId"], e["role"]) for e in updated] == [(admin.user_id, "owner")]
    left = _events(member, since, "member_left")
    assert [(e["userId"], e["reason"]) for e in left] == [(owner.user_id, "left")]
    assert _events(owner, since, "member_left") == left, "the leaver's devices hear it too"

    assert member.delete(f"/conversations/{group_id}/members/me").status_code == 204
    assert admin.delete(f"/conversations/{group_id}/members/{admin.user_id}").status_code == 204
    _refused(admin.post(f"/conversations/{group_id}/leave"), 403, "NOT_A_MEMBER")


def test_only_the_owner_changes_roles(group: Group) -> None:
    group_id, owner, admin, member = group
    role = f"/conversations/{group_id}/members/{member.user_id}/role"
    _refused(admin.patch(role, json={"role": "admin"}), 403, "FORBIDDEN")
    _refused(owner.patch(role, json={"role": "owner"}), 400, "VALIDATION_ERROR")
    _refused(owner.patch(role, json={}), 400, "VALIDATION_ERROR")
    mine = f"/conversations/{group_id}/members/{owner.user_id}/role"
    _refused(owner.patch(mine, json={"role": "member"}), 400, "VALIDATION_ERROR")
    promoted = owner.patch(role, json={"role": "admin"})
    assert promoted.status_code == 200 and promoted.json()["role"] == "admin"
    demoted = owner.patch(
        f"/conversations/{group_id}/members/{admin.user_id}/role", json={"role": "member"}
    )
    assert demoted.json()["role"] == "member"
    assert _roles(owner, group_id) == {
        owner.user_id: "owner",
        admin.user_id: "member",
        member.user_id: "admin",
    }


def test_muting_a_member(group: Group) -> None:
    group_id, owner, admin, member = group
    mute = f"/conversations/{group_id}/members/{member.user_id}/mute"
    since = _head(member)
    until = _soon(hours=1)
    muted = admin.post(mute, json={"until": until})
    assert muted.status_code == 200, muted.text
    assert datetime.fromisoformat(muted.json()["muted_until"]) == datetime.fromisoformat(until)
    listed = member.get(f"/conversations/{group_id}/members").json()["items"]
    muted_ids = [m["user"]["id"] for m in listed if m["muted_until"] is not None]
    assert muted_ids == [member.user_id]
    updates = _events(member, since, "member_updated")
    assert [(e["userId"], e["mutedUntil"] is not None) for e in updates] == [(member.user_id, True)]

    _refused(admin.post(mute, json={"until": _soon(hours=-1)}), 400, "VALIDATION_ERROR")
    _refused(admin.post(mute, json={"until": "2030-01-01T00:00:00"}), 400, "VALIDATION_ERROR")
    _refused(admin.post(mute, json={}), 400, "VALIDATION_ERROR")
    _refused(
        member.post(
            f"/conversations/{group_id}/members/{admin.user_id}/mute", json={"until": until}
        ),
        403,
        "FORBIDDEN",
    )
    _refused(
        admin.post(
            f"/conversations/{group_id}/members/{owner.user_id}/mute", json={"until": until}
        ),
        403,
        "FORBIDDEN",
    )
    unmuted = admin.delete(mute)
    assert unmuted.status_code == 200 and unmuted.json()["muted_until"] is None


def test_a_banned_user_is_removed_and_cannot_be_added_back(
    live_server: LiveServer, group: Group
) -> None:
    group_id, owner, admin, member = group
    outsider = register(live_server.url)
    ban = f"/conversations/{group_id}/members/{member.user_id}/ban"
    add = f"/conversations/{group_id}/members"
    _refused(admin.post(ban, json={"until": _soon(hours=-1)}), 400, "VALIDATION_ERROR")
    _refused(
        member.post(f"/conversations/{group_id}/members/{admin.user_id}/ban", json={}),
        403,
        "FORBIDDEN",
    )
    _refused(
        admin.post(f"/conversations/{group_id}/members/{owner.user_id}/ban", json={}),
        403,
        "FORBIDDEN",
    )
    _refused(admin.post(f"/conversations/{group_id}/members/nobody/ban", json={}), 404, "NOT_FOUND")

    since = _head(member)
    until = _soon(days=1)
    assert admin.post(ban, json={"until": until}).status_code == 204
    left = _events(member, since, "member_left")
    assert [(e["userId"], e["reason"]) for e in left] == [(member.user_id, "banned")]
    assert datetime.fromisoformat(left[0]["bannedUntil"]) == datetime.fromisoformat(until)
    _refused(member.get(f"/conversations/{group_id}"), 403, "NOT_A_MEMBER")
    _refused(owner.post(add, json={"user_ids": [member.user_id]}), 403, "BANNED")

    outsider_ban = f"/conversations/{group_id}/members/{outsider.user_id}/ban"
    assert owner.post(outsider_ban, json={"until": None}).status_code == 204
    _refused(admin.post(add, json={"user_ids": [outsider.user_id]}), 403, "BANNED")
    assert admin.delete(ban).status_code == 204
    readded = admin.post(add, json={"user_ids": [member.user_id]})
    assert [m["user"]["id"] for m in readded.json()] == [member.user_id]


def test_managers_list_the_bans_in_force(live_server: LiveServer, group: Group) -> None:
    group_id, owner, admin, member = group
    outsider, expired = (register(live_server.url) for _ in range(2))
    bans = f"/conversations/{group_id}/bans"
    assert admin.get(bans).json()["items"] == []
    for user, until in ((member, _soon(days=1)), (outsider, None), (expired, _soon(seconds=3))):
        response = owner.post(
            f"/conversations/{group_id}/members/{user.user_id}/ban", json={"until": until}
        )
        assert response.status_code == 204, response.text

    first = admin.get(bans, params={"limit": 1})
    assert first.status_code == 200, first.text
    assert [b["user"]["id"] for b in first.json()["items"]] == [member.user_id]
    assert first.json()["has_more"] is True
    rest = admin.get(bans, params={"cursor": first.json()["next_cursor"]}).json()
    assert [b["user"]["id"] for b in rest["items"]][:1] == [outsider.user_id]
    assert [b["user"]["id"] for b in rest["items"]][1:] in ([expired.user_id], [])
    assert rest["items"][0]["banned_until"] is None

    assert (
        admin.delete(f"/conversations/{group_id}/members/{outsider.user_id}/ban").status_code == 204
    )
    deadline = time.monotonic() + 15
    while True:
        listed = [b["user"]["id"] for b in admin.get(bans).json()["items"]]
        if expired.user_id not in listed or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert listed == [member.user_id], "lifted and ended bans are not listed"

    _refused(
        admin.get(f"/conversations/{group_id}/bans", params={"limit": 0}), 400, "VALIDATION_ERROR"
    )
    _refused(member.get(bans), 403, "NOT_A_MEMBER")
    _refused(expired.get(bans), 403, "NOT_A_MEMBER")
    plain = register(live_server.url)
    assert (
        owner.post(
            f"/conversations/{group_id}/members", json={"user_ids": [plain.user_id]}
        ).status_code
        == 200
    )
    _refused(plain.get(bans), 403, "FORBIDDEN")
    _refused(owner.get("/conversations/nope/bans"), 404, "NOT_FOUND")


def test_renaming_and_locking(live_server: LiveServer, group: Group) -> None:
    group_id, owner, admin, member = group
    since = _head(member)
    renamed = admin.patch(f"/conversations/{group_id}", json={"title": "  New <b>name</b> "})
    assert renamed.status_code == 200 and renamed.json()["title"] == "New name"
    _refused(member.patch(f"/conversations/{group_id}", json={"title": "Mine"}), 403, "FORBIDDEN")
    _refused(admin.patch(f"/conversations/{group_id}", json={"title": ""}), 400, "VALIDATION_ERROR")
    _refused(
        admin.patch(f"/conversations/{group_id}", json={"title": "x" * 101}),
        400,
        "VALIDATION_ERROR",
    )

    lock = f"/conversations/{group_id}/lock"
    _refused(admin.patch(lock, json={"locked": True}), 403, "FORBIDDEN")
    _refused(owner.patch(lock, json={"locked": "maybe"}), 400, "VALIDATION_ERROR")
    locked = owner.patch(lock, json={"locked": True})
    assert locked.status_code == 200 and locked.json()["locked"] is True
    assert member.get(f"/conversations/{group_id}").json()["locked"] is True
    changes = _events(member, since, "conversation_updated")
    assert [(e.get("title"), e.get("locked"), e["actorId"]) for e in changes] == [
        ("New name", None, admin.user_id),
        (None, True, owner.user_id),
    ]


def test_direct_chats_and_outsiders_are_refused(live_server: LiveServer) -> None:
    alice, bob, carol = (register(live_server.url) for _ in range(3))
    chat = alice.direct_with(bob)
    calls = [
        ("POST", f"/conversations/{chat}/members", {"user_ids": [carol.user_id]}),
        ("DELETE", f"/conversations/{chat}/members/{bob.user_id}", None),
        ("DELETE", f"/conversations/{chat}/members/me", None),
        ("POST", f"/conversations/{chat}/leave", None),
        ("PATCH", f"/conversations/{chat}/members/{bob.user_id}/role", {"role": "admin"}),
        ("POST", f"/conversations/{chat}/members/{bob.user_id}/mute", {"until": _soon(hours=1)}),
        ("DELETE", f"/conversations/{chat}/members/{bob.user_id}/mute", None),
        ("POST", f"/conversations/{chat}/members/{bob.user_id}/ban", {"until": None}),
        ("DELETE", f"/conversations/{chat}/members/{bob.user_id}/ban", None),
        ("PATCH", f"/conversations/{chat}/lock", {"locked": True}),
        ("PATCH", f"/conversations/{chat}", {"title": "Ours"}),
    ]
    for method, path, body in calls:
        _refused(alice.request(method, path, json=body), 400, "NOT_A_GROUP")
        _refused(carol.request(method, path, json=body), 403, "NOT_A_MEMBER")
        missing = path.replace(chat, "00000000-0000-0000-0000-000000000000")
        _refused(alice.request(method, missing, json=body), 404, "NOT_FOUND")


def test_members_are_paginated_in_joining_order(live_server: LiveServer) -> None:
    owner = register(live_server.url)
    others = [register(live_server.url) for _ in range(4)]
    group_id = _make_group(owner, *others)
    seen: list[str] = []
    cursor = None
    while True:
        page = owner.get(
            f"/conversations/{group_id}/members",
            params={"limit": 2, **({"cursor": cursor} if cursor else {})},
        ).json()
        seen.extend(m["user"]["id"] for m in page["items"])
        if not page["has_more"]:
            break
        cursor = page["next_cursor"]
    assert sorted(seen) == sorted([owner.user_id, *(o.user_id for o in others)])
    bad = owner.get(f"/conversations/{group_id}/members", params={"cursor": "nonsense"})
    _refused(bad, 400, "VALIDATION_ERROR")


async def test_sockets_follow_membership(live_server: LiveServer, group: Group) -> None:
    group_id, owner, _admin, member = group
    newcomer = register(live_server.url)
    async with (
        connected(live_server, newcomer) as new_sock,
        connected(live_server, member) as old_sock,
    ):
        owner.post(f"/conversations/{group_id}/members", json={"user_ids": [newcomer.user_id]})
        joined = await new_sock.wait("member_joined", lambda d: d["conversationId"] == group_id)
        assert joined["userId"] == newcomer.user_id and joined["eventId"] > 0
        owner.delete(f"/conversations/{group_id}/members/{member.user_id}")
        left = await old_sock.wait("member_left", lambda d: d["conversationId"] == group_id)
        assert left["userId"] == member.user_id and left["reason"] == "removed"
        assert owner.send(group_id, "after the change").status_code == 201
        await new_sock.wait("message_new", lambda d: d["text"] == "after the change")
        # A later event of the removed member's own: a socket receives events in log order, so
        # once it has this one, it would already have had the message.
        assert member.post(f"/users/{owner.user_id}/block").status_code in (200, 201, 204)
        await old_sock.wait("user_blocked")
        assert old_sock.received("message_new", lambda d: d["conversationId"] == group_id) == []


async def test_muted_members_and_locked_groups_cannot_post(
    live_server: LiveServer, group: Group
) -> None:
    group_id, owner, admin, member = group
    earlier = member.send(group_id, "said before the mute")
    assert earlier.status_code == 201, earlier.text
    edit = f"/messages/{earlier.json()['id']}"
    until = _soon(hours=1)
    admin.post(f"/conversations/{group_id}/members/{member.user_id}/mute", json={"until": until})
    _refused(member.patch(edit, json={"text": "changed while muted"}), 403, "MUTED")
    muted = member.send(group_id, "let me speak")
    _refused(muted, 403, "MUTED")
    assert datetime.fromisoformat(muted.json()["until"]) == datetime.fromisoformat(until)
    async with connected(live_server, member) as sock:
        payload = {"conversationId": group_id, "text": "socket too", "clientId": "muted-1"}
        ack = await sock.call("send_message", payload)
    assert ack["error"]["code"] == "MUTED" and ack["error"]["until"]
    assert (
        admin.delete(f"/conversations/{group_id}/members/{member.user_id}/mute").status_code == 200
    )
    assert member.send(group_id, "unmuted").status_code == 201

    assert owner.patch(f"/conversations/{group_id}/lock", json={"locked": True}).status_code == 200
    _refused(member.send(group_id, "locked out"), 403, "LOCKED")
    _refused(member.patch(edit, json={"text": "changed while locked"}), 403, "LOCKED")
    assert admin.send(group_id, "admins still post").status_code == 201
    assert owner.patch(f"/conversations/{group_id}/lock", json={"locked": False}).status_code == 200
    assert member.send(group_id, "open again").status_code == 201
    assert member.patch(edit, json={"text": "changed when allowed"}).status_code == 200
