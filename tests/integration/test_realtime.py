"""Socket.IO against the real server (SQLite, and PostgreSQL + Redis): handshake auth, every
client event's ack and refusals, delivery to every member's sockets, typing and presence."""

import asyncio
import itertools
import secrets
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from server.services.tokens import TokenService
from tests.conftest import require_postgres, start_server
from tests.support.api import Account, register
from tests.support.live_server import LiveServer, backend_env, postgres_database
from tests.support.sockets import (
    WAIT,
    Match,
    Sock,
    connected,
    error_code,
    refused,
    send_payload,
)

NODE_START = 120.0
"""Upper bound for a node to start (imports and migrations are slow on a loaded machine)."""


@asynccontextmanager
async def sockets_of(
    server: LiveServer, trio: tuple[Account, Account, Account, str]
) -> AsyncIterator[tuple[Sock, Sock, Sock]]:
    """One connected socket each for the trio's alice, bob and carol."""
    alice, bob, carol, _conversation_id = trio
    async with (
        connected(server, alice) as alice_sock,
        connected(server, bob) as bob_sock,
        connected(server, carol) as carol_sock,
    ):
        yield alice_sock, bob_sock, carol_sock


@pytest.fixture
def trio(live_server: LiveServer) -> tuple[Account, Account, Account, str]:
    """alice and bob with a direct chat, and carol (a stranger to it)."""
    alice, bob, carol = (register(live_server.url) for _ in range(3))
    return alice, bob, carol, alice.direct_with(bob)


# --- handshake -------------------------------------------------------------------------------


async def test_missing_token_is_refused_unauthorized(live_server: LiveServer) -> None:
    attempts: list[dict[str, Any]] = [{}, {"auth": {}}, {"auth": {"token": ""}}]
    for kwargs in attempts:
        refusal = await refused(live_server, **kwargs)
        assert refusal["message"] == "UNAUTHORIZED"
        assert refusal["data"]["code"] == "UNAUTHORIZED"


async def test_bad_or_expired_token_is_refused_invalid_token(live_server: LiveServer) -> None:
    account = register(live_server.url)
    secret = (live_server.data_dir / "secret.key").read_text().strip()
    expired = TokenService(secret, access_ttl=-60, refresh_ttl=60).issue_access(account.user_id)
    forged = TokenService("not-the-servers-key-" * 3, 900, 60).issue_access(account.user_id)
    for token in ("garbage", expired, forged, account.refresh_token):
        refusal = await refused(live_server, auth={"token": token})
        assert refusal["message"] == "INVALID_TOKEN", token
        assert refusal["data"]["code"] == "INVALID_TOKEN"
    refusal = await refused(live_server, headers={"Authorization": "Bearer garbage"})
    assert refusal["message"] == "INVALID_TOKEN"


async def test_a_socket_whose_token_expires_is_told_and_closed(
    live_server: LiveServer, trio: tuple[Account, Account, Account, str]
) -> None:
    alice, _bob, _carol, conversation_id = trio
    secret = (live_server.data_dir / "secret.key").read_text().strip()
    short_lived = TokenService(secret, access_ttl=2, refresh_ttl=60).issue_access(alice.user_id)
    async with connected(live_server, None, auth={"token": short_lived}) as sock:
        typing = {"conversationId": conversation_id}
        deadline = time.monotonic() + WAIT
        while "error" not in (ack := await sock.call("typing_start", typing)):
            assert time.monotonic() < deadline, "the expired token was never noticed"
            await asyncio.sleep(0.2)
        assert ack["error"]["code"] == "INVALID_TOKEN"
        while sock.sio.connected:
            assert time.monotonic() < deadline, "the socket stayed open"
            await asyncio.sleep(0.05)


async def test_bearer_header_is_accepted(live_server: LiveServer) -> None:
    account = register(live_server.url)
    headers = {"Authorization": f"Bearer {account.access_token}"}
    async with connected(live_server, None, headers=headers) as sock:
        assert sock.sio.connected


# --- payload validation ----------------------------------------------------------------------

CLIENT_EVENTS = [
    "send_message",
    "edit_message",
    "delete_message",
    "add_reaction",
    "remove_reaction",
    "typing_start",
    "typing_stop",
    "mark_read",
    "message_delivered",
    "forward_message",
    "set_presence",
]


async def test_malformed_payloads_are_answered_validation_error(
    live_server: LiveServer, trio: tuple[Account, Account, Account, str]
) -> None:
    alice, _bob, _carol, conversation_id = trio
    async with connected(live_server, alice) as sock:
        for event in CLIENT_EVENTS:
            for bad in ("text", 42, ["a", "b"], None, {}, {"unexpected": 1}):
                ack = await sock.call(event, bad)
                assert error_code(ack) == "VALIDATION_ERROR", (event, bad, ack)
            ack = await sock.call(event, {"a": 1}, {"b": 2})
            assert error_code(ack) == "VALIDATION_ERROR", (event, "two arguments")
        bad_sends = [
            send_payload(conversation_id, text=""),
            send_payload(conversation_id, text="x" * 4001),
            send_payload(conversation_id, text=123),
            send_payload(conversation_id, extra_field=True),
            send_payload("../../etc/passwd"),
            {"conversationId": conversation_id, "text": "no client id"},
        ]
        for payload in bad_sends:
            assert error_code(await sock.call("send_message", payload)) == "VALIDATION_ERROR"
        ack = await sock.call("forward_message", {"messageIds": [], "targetConversationIds": []})
        assert error_code(ack) == "VALIDATION_ERROR"
        ack = await sock.call("set_presence", {"status": "offline"})
        assert error_code(ack) == "VALIDATION_ERROR"
        assert error_code(await sock.call("no_such_event", {})) == "VALIDATION_ERROR"
        # the connection survived all of it
        ack = await sock.call("send_message", send_payload(conversation_id))
        assert ack["conversationId"] == conversation_id
        assert sock.sio.connected


# --- messages --------------------------------------------------------------------------------


async def test_send_reaches_members_and_the_senders_other_device(
    live_server: LiveServer, trio: tuple[Account, Account, Account, str]
) -> None:
    alice, bob, carol, conversation_id = trio
    async with (
        connected(live_server, alice) as phone,
        connected(live_server, alice) as laptop,
        connected(live_server, bob) as bob_sock,
        connected(live_server, carol) as carol_sock,
    ):
        payload = send_payload(conversation_id, text="hi <b>bob</b>")
        ack = await phone.call("send_message", payload)
        assert "error" not in ack, ack
        assert ack["conversationId"] == conversation_id
        assert ack["senderId"] == alice.user_id
        assert ack["clientId"] == payload["clientId"]
        assert ack["text"] == "hi bob"
        assert isinstance(ack["seq"], int) and ack["createdAt"]

        def same(data: Any) -> bool:
            return bool(data["id"] == ack["id"])

        for sock in (bob_sock, laptop, phone):
            event = await sock.wait("message_new", same)
            assert isinstance(event["eventId"], int) and event["eventId"] > 0
            assert event["text"] == "hi bob"
            assert event["senderId"] == alice.user_id

        again = await phone.call("send_message", payload)
        assert again["id"] == ack["id"] and again["seq"] == ack["seq"]
        # carol is in no room of this conversation: a round trip of hers proves nothing came
        other = carol.direct_with(register(live_server.url))
        await carol_sock.call("typing_stop", {"conversationId": other})
        assert carol_sock.received("message_new") == []
        assert len(bob_sock.received("message_new", same)) == 1


async def test_a_sockets_events_are_handled_in_arrival_order(
    live_server: LiveServer, trio: tuple[Account, Account, Account, str]
) -> None:
    alice, _bob, _carol, conversation_id = trio
    async with connected(live_server, alice) as sock:
        texts = [f"message {n}" for n in range(12)]
        acks = await asyncio.gather(
            *(sock.call("send_message", send_payload(conversation_id, text)) for text in texts)
        )
        assert [ack["text"] for ack in acks] == texts
        seqs = [ack["seq"] for ack in acks]
        assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)


async def test_pipelined_sends_are_answered_one_by_one(
    live_server: LiveServer, trio: tuple[Account, Account, Account, str]
) -> None:
    """Sends queued together (they may share one batch) keep their order, and a refused one
    (a reply to a message that does not exist, a client id reused in the same burst) fails
    alone."""
    alice, _bob, _carol, conversation_id = trio
    async with connected(live_server, alice) as sock:
        payloads = [send_payload(conversation_id, f"burst {n}") for n in range(6)]
        payloads[2]["replyToId"] = uuid.uuid4().hex
        payloads[4]["clientId"] = payloads[3]["clientId"]
        acks = await asyncio.gather(*(sock.call("send_message", p) for p in payloads))
        assert error_code(acks[2]) == "NOT_FOUND"
        assert acks[4]["id"] == acks[3]["id"], "the repeated client id answers the stored one"
        stored = [acks[n] for n in (0, 1, 3, 5)]
        assert [ack["text"] for ack in stored] == ["burst 0", "burst 1", "burst 3", "burst 5"]
        seqs = [ack["seq"] for ack in stored]
        assert seqs == list(range(seqs[0], seqs[0] + 4)), "no gaps, no duplicates"


async def test_send_refusals(
    live_server: LiveServer, trio: tuple[Account, Account, Account, str]
) -> None:
    _alice, _bob, carol, conversation_id = trio
    async with connected(live_server, carol) as sock:
        ack = await sock.call("send_message", send_payload(conversation_id))
        assert error_code(ack) == "NOT_A_MEMBER"
        ack = await sock.call("send_message", send_payload(uuid.uuid4().hex))
        assert error_code(ack) == "NOT_FOUND"


async def test_socket_joins_a_conversation_created_after_it_connected(
    live_server: LiveServer,
) -> None:
    alice, bob = register(live_server.url), register(live_server.url)
    async with connected(live_server, alice) as sock:
        conversation_id = bob.direct_with(alice)
        response = bob.send(conversation_id, "first words")
        assert response.status_code == 201, response.text
        event = await sock.wait("message_new", lambda d: d["conversationId"] == conversation_id)
        assert event["text"] == "first words"


async def test_edit_message(
    live_server: LiveServer, trio: tuple[Account, Account, Account, str]
) -> None:
    _alice, _bob, _carol, conversation_id = trio
    async with sockets_of(live_server, trio) as (alice_sock, bob_sock, carol_sock):
        sent = await alice_sock.call("send_message", send_payload(conversation_id, "frist"))
        ack = await alice_sock.call("edit_message", {"messageId": sent["id"], "text": "first"})
        assert ack["id"] == sent["id"] and ack["text"] == "first" and ack["editedAt"]
        event = await bob_sock.wait("message_edited", lambda d: d["id"] == sent["id"])
        assert event["text"] == "first" and event["eventId"] > 0

        wrong = await bob_sock.call("edit_message", {"messageId": sent["id"], "text": "mine"})
        assert error_code(wrong) == "FORBIDDEN"
        outsider = await carol_sock.call("edit_message", {"messageId": sent["id"], "text": "x"})
        assert error_code(outsider) == "NOT_FOUND"
        empty = await alice_sock.call("edit_message", {"messageId": sent["id"], "text": ""})
        assert error_code(empty) == "VALIDATION_ERROR"


async def test_delete_message(
    live_server: LiveServer, trio: tuple[Account, Account, Account, str]
) -> None:
    alice, _bob, _carol, conversation_id = trio
    async with sockets_of(live_server, trio) as (alice_sock, bob_sock, carol_sock):
        sent = await alice_sock.call("send_message", send_payload(conversation_id))
        target = {"messageId": sent["id"], "conversationId": conversation_id}
        assert error_code(await bob_sock.call("delete_message", target)) == "FORBIDDEN"
        assert error_code(await carol_sock.call("delete_message", target)) == "NOT_FOUND"
        elsewhere = {"messageId": sent["id"], "conversationId": uuid.uuid4().hex}
        assert error_code(await alice_sock.call("delete_message", elsewhere)) == "NOT_FOUND"

        assert await alice_sock.call("delete_message", target) == {"ok": True}
        event = await bob_sock.wait("message_deleted", lambda d: d["messageId"] == sent["id"])
        assert event["conversationId"] == conversation_id
        assert event["deletedBy"] == alice.user_id and event["eventId"] > 0
        assert await alice_sock.call("delete_message", {"messageId": sent["id"]}) == {"ok": True}


async def test_reactions(
    live_server: LiveServer, trio: tuple[Account, Account, Account, str]
) -> None:
    _alice, bob, _carol, conversation_id = trio
    async with sockets_of(live_server, trio) as (alice_sock, bob_sock, carol_sock):
        sent = await alice_sock.call("send_message", send_payload(conversation_id))
        like = {"messageId": sent["id"], "emoji": "👍"}
        ack = await bob_sock.call("add_reaction", like)
        assert ack == {
            "reactions": [
                {"emoji": "👍", "count": 1, "reactedByMe": True, "userIds": [bob.user_id]}
            ]
        }
        assert await bob_sock.call("add_reaction", like) == ack
        event = await alice_sock.wait("reaction_added", lambda d: d["messageId"] == sent["id"])
        assert event["userId"] == bob.user_id and event["emoji"] == "👍"
        assert event["reactions"][0]["count"] == 1 and event["eventId"] > 0

        assert error_code(await carol_sock.call("add_reaction", like)) == "NOT_FOUND"
        bad = {"messageId": sent["id"], "emoji": "🦄🦄"}
        assert error_code(await bob_sock.call("add_reaction", bad)) == "VALIDATION_ERROR"

        assert await bob_sock.call("remove_reaction", like) == {"reactions": []}
        removed = await alice_sock.wait("reaction_removed", lambda d: d["messageId"] == sent["id"])
        assert removed["reactions"] == [] and removed["userId"] == bob.user_id
        assert error_code(await carol_sock.call("remove_reaction", like)) == "NOT_FOUND"


async def test_receipts(
    live_server: LiveServer, trio: tuple[Account, Account, Account, str]
) -> None:
    _alice, bob, _carol, conversation_id = trio
    async with sockets_of(live_server, trio) as (alice_sock, bob_sock, carol_sock):
        sent = await alice_sock.call("send_message", send_payload(conversation_id))
        receipt = {"conversationId": conversation_id, "messageId": sent["id"]}
        assert await bob_sock.call("message_delivered", receipt) == {"ok": True}
        delivered = await alice_sock.wait("message_delivered", lambda d: d["userId"] == bob.user_id)
        assert delivered["seq"] == sent["seq"] and delivered["eventId"] > 0
        assert await bob_sock.call("mark_read", receipt) == {"ok": True}
        read = await alice_sock.wait("message_read", lambda d: d["userId"] == bob.user_id)
        assert read["messageId"] == sent["id"] and read["seq"] == sent["seq"]

        assert error_code(await carol_sock.call("mark_read", receipt)) == "NOT_A_MEMBER"
        assert error_code(await carol_sock.call("message_delivered", receipt)) == "NOT_A_MEMBER"
        unknown = {"conversationId": conversation_id, "messageId": uuid.uuid4().hex}
        assert error_code(await bob_sock.call("mark_read", unknown)) == "NOT_FOUND"


async def test_forward_message(
    live_server: LiveServer, trio: tuple[Account, Account, Account, str]
) -> None:
    alice, _bob, carol, conversation_id = trio
    with_carol = alice.direct_with(carol)
    async with (
        connected(live_server, alice) as alice_sock,
        connected(live_server, carol) as carol_sock,
    ):
        sent = await alice_sock.call("send_message", send_payload(conversation_id, "pass it on"))
        body = {"messageIds": [sent["id"]], "targetConversationIds": [with_carol]}
        ack = await alice_sock.call("forward_message", body)
        assert [m["conversationId"] for m in ack["messages"]] == [with_carol]
        copy = ack["messages"][0]
        assert copy["text"] == "pass it on" and copy["forwardedFrom"]["senderName"]
        event = await carol_sock.wait("message_new", lambda d: d["id"] == copy["id"])
        assert event["eventId"] > 0

        steal = {"messageIds": [sent["id"]], "targetConversationIds": [with_carol]}
        assert error_code(await carol_sock.call("forward_message", steal)) == "NOT_FOUND"
        outside = {"messageIds": [sent["id"]], "targetConversationIds": [uuid.uuid4().hex]}
        assert error_code(await alice_sock.call("forward_message", outside)) in (
            "NOT_FOUND",
            "NOT_A_MEMBER",
        )


async def test_blocked_pairs_cannot_send_react_or_forward_either_way(
    live_server: LiveServer, trio: tuple[Account, Account, Account, str]
) -> None:
    alice, bob, carol, conversation_id = trio
    async with (
        connected(live_server, alice) as alice_sock,
        connected(live_server, bob) as bob_sock,
    ):
        sent = await bob_sock.call("send_message", send_payload(conversation_id))
        elsewhere: dict[str, str] = {}
        for account in (alice, bob):
            response = carol.send(carol.direct_with(account), "worth forwarding")
            assert response.status_code == 201, response.text
            elsewhere[account.user_id] = response.json()["id"]

        response = alice.post(f"/users/{bob.user_id}/block")
        assert response.status_code in (200, 201, 204), response.text
        for account, sock in ((alice, alice_sock), (bob, bob_sock)):
            ack = await sock.call("send_message", send_payload(conversation_id))
            assert error_code(ack) == "BLOCKED", account.username
            like = {"messageId": sent["id"], "emoji": "👍"}
            assert error_code(await sock.call("add_reaction", like)) == "BLOCKED"
            forward = {
                "messageIds": [elsewhere[account.user_id]],
                "targetConversationIds": [conversation_id],
            }
            assert error_code(await sock.call("forward_message", forward)) == "BLOCKED"

        response = alice.delete(f"/users/{bob.user_id}/block")
        assert response.status_code in (200, 204), response.text
        ack = await bob_sock.call("send_message", send_payload(conversation_id, "unblocked"))
        assert ack["text"] == "unblocked"


# --- typing ----------------------------------------------------------------------------------


async def test_typing_indicator_start_stop_and_expiry(
    live_server: LiveServer, trio: tuple[Account, Account, Account, str]
) -> None:
    alice, bob, carol, conversation_id = trio
    async with (
        connected(live_server, alice) as alice_sock,
        connected(live_server, alice) as alice_laptop,
        connected(live_server, bob) as bob_sock,
        connected(live_server, carol) as carol_sock,
    ):
        typing = {"conversationId": conversation_id}
        assert await alice_sock.call("typing_start", typing) == {"ok": True}
        started = await bob_sock.wait("typing_indicator", lambda d: d["isTyping"])
        assert started == {
            "conversationId": conversation_id,
            "userId": alice.user_id,
            "displayName": alice.username.title(),
            "isTyping": True,
            "ttl": 3.0,
        }
        assert await alice_sock.call("typing_stop", typing) == {"ok": True}
        await bob_sock.wait("typing_indicator", lambda d: not d["isTyping"])

        # not renewed: the server ends it after the ttl
        assert await alice_sock.call("typing_start", typing) == {"ok": True}
        await bob_sock.wait("typing_indicator", lambda d: d["isTyping"], count=2)
        await bob_sock.wait("typing_indicator", lambda d: not d["isTyping"], count=2)
        # the typist's own devices never get it (a round trip flushes anything queued to them)
        await alice_laptop.call("typing_stop", typing)
        await alice_sock.call("typing_stop", typing)
        assert alice_laptop.received("typing_indicator") == []
        assert alice_sock.received("typing_indicator") == []

        refusal = await carol_sock.call("typing_start", typing)
        assert error_code(refusal) == "NOT_A_MEMBER"
        assert error_code(await carol_sock.call("typing_stop", typing)) == "NOT_A_MEMBER"


async def test_typing_ends_when_the_socket_closes(
    live_server: LiveServer, trio: tuple[Account, Account, Account, str]
) -> None:
    alice, bob, _carol, conversation_id = trio
    async with connected(live_server, bob) as bob_sock:
        async with connected(live_server, alice) as alice_sock:
            await alice_sock.call("typing_start", {"conversationId": conversation_id})
            await bob_sock.wait("typing_indicator", lambda d: d["isTyping"])
        stopped = await bob_sock.wait("typing_indicator", lambda d: not d["isTyping"])
        assert stopped["userId"] == alice.user_id


# --- presence --------------------------------------------------------------------------------


def presence_of(user: Account, status: str) -> Match:
    """Matches a ``presence_update`` of ``user`` with ``status``."""
    return lambda d: d["userId"] == user.user_id and d["status"] == status


def status_changes(sock: Sock, user: Account) -> list[tuple[float, str]]:
    """``(received at, status)`` of each ``presence_update`` of ``user`` that changed the status
    (a repeat is harmless: the snapshot a new socket gets can overlap a live update)."""
    changes: list[tuple[float, str]] = []
    for at, data in sock.events["presence_update"]:
        if data["userId"] == user.user_id and (not changes or changes[-1][1] != data["status"]):
            changes.append((at, data["status"]))
    return changes


async def statuses_after(sock: Sock, user: Account, count: int) -> list[str]:
    """Wait until ``user``'s status changed ``count`` times at ``sock``; return the statuses."""
    await sock.until(lambda: len(status_changes(sock, user)) >= count)
    return [status for _at, status in status_changes(sock, user)]


async def test_presence_online_away_offline_throttled(
    live_server: LiveServer, trio: tuple[Account, Account, Account, str]
) -> None:
    alice, bob, carol, _conversation_id = trio
    async with connected(live_server, bob) as bob_sock, connected(live_server, carol) as carol_sock:
        async with connected(live_server, alice) as alice_sock:
            await bob_sock.wait("presence_update", presence_of(alice, "online"))
            async with connected(live_server, bob) as bob_tablet:
                # a socket starts with its contacts' presence
                await bob_tablet.wait("presence_update", presence_of(alice, "online"))
            assert await alice_sock.call("set_presence", {"status": "away"}) == {"ok": True}
            await statuses_after(bob_sock, alice, 2)
            async with connected(live_server, alice):
                # one online socket makes the user online again
                await statuses_after(bob_sock, alice, 3)
            await statuses_after(bob_sock, alice, 4)
        offline = await bob_sock.wait("presence_update", presence_of(alice, "offline"))
        assert offline["lastSeenAt"]
        # carol shares no conversation with alice
        assert carol_sock.received("presence_update", lambda d: d["userId"] == alice.user_id) == []

    changes = status_changes(bob_sock, alice)
    assert [status for _at, status in changes] == ["online", "away", "online", "away", "offline"]
    times = [at for at, _status in changes]
    assert all(later - earlier > 4.0 for earlier, later in itertools.pairwise(times))


async def test_presence_flap_inside_the_window_sends_the_final_state_only(
    live_server: LiveServer, trio: tuple[Account, Account, Account, str]
) -> None:
    alice, bob, _carol, _conversation_id = trio
    async with connected(live_server, bob) as bob_sock:
        async with connected(live_server, alice):
            await bob_sock.wait("presence_update", presence_of(alice, "online"))
        async with connected(live_server, alice):
            pass
        # offline -> online -> offline inside the window: the trailing emit sends "offline" once
        await bob_sock.wait("presence_update", presence_of(alice, "offline"))
        assert [status for _at, status in status_changes(bob_sock, alice)] == ["online", "offline"]


# --- two nodes (PostgreSQL + Redis) -----------------------------------------------------------


@pytest.fixture(scope="module")
def two_nodes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, LiveServer]]:
    """Two servers sharing a PostgreSQL database, Redis and secret key."""
    require_postgres()
    root = tmp_path_factory.mktemp("two_nodes")
    with postgres_database() as url:
        env = {**backend_env("postgres", url), "OPENCHAT_SECRET_KEY": secrets.token_urlsafe(32)}
        first, second = LiveServer(root / "a", env), LiveServer(root / "b", env)
        first.start(NODE_START)  # one at a time: the first one migrates the empty database
        try:
            second.start(NODE_START)
            yield first, second
        finally:
            second.stop()
            first.stop()


async def test_presence_and_typing_count_sockets_on_every_node(
    two_nodes: tuple[LiveServer, LiveServer],
) -> None:
    first, second = two_nodes
    alice, bob = register(first.url), register(first.url)
    conversation_id = alice.direct_with(bob)
    typing = {"conversationId": conversation_id}
    async with (
        connected(first, bob) as bob_first,
        connected(second, bob) as bob_second,
        connected(second, alice) as alice_second,
    ):
        async with connected(first, alice) as alice_first:
            await bob_first.wait("presence_update", presence_of(alice, "online"))
            # typing from node one reaches bob on both nodes, never alice's socket on node two
            assert await alice_first.call("typing_start", typing) == {"ok": True}
            await bob_first.wait("typing_indicator", lambda d: d["isTyping"])
            await bob_second.wait("typing_indicator", lambda d: d["isTyping"])
            await alice_second.call("set_presence", {"status": "away"})
            assert alice_second.received("typing_indicator") == []
        # alice's only online socket closed; her away socket on node two still counts, so she is
        # away, not offline (the throttle's trailing emit sends the state at the window's end)
        for sock in (bob_first, bob_second):
            assert await statuses_after(sock, alice, 2) == ["online", "away"]


# --- rate limit ------------------------------------------------------------------------------


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def limited_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """A server allowing 3 messages per minute per user."""
    path: Path = tmp_path_factory.mktemp("limited")
    yield from start_server(path, request.param, env={"OPENCHAT_MESSAGES_PER_MINUTE": "3"})


async def test_rate_limit_answers_rate_limited_with_retry_after(
    limited_server: LiveServer,
) -> None:
    alice, bob = register(limited_server.url), register(limited_server.url)
    conversation_id = alice.direct_with(bob)
    async with connected(limited_server, alice) as sock:
        for _ in range(3):
            ack = await sock.call("send_message", send_payload(conversation_id))
            assert "error" not in ack, ack
        ack = await sock.call("send_message", send_payload(conversation_id))
        assert error_code(ack) == "RATE_LIMITED"
        assert isinstance(ack["error"]["retryAfter"], int) and 1 <= ack["error"]["retryAfter"] <= 60
        assert sock.sio.connected


async def test_only_stored_messages_count_against_the_rate_limit(
    limited_server: LiveServer,
) -> None:
    alice, bob, carol = (register(limited_server.url) for _ in range(3))
    chat, not_hers = alice.direct_with(bob), bob.direct_with(carol)
    async with connected(limited_server, alice) as sock:
        first = send_payload(chat)
        assert "error" not in await sock.call("send_message", first)
        for _ in range(3):
            refused = await sock.call("send_message", send_payload(not_hers))
            assert error_code(refused) == "NOT_A_MEMBER"
            again = await sock.call("send_message", first)
            assert "error" not in again, "a retry answers with the stored message"
        for _ in range(2):
            assert "error" not in await sock.call("send_message", send_payload(chat))
        over = await sock.call("send_message", send_payload(chat))
        assert error_code(over) == "RATE_LIMITED", "three stored messages, the limit"
