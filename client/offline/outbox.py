"""The durable, ordered queue of user actions, and the worker that drains it.

Rules:
- Items are drained strictly in the order they were queued (one at a time, the head first).
- A transient failure (network, 5xx, rate limit) keeps the item at the head: nothing overtakes
  it; it is retried after an exponential backoff with jitter, capped (``RetryPolicy``).
- A permanent failure (blocked, not a member, validation, ...) sets the item aside as ``failed``
  with a reason the UI shows (a failed send also marks its message failed; the optimistic change
  of any other action is rolled back, see ``offline.undo``) and the queue goes on:
  later actions, also in the same conversation, are not held back by something that can never
  succeed. The user then retries it (it goes back to its place, which is now the head) or
  discards it. Actions on a message whose send failed fail in turn ("not sent").
- An auth failure pauses the queue with everything kept until ``resume()``.
- An item is removed only in the same transaction that stores the server's answer, so a process
  killed at any point re-sends the item in flight on restart; the server dedupes sends by
  (sender, client id), and the other actions are idempotent (deleting or un-reacting what is
  already gone counts as done).
"""

import asyncio
import contextlib
import dataclasses
import json
import logging
import random
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Final

import pydantic

from client.errors import AuthError, PermanentError, RateLimitedError
from client.offline.cache import Cache
from client.offline.outbox_items import (
    COALESCED_KINDS,
    ActionKind,
    OutboxCounts,
    OutboxItem,
    OutboxState,
    validate_request,
)
from client.offline.records import MessageStatus
from client.offline.transport import Transport
from client.offline.undo import apply_undo
from protocol.errors import ErrorCode
from protocol.models import Message

log = logging.getLogger(__name__)

NOT_SENT: Final = "NOT_SENT"
"""Failure code of an action on a message that was never sent."""

_REASONS: Final[dict[str, str]] = {
    ErrorCode.BLOCKED: "You can't send to this person.",
    ErrorCode.NOT_A_MEMBER: "You are no longer a member of this conversation.",
    ErrorCode.FORBIDDEN: "You are not allowed to do this.",
    ErrorCode.NOT_FOUND: "The message or conversation no longer exists.",
    ErrorCode.PAYLOAD_TOO_LARGE: "This is too large to send.",
    ErrorCode.UNSUPPORTED_MEDIA_TYPE: "This kind of file can't be sent.",
    NOT_SENT: "The message this refers to was never sent.",
}

_ALREADY_DONE: Final = frozenset(
    {
        (ActionKind.DELETE, ErrorCode.NOT_FOUND),
        (ActionKind.UNREACT, ErrorCode.NOT_FOUND),
        (ActionKind.UNPIN, ErrorCode.NOT_FOUND),
    }
)


def failure_reason(code: str, message: str) -> str:
    """The sentence the UI shows for a permanent failure (the server's message for validation
    errors and codes without a sentence of their own)."""
    return _REASONS.get(code, message)


@dataclass(frozen=True)
class RetryPolicy:
    """Backoff after transient failures: attempt ``n`` (1-based) waits a random time in
    ``[d/2, d]`` where ``d = min(cap, base * factor**(n-1))``; a rate limit waits at least the
    server's ``retryAfter``."""

    base: float = 0.5
    factor: float = 2.0
    cap: float = 60.0

    def delay(self, attempt: int, rng: random.Random) -> float:
        """Seconds to wait before attempt ``attempt + 1``."""
        ceiling = min(self.cap, self.base * self.factor ** max(0, attempt - 1))
        return ceiling / 2 + rng.random() * ceiling / 2


class Outbox:
    """The queue itself, a table of the cache database (so an action writes its optimistic
    cache change and its outbox row in one transaction)."""

    def __init__(
        self,
        cache: Cache,
        clock: Callable[[], float] = time.time,
        new_id: Callable[[], str] = lambda: str(uuid.uuid4()),
    ) -> None:
        """``clock`` gives wall-clock seconds (persisted retry times); ``new_id`` client ids."""
        self.cache = cache
        self.clock = clock
        self.new_id = new_id
        self._listeners: list[Callable[[], None]] = []

    def subscribe(self, listener: Callable[[], None]) -> Callable[[], None]:
        """Call ``listener`` after every change of the queue; returns the unsubscribe."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def _changed(self) -> None:
        for listener in list(self._listeners):
            listener()

    def enqueue(
        self,
        kind: ActionKind,
        payload: dict[str, Any],
        conversation_id: str | None = None,
        target_client_id: str | None = None,
        client_id: str | None = None,
        undo: dict[str, Any] | None = None,
    ) -> OutboxItem:
        """Queue an action (call it inside the action's cache transaction).

        ``payload`` is the snake_case request body; it is validated now unless it waits for the
        server id of ``target_client_id`` (then ``message_id`` is filled in when it is sent).
        Receipts replace a queued receipt of the same conversation instead of queueing another.
        ``undo`` (built with ``offline.undo``) rolls the optimistic change back if the item
        fails for good. Raises ``pydantic.ValidationError`` for a malformed body.
        """
        if target_client_id is None:
            validate_request(kind, payload)
        encoded = json.dumps(payload)
        db = self.cache.db
        with self.cache.transaction():
            if kind in COALESCED_KINDS:
                row = self.cache.one(
                    "SELECT id FROM outbox WHERE kind = ? AND conversation_id = ? "
                    "AND state = ? ORDER BY id LIMIT 1",
                    [kind.value, conversation_id, OutboxState.QUEUED.value],
                )
                if row is not None:
                    db.execute(
                        "UPDATE outbox SET payload = ?, revision = revision + 1 WHERE id = ?",
                        [encoded, row["id"]],
                    )
                    item = self.get(int(row["id"]))
                    assert item is not None
                    self._changed()
                    return item
            cursor = db.execute(
                """INSERT INTO outbox(client_id, kind, conversation_id, target_client_id,
                    payload, created_at, undo) VALUES (?, ?, ?, ?, ?, ?, ?)""",
                [
                    client_id or self.new_id(),
                    kind.value,
                    conversation_id,
                    target_client_id,
                    encoded,
                    self.clock(),
                    json.dumps(undo) if undo is not None else None,
                ],
            )
        item = self.get(int(cursor.lastrowid or 0))
        assert item is not None
        self._changed()
        return item

    def get(self, item_id: int) -> OutboxItem | None:
        """Return an item by id."""
        row = self.cache.one("SELECT * FROM outbox WHERE id = ?", [item_id])
        return None if row is None else OutboxItem.from_row(row)

    def head(self) -> OutboxItem | None:
        """The next item to send (the oldest queued one)."""
        row = self.cache.one(
            "SELECT * FROM outbox WHERE state = ? ORDER BY id LIMIT 1",
            [OutboxState.QUEUED.value],
        )
        return None if row is None else OutboxItem.from_row(row)

    def items(self, state: OutboxState | None = None) -> list[OutboxItem]:
        """Every item (or those in ``state``), in queue order."""
        if state is None:
            rows = self.cache.rows("SELECT * FROM outbox ORDER BY id")
        else:
            rows = self.cache.rows(
                "SELECT * FROM outbox WHERE state = ? ORDER BY id", [state.value]
            )
        return [OutboxItem.from_row(r) for r in rows]

    def counts(self) -> OutboxCounts:
        """How many items are queued and how many failed."""
        counts = {
            r["state"]: r["n"]
            for r in self.cache.rows("SELECT state, count(*) AS n FROM outbox GROUP BY state")
        }
        return OutboxCounts(
            pending=counts.get(OutboxState.QUEUED.value, 0),
            failed=counts.get(OutboxState.FAILED.value, 0),
        )

    def item_for_message(self, client_id: str) -> OutboxItem | None:
        """The queued or failed send of the message with ``client_id``."""
        row = self.cache.one(
            "SELECT * FROM outbox WHERE client_id = ? AND kind = ?",
            [client_id, ActionKind.SEND.value],
        )
        return None if row is None else OutboxItem.from_row(row)

    def retry(self, item_id: int) -> None:
        """Queue a failed item again at its original place (a send's message turns pending)."""
        item = self.get(item_id)
        if item is None or item.state != OutboxState.FAILED:
            return
        with self.cache.transaction():
            self.cache.db.execute(
                """UPDATE outbox SET state = ?, attempts = 0, next_attempt_at = 0,
                    error_code = NULL, error_message = NULL WHERE id = ?""",
                [OutboxState.QUEUED.value, item_id],
            )
            if item.kind == ActionKind.SEND:
                self.cache.set_unsent_status(item.client_id, MessageStatus.PENDING)
        self._changed()

    def discard(self, item_id: int) -> None:
        """Drop an item; a discarded send removes its unsent message."""
        item = self.get(item_id)
        if item is None:
            return
        with self.cache.transaction():
            self.cache.db.execute("DELETE FROM outbox WHERE id = ?", [item_id])
            if item.kind == ActionKind.SEND:
                message = self.cache.message_by_client_id(item.client_id)
                if message is not None:
                    self.cache.remove_unsent(message.local_id)
        self._changed()

    def complete(self, item: OutboxItem, answer: Sequence[Message]) -> None:
        """Store the server's answer and remove the item, in one transaction. A receipt that
        was replaced while in flight stays queued with its newer body."""
        with self.cache.transaction():
            for message in answer:
                self.cache.store_message(message)
            self.cache.db.execute(
                "DELETE FROM outbox WHERE id = ? AND revision = ?", [item.id, item.revision]
            )
        self._changed()

    def fail(self, item: OutboxItem, code: str, message: str) -> None:
        """Set an item aside as failed: a failed send marks its message failed, any other
        action's optimistic change is rolled back."""
        reason = failure_reason(code, message)
        with self.cache.transaction():
            self.cache.db.execute(
                "UPDATE outbox SET state = ?, error_code = ?, error_message = ? WHERE id = ?",
                [OutboxState.FAILED.value, code, reason, item.id],
            )
            if item.kind == ActionKind.SEND:
                self.cache.set_unsent_status(item.client_id, MessageStatus.FAILED, code, reason)
            if item.undo is not None:
                apply_undo(self.cache, item.kind, item.undo)
        self._changed()

    def postpone(self, item: OutboxItem, until: float, code: str, message: str) -> None:
        """Count a transient failure: the item stays at the head until ``until``."""
        self.cache.db.execute(
            """UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ?,
                error_code = ?, error_message = ? WHERE id = ?""",
            [until, code, message, item.id],
        )
        self._changed()

    def retry_head_now(self) -> None:
        """Forget the head's backoff (after a reconnect there is no reason to wait)."""
        self.cache.db.execute(
            "UPDATE outbox SET next_attempt_at = 0 WHERE state = ? AND next_attempt_at > 0",
            [OutboxState.QUEUED.value],
        )

    def resolve(self, item: OutboxItem) -> OutboxItem | None:
        """Fill in the server id of the message an item refers to by client id; None when that
        message has no server id (its send failed or was discarded)."""
        if item.target_client_id is None:
            return item
        target = self.cache.message_by_client_id(item.target_client_id)
        if target is None or target.id is None:
            return None
        return dataclasses.replace(item, payload={**item.payload, "message_id": target.id})


@dataclass(frozen=True, slots=True)
class DrainReport:
    """What one ``OutboxWorker.drain`` call did and why it stopped."""

    done: int
    failed: int
    retry_at: float | None
    """Set when the head is backing off: the wall-clock time of its next attempt."""
    paused: bool


class OutboxWorker:
    """Drains an ``Outbox`` through a ``Transport`` while online and not paused.

    ``clock`` (wall seconds), ``sleep`` and ``rng`` are injectable so tests run instantly.
    """

    def __init__(
        self,
        outbox: Outbox,
        transport: Transport,
        *,
        policy: RetryPolicy | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        rng: random.Random | None = None,
        on_auth_lost: Callable[[AuthError], None] | None = None,
    ) -> None:
        self.outbox = outbox
        self.transport = transport
        self.policy = policy or RetryPolicy()
        self.clock = clock
        self.sleep = sleep
        self.rng = rng or random.Random()
        self.on_auth_lost = on_auth_lost
        self.online = False
        self.paused = False
        self._wake = asyncio.Event()
        outbox.subscribe(self._wake.set)

    def set_online(self, online: bool) -> None:
        """Start (after the catch-up of a reconnect) or stop draining; coming online retries
        the head at once."""
        self.online = online
        if online:
            self.outbox.retry_head_now()
            self._wake.set()

    def resume(self) -> None:
        """Continue after an auth pause (the user signed in again)."""
        self.paused = False
        self._wake.set()

    async def drain(self) -> DrainReport:
        """Send queued items in order until the queue is empty, the head must wait, the worker
        goes offline or it is paused."""
        done = failed = 0
        while self.online and not self.paused:
            item = self.outbox.head()
            if item is None:
                break
            if item.next_attempt_at > self.clock():
                return DrainReport(done, failed, item.next_attempt_at, False)
            resolved = self.outbox.resolve(item)
            if resolved is None:
                self.outbox.fail(item, NOT_SENT, _REASONS[NOT_SENT])
                failed += 1
                continue
            try:
                answer = list(await self.transport.perform(resolved))
            except AuthError as error:
                self.paused = True
                if self.on_auth_lost is not None:
                    self.on_auth_lost(error)
                break
            except PermanentError as error:
                if (item.kind, error.code) in _ALREADY_DONE:
                    self.outbox.complete(item, [])
                    done += 1
                else:
                    self.outbox.fail(item, error.code, error.message)
                    failed += 1
            except pydantic.ValidationError as error:
                self.outbox.fail(item, ErrorCode.VALIDATION_ERROR, str(error))
                failed += 1
            except Exception as error:  # transient, or a transport bug: back off, keep it
                self._postpone(item, error)
            else:
                self.outbox.complete(item, answer)
                done += 1
        return DrainReport(done, failed, None, self.paused)

    def _postpone(self, item: OutboxItem, error: Exception) -> None:
        delay = self.policy.delay(item.attempts + 1, self.rng)
        if isinstance(error, RateLimitedError):
            delay = max(delay, error.retry_after)
        code = getattr(error, "code", type(error).__name__)
        log.info("outbox item %s (%s) failed transiently: %s", item.id, item.kind, code)
        self.outbox.postpone(item, self.clock() + delay, str(code), str(error))

    async def run(self) -> None:
        """Drain whenever there is something to do, until cancelled."""
        while True:
            self._wake.clear()
            report = await self.drain()
            if report.retry_at is not None and self.online and not self.paused:
                await self._wait(report.retry_at - self.clock())
            else:
                await self._wake.wait()

    async def _wait(self, seconds: float) -> None:
        sleeper = asyncio.ensure_future(self.sleep(max(0.0, seconds)))
        waker = asyncio.ensure_future(self._wake.wait())
        try:
            await asyncio.wait({sleeper, waker}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (sleeper, waker):
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
