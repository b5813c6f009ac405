"""The outbox: ordering, backoff, permanent failures, auth pause, coalescing, crash safety."""

import asyncio
import random
from collections.abc import Sequence
from pathlib import Path

import pytest

from client.errors import AuthError, ForbiddenError, NetworkError, NotFoundError, RateLimitedError
from client.offline.cache import Cache
from client.offline.cache_messages import StoreOutcome
from client.offline.outbox import NOT_SENT, Outbox, failure_reason
from client.offline.outbox_items import ActionKind, OutboxItem, OutboxState
from client.offline.outbox_worker import OutboxWorker, RetryPolicy
from client.offline.records import MessageStatus, OutboxCounts
from client.offline.transport import Route
from protocol.errors import ErrorCode
from protocol.models import Message
from tests.unit.offline_fixtures import (
    ME,
    T0,
    FakeClock,
    FakeServer,
    Killed,
    LostAck,
    conversation,
)


class Rig:
    """A cache, an outbox and a worker over a fake server, with a fake clock."""

    def __init__(self, path: Path, server: FakeServer | None = None) -> None:
        self.path = path
        self.clock = FakeClock()
        self.server = server or FakeServer()
        self.cache = Cache.open(path, ME)
        self.outbox = Outbox(self.cache, clock=self.clock)
        self.worker = OutboxWorker(
            self.outbox,
            self.server,
            clock=self.clock,
            sleep=self.clock.sleep,
            rng=random.Random(7),
        )
        self.worker.set_online(True)

    def send(self, text: str, conversation_id: str = "c1") -> str:
        """What ``actions.send_text`` does: pending message + outbox row, one transaction."""
        client_id = self.outbox.new_id()
        with self.cache.transaction():
            self.cache.add_pending_message(conversation_id, text, client_id, T0)
            self.outbox.enqueue(
                ActionKind.SEND,
                {"conversation_id": conversation_id, "text": text, "client_id": client_id},
                conversation_id=conversation_id,
                client_id=client_id,
            )
        return client_id


@pytest.fixture
def rig(tmp_path: Path) -> Rig:
    """Items go pipelined, as over the socket."""
    r = Rig(tmp_path)
    r.cache.upsert_conversation(conversation("c1"))
    return r


@pytest.fixture
def rest_rig(tmp_path: Path) -> Rig:
    """Items go one at a time, as over REST."""
    r = Rig(tmp_path, FakeServer(Route.ALONE))
    r.cache.upsert_conversation(conversation("c1"))
    return r


async def test_drains_in_order_and_marks_sent(rig: Rig) -> None:
    for i in range(5):
        rig.send(f"hello {i}")
    report = await rig.worker.drain()
    assert report.done == 5 and report.retry_at is None
    assert rig.server.order == [f"hello {i}" for i in range(5)]
    page = rig.cache.messages_before("c1")
    assert [m.status for m in page] == [MessageStatus.SENT] * 5
    assert [m.seq for m in page] == [1, 2, 3, 4, 5]
    assert rig.outbox.counts().pending == 0


async def test_offline_worker_sends_nothing(rig: Rig) -> None:
    rig.worker.set_online(False)
    rig.send("wait")
    report = await rig.worker.drain()
    assert report.done == 0 and rig.server.calls == 0
    assert rig.outbox.counts().pending == 1


async def test_transient_failure_blocks_the_head_and_backs_off(rest_rig: Rig) -> None:
    rig = rest_rig
    rig.server.failures = [NetworkError(), NetworkError()]
    for i in range(3):
        rig.send(f"m{i}")
    first = await rig.worker.drain()
    assert first.done == 0 and first.retry_at is not None
    assert rig.server.order == []
    head = rig.outbox.head()
    assert head is not None and head.attempts == 1 and head.error_code == "NETWORK_ERROR"
    rig.clock.now = first.retry_at
    second = await rig.worker.drain()
    assert second.retry_at is not None and second.retry_at - rig.clock.now > 0
    rig.clock.now = second.retry_at
    third = await rig.worker.drain()
    assert third.done == 3 and rig.server.order == ["m0", "m1", "m2"]


async def test_window_keeps_the_order_and_stores_answers_together(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rig = Rig(tmp_path)
    rig.worker.window = 16
    rig.cache.upsert_conversation(conversation("c1"))
    texts = [f"queued {i:03d}" for i in range(200)]
    for text in texts:
        rig.send(text)
    commits: list[int] = []
    real_complete_all = Outbox.complete_all

    def counting(self: Outbox, done: Sequence[tuple[OutboxItem, Sequence[Message]]]) -> None:
        commits.append(len(done))
        real_complete_all(self, done)

    monkeypatch.setattr(Outbox, "complete_all", counting)
    report = await rig.worker.drain()
    assert report.done == 200 and rig.server.order == texts
    assert rig.server.max_in_flight == 16
    assert sum(commits) == 200 and max(commits) > 1
    page = rig.cache.messages_before("c1", limit=500)
    assert [m.text for m in page] == texts
    assert [m.seq for m in page] == list(range(1, 201))


async def test_connection_lost_mid_window_resends_in_order_once(rig: Rig) -> None:
    # m0 answered; m1 stored but its ack lost; m2.. never arrived (the socket keeps order)
    rig.server.failures = [None, LostAck(), NetworkError(), NetworkError(), NetworkError()]
    texts = [f"m{i}" for i in range(5)]
    for text in texts:
        rig.send(text)
    first = await rig.worker.drain()
    assert first.done == 1 and first.retry_at is not None
    assert rig.server.order == ["m0", "m1"]
    head = rig.outbox.head()
    assert head is not None and head.payload["text"] == "m1" and head.attempts == 1
    rig.clock.now = first.retry_at
    second = await rig.worker.drain()
    assert second.done == 4 and rig.server.order == texts
    assert [m.seq for m in rig.cache.messages_before("c1")] == [1, 2, 3, 4, 5]


async def test_rest_only_action_waits_for_the_window(rig: Rig) -> None:
    rig.send("a")
    rig.send("b")
    rig.outbox.enqueue(ActionKind.PIN, {"conversation_id": "c1", "message_id": "m1"}, "c1")
    rig.send("c")
    assert (await rig.worker.drain()).done == 4
    assert rig.server.in_flight_when_alone == [0]
    assert rig.server.order == ["a", "b", "c"]


async def test_receipt_that_must_wait_does_not_hold_back_the_rest(rig: Rig) -> None:
    rig.server.not_now = {ActionKind.MARK_DELIVERED}
    rig.outbox.enqueue(
        ActionKind.MARK_DELIVERED, {"conversation_id": "c1", "message_id": "m1"}, "c1"
    )
    rig.send("a")
    assert (await rig.worker.drain()).done == 1
    assert rig.server.order == ["a"] and rig.outbox.counts().pending == 1
    rig.server.not_now = set()
    assert (await rig.worker.drain()).done == 1
    assert rig.server.actions == [("mark_delivered", {"conversation_id": "c1", "message_id": "m1"})]


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        (ErrorCode.MUTED, "An admin muted you in this group."),
        (ErrorCode.LOCKED, "Only admins can post in this group."),
        (ErrorCode.VALIDATION_ERROR, "the server's own words"),
    ],
)
def test_failure_reasons_for_the_ui(code: str, reason: str) -> None:
    assert failure_reason(code, "the server's own words") == reason


def test_backoff_is_exponential_jittered_and_capped() -> None:
    policy = RetryPolicy(base=1.0, factor=2.0, cap=8.0)
    rng = random.Random(1)
    for attempt, ceiling in [(1, 1.0), (2, 2.0), (3, 4.0), (4, 8.0), (9, 8.0)]:
        delays = {policy.delay(attempt, rng) for _ in range(20)}
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
        assert len(delays) > 1


async def test_rate_limit_waits_at_least_retry_after(rig: Rig) -> None:
    rig.server.failures = [RateLimitedError("slow down", retry_after=30)]
    rig.send("x")
    report = await rig.worker.drain()
    assert report.retry_at is not None and report.retry_at - rig.clock.now >= 30


async def test_permanent_failure_is_set_aside_then_retry_or_discard(rig: Rig) -> None:
    rig.server.failures = [ForbiddenError("blocked", ErrorCode.BLOCKED)]
    blocked = rig.send("first")
    rig.send("second")
    rig.send("third")
    report = await rig.worker.drain()
    assert report.done == 2 and report.failed == 1
    assert rig.server.order == ["second", "third"]
    failed = rig.cache.message_by_client_id(blocked)
    assert failed is not None and failed.status == MessageStatus.FAILED
    assert failed.failure_code == ErrorCode.BLOCKED
    assert failed.failure_reason == "You can't send to this person."
    assert [m.text for m in rig.cache.messages_before("c1")][-1] == "first"
    assert rig.outbox.counts().failed == 1
    item = rig.outbox.item_for_message(blocked)
    assert item is not None and item.state == OutboxState.FAILED
    rig.outbox.retry(item.id)
    assert rig.cache.message_by_client_id(blocked).status == MessageStatus.PENDING  # type: ignore[union-attr]
    await rig.worker.drain()
    assert rig.server.order == ["second", "third", "first"]
    assert rig.cache.message_by_client_id(blocked).status == MessageStatus.SENT  # type: ignore[union-attr]


async def test_discard_removes_the_unsent_message(rig: Rig) -> None:
    rig.server.failures = [ForbiddenError("nope", ErrorCode.NOT_A_MEMBER)]
    cid = rig.send("doomed")
    await rig.worker.drain()
    item = rig.outbox.item_for_message(cid)
    assert item is not None
    rig.outbox.discard(item.id)
    assert rig.cache.message_by_client_id(cid) is None
    assert rig.outbox.counts().failed == 0


async def test_auth_error_pauses_without_losing_anything(rest_rig: Rig) -> None:
    rig = rest_rig
    lost: list[AuthError] = []
    rig.worker.on_auth_lost = lost.append
    rig.server.failures = [AuthError("expired", ErrorCode.INVALID_TOKEN)]
    rig.send("a")
    rig.send("b")
    report = await rig.worker.drain()
    assert report.paused and len(lost) == 1
    assert rig.outbox.counts().pending == 2
    assert (await rig.worker.drain()).done == 0
    rig.worker.resume()
    assert (await rig.worker.drain()).done == 2
    assert rig.server.order == ["a", "b"]


async def test_action_on_unsent_message_waits_for_its_server_id(rig: Rig) -> None:
    rig.send("before")
    cid = rig.send("typo")
    rig.outbox.enqueue(
        ActionKind.EDIT, {"message_id": None, "text": "fixed"}, "c1", target_client_id=cid
    )
    rig.send("after")
    assert (await rig.worker.drain()).done == 4
    assert rig.server.actions == [("edit", {"message_id": f"srv-{cid}", "text": "fixed"})]
    assert rig.server.order == ["before", "typo", "after"]


async def test_action_on_failed_send_fails_as_not_sent(rig: Rig) -> None:
    rig.server.failures = [ForbiddenError("blocked", ErrorCode.BLOCKED)]
    cid = rig.send("never")
    rig.outbox.enqueue(
        ActionKind.REACT, {"message_id": None, "emoji": "👍"}, "c1", target_client_id=cid
    )
    report = await rig.worker.drain()
    assert report.failed == 2
    codes = [i.error_code for i in rig.outbox.items(OutboxState.FAILED)]
    assert codes == [ErrorCode.BLOCKED, NOT_SENT]


async def test_deleting_what_is_gone_counts_as_done(rig: Rig) -> None:
    rig.server.failures = [NotFoundError("gone", ErrorCode.NOT_FOUND)]
    rig.outbox.enqueue(ActionKind.DELETE, {"message_id": "m1", "conversation_id": "c1"}, "c1")
    report = await rig.worker.drain()
    assert report.done == 1 and rig.outbox.counts() == OutboxCounts(0, 0)


async def test_receipts_coalesce_even_while_in_flight(rig: Rig) -> None:
    for n in (1, 2, 3):
        rig.outbox.enqueue(
            ActionKind.MARK_READ, {"conversation_id": "c1", "message_id": f"m{n}"}, "c1"
        )
    assert rig.outbox.counts().pending == 1

    def newer_read_arrives() -> None:
        rig.server.during_call.clear()
        rig.outbox.enqueue(
            ActionKind.MARK_READ, {"conversation_id": "c1", "message_id": "m9"}, "c1"
        )

    rig.server.during_call.append(newer_read_arrives)
    await rig.worker.drain()
    assert [a[1]["message_id"] for a in rig.server.actions] == ["m3", "m9"]
    assert rig.outbox.counts().pending == 0


async def test_invalid_payload_is_refused_at_enqueue(rig: Rig) -> None:
    with pytest.raises(ValueError):
        rig.outbox.enqueue(
            ActionKind.SEND, {"conversation_id": "c1", "text": "  ", "client_id": "x"}
        )


@pytest.mark.parametrize("kill_in", ["transport", "commit"])
async def test_killed_mid_drain_every_message_arrives_exactly_once(
    tmp_path: Path, kill_in: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = FakeServer()
    rig = Rig(tmp_path, server)
    rig.cache.upsert_conversation(conversation("c1"))
    texts = [f"msg {i:03d}" for i in range(200)]
    for text in texts:
        rig.send(text)
    if kill_in == "transport":
        server.kill_at_call = 77
    else:
        calls = {"n": 0}
        real_store = Cache.store_message

        def dying_store(self: Cache, message: Message) -> StoreOutcome:
            calls["n"] += 1
            if calls["n"] == 77:
                raise Killed
            return real_store(self, message)

        monkeypatch.setattr(Cache, "store_message", dying_store)
    with pytest.raises(Killed):
        await rig.worker.drain()
    monkeypatch.undo()
    rig.cache.db.conn.close()  # the process is gone; uncommitted work with it

    server.kill_at_call = None
    again = Rig(tmp_path, server)
    report = await again.worker.drain()
    assert report.done == again.outbox.counts().pending + report.done  # nothing left
    assert report.done >= 200 - 77  # at most the batch being committed was lost
    assert server.order == texts
    page = again.cache.messages_before("c1", limit=500)
    assert [m.text for m in page] == texts
    assert {m.status for m in page} == {MessageStatus.SENT}
    assert [m.seq for m in page] == list(range(1, 201))
    assert again.outbox.counts().pending == 0


async def test_run_loop_retries_with_injected_sleep(rig: Rig) -> None:
    rig.server.failures = [NetworkError(), NetworkError(), None]
    rig.send("eventually")
    task = asyncio.create_task(rig.worker.run())
    for _ in range(50):
        await asyncio.sleep(0)
        if rig.server.order:
            break
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert rig.server.order == ["eventually"]
    assert len(rig.clock.sleeps) == 2 and rig.clock.sleeps[1] >= rig.clock.sleeps[0] / 2
