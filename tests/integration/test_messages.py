"""Messages against the real server (SQLite, then PostgreSQL + Redis): send (idempotent on
client_id, also under concurrency), history, edit, delete, read marks, pins, forward, limits."""

import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.support.api import Account, register
from tests.support.live_server import LiveServer


@pytest.fixture
def pair(live_server: LiveServer) -> tuple[Account, Account, str]:
    """Two new users and their direct chat."""
    alice, bob = register(live_server.url), register(live_server.url)
    return alice, bob, alice.direct_with(bob)


def _group(owner: Account, *members: Account) -> str:
    body = {"type": "private_group", "title": "Group", "member_ids": [m.user_id for m in members]}
    response = owner.post("/conversations", json=body)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def test_send_is_idempotent_on_client_id(pair: tuple[Account, Account, str]) -> None:
    alice, bob, chat = pair
    first = alice.send(chat, "  hello <script>alert(1)</script>&amp; bye\x07 ", client_id="c-1")
    assert first.status_code == 201, first.text
    message = first.json()
    assert message["seq"] == 1 and message["id"] and message["created_at"]
    assert message["text"] == "hello alert(1)& bye"
    assert message["sender_id"] == alice.user_id and message["client_id"] == "c-1"
    retry = alice.send(chat, "a different text", client_id="c-1")
    assert retry.status_code == 200 and retry.json()["id"] == message["id"]
    assert retry.json()["text"] == message["text"]
    same_id_other_sender = bob.send(chat, "bob uses the same client id", client_id="c-1")
    assert same_id_other_sender.status_code == 201
    assert same_id_other_sender.json()["seq"] == 2
    history = bob.get(f"/conversations/{chat}/messages").json()["items"]
    assert [m["seq"] for m in history] == [2, 1]


def test_client_id_reused_in_another_conversation_conflicts(
    live_server: LiveServer, pair: tuple[Account, Account, str]
) -> None:
    alice, _bob, chat = pair
    assert alice.send(chat, "first", client_id="reused").status_code == 201
    other_chat = alice.direct_with(register(live_server.url))
    refused = alice.send(other_chat, "second", client_id="reused")
    assert refused.status_code == 409 and refused.json()["code"] == "CONFLICT"
    assert alice.get(f"/conversations/{other_chat}/messages").json()["items"] == []
    assert alice.send(chat, "first again", client_id="reused").status_code == 200


def test_concurrent_duplicates_and_seqs(pair: tuple[Account, Account, str]) -> None:
    alice, bob, chat = pair

    def send(args: tuple[Account, str]) -> tuple[int, str, int]:
        account, client_id = args
        clone = Account(
            account.base_url,
            account.username,
            account.user_id,
            account.access_token,
            account.refresh_token,
        )
        response = clone.send(chat, f"text {client_id}", client_id=client_id)
        body = response.json()
        return response.status_code, body["id"], body["seq"]

    with ThreadPoolExecutor(max_workers=8) as pool:
        duplicates = list(pool.map(send, [(alice, "same")] * 8))
    assert sorted(status for status, _, _ in duplicates) == [200] * 7 + [201]
    assert len({message_id for _, message_id, _ in duplicates}) == 1
    with ThreadPoolExecutor(max_workers=8) as pool:
        distinct = list(pool.map(send, [(alice if n % 2 else bob, f"c{n}") for n in range(16)]))
    assert sorted(seq for _, _, seq in distinct) == list(range(2, 18))
    assert {status for status, _, _ in distinct} == {201}


def test_history_pages_newest_first(pair: tuple[Account, Account, str]) -> None:
    alice, bob, chat = pair
    for n in range(7):
        assert alice.send(chat, f"m{n}").status_code == 201
    seen: list[int] = []
    cursor = None
    while True:
        params = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        page = bob.get(f"/conversations/{chat}/messages", params=params).json()
        seen.extend(message["seq"] for message in page["items"])
        if not page["has_more"]:
            assert page["next_cursor"] is None
            break
        cursor = page["next_cursor"]
    assert seen == [7, 6, 5, 4, 3, 2, 1]
    assert len(bob.get(f"/conversations/{chat}/messages").json()["items"]) == 7
    for bad in ({"cursor": "abc"}, {"cursor": "-1"}, {"limit": 0}, {"limit": 101}):
        response = bob.get(f"/conversations/{chat}/messages", params=bad)
        assert response.status_code == 400 and response.json()["code"] == "VALIDATION_ERROR"


def test_send_refusals(live_server: LiveServer, pair: tuple[Account, Account, str]) -> None:
    alice, _bob, chat = pair
    outsider = register(live_server.url)
    refused = outsider.send(chat, "let me in")
    assert refused.status_code == 403 and refused.json()["code"] == "NOT_A_MEMBER"
    missing = alice.send(str(uuid.uuid4()), "nowhere")
    assert missing.status_code == 404 and missing.json()["code"] == "NOT_FOUND"
    other_chat = outsider.direct_with(alice)
    foreign = outsider.send(other_chat, "elsewhere").json()["id"]
    wrong_reply = alice.send(chat, "reply", reply_to_id=foreign)
    assert wrong_reply.status_code == 404
    base = {"conversation_id": chat, "client_id": "x1"}
    for body in (
        {**base, "text": 12},
        {**base, "text": "x" * 4001},
        {**base, "text": "<p></p> \n\t"},
        {**base, "text": "ok", "unknown": 1},
        {**base, "text": "ok", "client_id": "bad id!"},
        {"conversation_id": chat, "text": "no client id"},
        {**base, "text": None},
    ):
        response = alice.post("/messages", json=body)
        assert response.status_code == 400, (body, response.text)
        assert response.json()["code"] == "VALIDATION_ERROR"
    not_json = alice.post(
        "/messages", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert not_json.status_code == 400
    replied = alice.send(chat, "reply ok", reply_to_id=alice.send(chat, "first").json()["id"])
    assert replied.status_code == 201 and replied.json()["reply_to_id"]


def test_rate_limit_30_per_minute(pair: tuple[Account, Account, str]) -> None:
    alice, _bob, chat = pair
    for n in range(30):
        assert alice.send(chat, f"burst {n}").status_code == 201
    limited = alice.send(chat, "one too many")
    assert limited.status_code == 429
    assert limited.json()["code"] == "RATE_LIMITED" and limited.json()["retryAfter"] >= 1
    assert int(limited.headers["retry-after"]) >= 1


def test_edit_keeps_history_sender_only(pair: tuple[Account, Account, str]) -> None:
    alice, bob, chat = pair
    message = alice.send(chat, "first version").json()
    by_bob = bob.patch(f"/messages/{message['id']}", json={"text": "hijack"})
    assert by_bob.status_code == 403 and by_bob.json()["code"] == "FORBIDDEN"
    edited = alice.patch(f"/messages/{message['id']}", json={"text": "second <i>version</i>"})
    assert edited.status_code == 200
    assert edited.json()["text"] == "second version" and edited.json()["edited_at"]
    alice.patch(f"/messages/{message['id']}", json={"text": "third version"})
    edits = bob.get(f"/messages/{message['id']}/edits")
    assert edits.status_code == 200
    assert [edit["text"] for edit in edits.json()] == ["first version", "second version"]
    assert alice.patch(f"/messages/{message['id']}", json={"text": ""}).status_code == 400
    assert alice.patch("/messages/unknown-id", json={"text": "x"}).status_code == 404


def test_delete_is_soft_and_role_checked(
    live_server: LiveServer, pair: tuple[Account, Account, str]
) -> None:
    alice, bob, chat = pair
    message = alice.send(chat, "secret words").json()
    alice.patch(f"/messages/{message['id']}", json={"text": "secret words edited"})
    path = f"/conversations/{chat}/messages/{message['id']}"
    by_bob = bob.delete(path)
    assert by_bob.status_code == 403 and by_bob.json()["code"] == "FORBIDDEN"
    assert (
        alice.delete(
            f"/conversations/{bob.direct_with(register(live_server.url))}/messages/{message['id']}"
        ).status_code
        == 404
    )
    assert alice.delete(path).status_code == 204
    assert alice.delete(path).status_code == 204
    shown = bob.get(f"/conversations/{chat}/messages").json()["items"][0]
    assert shown["id"] == message["id"] and shown["text"] is None and shown["deleted_at"]
    assert bob.get(f"/messages/{message['id']}/edits").json() == []
    gone = alice.patch(f"/messages/{message['id']}", json={"text": "back"})
    assert gone.status_code == 409 and gone.json()["code"] == "CONFLICT"

    carol = register(live_server.url)
    group = _group(alice, bob, carol)
    by_carol = carol.send(group, "from carol").json()
    assert bob.delete(f"/conversations/{group}/messages/{by_carol['id']}").status_code == 403
    assert alice.delete(f"/conversations/{group}/messages/{by_carol['id']}").status_code == 204


def test_read_marks_only_move_forward(pair: tuple[Account, Account, str]) -> None:
    alice, bob, chat = pair
    ids = [alice.send(chat, f"r{n}").json()["id"] for n in range(3)]
    assert bob.post(f"/conversations/{chat}/read", json={"message_id": ids[2]}).status_code == 204
    assert bob.post(f"/conversations/{chat}/read", json={"message_id": ids[0]}).status_code == 204
    members = {
        m["user"]["id"]: m for m in alice.get(f"/conversations/{chat}/members").json()["items"]
    }
    assert members[bob.user_id]["last_read_seq"] == 3
    assert members[bob.user_id]["last_delivered_seq"] == 3
    settings = bob.get(f"/conversations/{chat}/settings").json()
    assert settings["last_read_message_id"] == ids[2]
    unknown = bob.post(f"/conversations/{chat}/read", json={"message_id": "nope"})
    assert unknown.status_code == 404
    assert bob.post(f"/conversations/{chat}/read", json={}).status_code == 400


def test_receipts_say_who_got_and_read_a_message_and_when(live_server: LiveServer) -> None:
    alice, bob, carol, outsider = (register(live_server.url) for _ in range(4))
    group = _group(alice, bob, carol)
    first = alice.send(group, "first").json()["id"]
    second = alice.send(group, "second").json()["id"]
    unread = {"delivered": False, "read": False, "delivered_at": None, "read_at": None}
    response = alice.get(f"/messages/{first}/receipts")
    assert response.status_code == 200, response.text
    assert {r["user"]["id"]: {k: r[k] for k in unread} for r in response.json()} == {
        bob.user_id: unread,
        carol.user_id: unread,
    }, "everyone but the sender"

    assert bob.post(f"/conversations/{group}/read", json={"message_id": second}).status_code == 204
    receipts = {r["user"]["id"]: r for r in carol.get(f"/messages/{first}/receipts").json()}
    assert set(receipts) == {bob.user_id, carol.user_id}
    seen = receipts[bob.user_id]
    assert seen["delivered"] and seen["read"] and seen["read_at"] is not None
    assert seen["delivered_at"] == seen["read_at"], "reading the later message covers the first"
    assert receipts[carol.user_id]["read_at"] is None

    third = alice.send(group, "third").json()["id"]
    assert bob.post(f"/conversations/{group}/read", json={"message_id": third}).status_code == 204
    again = {r["user"]["id"]: r for r in alice.get(f"/messages/{first}/receipts").json()}
    assert again[bob.user_id]["read_at"] == seen["read_at"], "the first receipt's time stays"

    assert outsider.get(f"/messages/{first}/receipts").status_code == 404
    missing = alice.get("/messages/nope/receipts")
    assert missing.status_code == 404 and missing.json()["code"] == "NOT_FOUND"


def test_pins_direct_both_group_managers(
    live_server: LiveServer, pair: tuple[Account, Account, str]
) -> None:
    alice, bob, chat = pair
    message = alice.send(chat, "pin me").json()
    pinned = bob.post(f"/conversations/{chat}/messages/{message['id']}/pin")
    assert pinned.status_code == 200 and pinned.json()["pinned_message_ids"] == [message["id"]]
    assert alice.post(f"/conversations/{chat}/messages/{message['id']}/pin").status_code == 200
    assert alice.get(f"/conversations/{chat}").json()["pinned_message_ids"] == [message["id"]]
    assert alice.delete(f"/conversations/{chat}/messages/{message['id']}/pin").status_code == 204
    assert alice.get(f"/conversations/{chat}").json()["pinned_message_ids"] == []

    group = _group(alice, bob)
    in_group = bob.send(group, "group message").json()
    by_member = bob.post(f"/conversations/{group}/messages/{in_group['id']}/pin")
    assert by_member.status_code == 403 and by_member.json()["code"] == "FORBIDDEN"
    assert alice.post(f"/conversations/{group}/messages/{in_group['id']}/pin").status_code == 200
    assert alice.post(f"/conversations/{group}/messages/{message['id']}/pin").status_code == 404


def test_forward_rules(live_server: LiveServer, pair: tuple[Account, Account, str]) -> None:
    alice, bob, chat = pair
    carol = register(live_server.url, display_name="Carol")
    original = alice.send(chat, "worth forwarding").json()
    group = _group(bob, carol)
    other = bob.direct_with(carol)
    forwarded = bob.post(
        "/messages/forward",
        json={"message_ids": [original["id"]], "target_conversation_ids": [group, other]},
    )
    assert forwarded.status_code == 201, forwarded.text
    copies = forwarded.json()["messages"]
    assert [copy["conversation_id"] for copy in copies] == [group, other]
    for copy in copies:
        assert copy["text"] == "worth forwarding" and copy["sender_id"] == bob.user_id
        assert copy["forwarded_from"]["message_id"] == original["id"]
        assert copy["forwarded_from"]["sender_name"] == alice.username.title()
    again = carol.post(
        "/messages/forward",
        json={"message_ids": [copies[0]["id"]], "target_conversation_ids": [other]},
    )
    assert again.json()["messages"][0]["forwarded_from"]["message_id"] == original["id"]

    not_member_of_target = alice.post(
        "/messages/forward",
        json={"message_ids": [original["id"]], "target_conversation_ids": [group]},
    )
    assert not_member_of_target.status_code == 403
    assert not_member_of_target.json()["code"] == "NOT_A_MEMBER"
    not_member_of_source = carol.post(
        "/messages/forward",
        json={"message_ids": [original["id"]], "target_conversation_ids": [other]},
    )
    assert not_member_of_source.status_code == 404
    six = bob.post(
        "/messages/forward",
        json={"message_ids": [original["id"]], "target_conversation_ids": [group] * 6},
    )
    assert six.status_code == 400 and six.json()["code"] == "VALIDATION_ERROR"
    empty = bob.post(
        "/messages/forward", json={"message_ids": [], "target_conversation_ids": [group]}
    )
    assert empty.status_code == 400


def test_one_message_by_id_for_members_only(
    live_server: LiveServer, pair: tuple[Account, Account, str]
) -> None:
    alice, bob, chat = pair
    first = alice.send(chat, "an old message").json()
    reply = bob.send(chat, "the answer", reply_to_id=first["id"]).json()
    assert bob.post(f"/messages/{first['id']}/reactions", json={"emoji": "👍"}).status_code == 200
    as_bob = bob.get(f"/messages/{first['id']}")
    assert as_bob.status_code == 200, as_bob.text
    listed = bob.get(f"/conversations/{chat}/messages").json()["items"]
    assert as_bob.json() == next(m for m in listed if m["id"] == first["id"])
    assert as_bob.json()["reactions"][0]["reacted_by_me"] is True
    assert alice.get(f"/messages/{first['id']}").json()["reactions"][0]["reacted_by_me"] is False
    assert alice.get(f"/messages/{reply['id']}").json()["reply_to_id"] == first["id"]

    assert alice.delete(f"/conversations/{chat}/messages/{first['id']}").status_code == 204
    deleted = bob.get(f"/messages/{first['id']}").json()
    assert deleted["deleted_at"] and deleted["text"] is None and deleted["seq"] == 1

    outsider = register(live_server.url).get(f"/messages/{reply['id']}")
    assert outsider.status_code == 404 and outsider.json()["code"] == "NOT_FOUND"
    unknown = bob.get(f"/messages/{uuid.uuid4()}")
    assert unknown.status_code == 404 and unknown.json()["code"] == "NOT_FOUND"
