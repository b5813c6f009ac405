"""The worker that drains the outbox: a window of items in flight over the socket.

Order and exactly-once:
- Items start in queue order. Over the socket (``Route.PIPELINED``) up to ``window`` items are
  on the wire at once, each answered by its own ack: the socket delivers them in order and the
  server stores a socket's sends in the order they arrive, so receivers see the user's order.
  Over REST (``Route.ALONE``: no socket, and pins and settings, which have no socket event)
  concurrent requests have no order, so such an item starts only when nothing is in flight and
  the next one waits for its answer.
- An item that names an unsent message by client id (edit, delete, react, pin of a pending
  message) waits until everything before it is answered, so its target's server id is known;
  when the target's send failed it fails in turn ("not sent").
- A delivered receipt without the socket (``Route.LATER``) stays queued without holding back
  the items after it.
- A permanent failure (blocked, not a member, validation, ...) sets the item aside as
  ``failed`` (``Outbox.fail``); later items, also of the same conversation, still go: they
  may already be on the wire, and holding them back for something that can never succeed would
  block the conversation for good.
- A transient failure (network, 5xx, rate limit, no ack in time) stops new items from
  starting; the answers in flight are taken, then the first item still queued is retried after
  an exponential backoff with jitter, capped (``RetryPolicy``), and nothing overtakes it
  (the items after it that failed too simply follow it, without a backoff of their own).
  Caveat of the window: items after it that were already on the wire and that the server
  stored stay stored, ahead of it. The usual transient failure, a dropped connection, cannot
  cause that (the websocket keeps order: what did not arrive was followed by nothing that
  did), so those items are re-sent in order and deduped; a rate limit refuses everything in
  the window alike.
- An auth failure (a REST call whose token cannot be refreshed; the socket checks the token
  only at its handshake) pauses: nothing new starts, everything not answered stays queued
  until ``resume()``.
- Answers that arrive together are stored in one transaction. An item is removed only in the
  transaction that stores its answer, so a process killed at any point re-sends what was in
  flight on restart; the server dedupes sends by (sender, client id), and the other actions
  are idempotent (deleting or un-reacting what is already gone counts as done).
"""

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Final

import pydantic

from client.errors import AuthError, PermanentError, RateLimitedError
from client.offline.outbox import NOT_SENT, Outbox, failure_reason
from client.offline.outbox_items import ActionKind, OutboxItem
from client.offline.transport import Route, Transport
from protocol.errors import ErrorCode
from protocol.models import Message

log = logging.getLogger(__name__)

DEFAULT_WINDOW: Final = 64
"""Items on the wire at once over the socket (the server answers them one after another)."""

_ALREADY_DONE: Final = frozenset(
    {
        (ActionKind.DELETE, ErrorCode.NOT_FOUND),
        (ActionKind.UNREACT, ErrorCode.NOT_FOUND),
        (ActionKind.UNPIN, ErrorCode.NOT_FOUND),
    }
)


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


@dataclass(frozen=True, slots=True)
class DrainReport:
    """What one ``OutboxWorker.drain`` call did and why it stopped."""

    done: int
    failed: int
    retry_at: float | None
    """Set when the head is backing off: the wall-clock time of its next attempt."""
    paused: bool


@dataclass
class _Pass:
    """The state of one ``drain`` call."""

    done: int = 0
    failed: int = 0
    cursor: int = 0
    """Items up to this id were started, set aside or deferred in this round."""
    in_flight: dict[int, tuple[OutboxItem, "asyncio.Future[Sequence[Message]]"]] = field(
        default_factory=dict
    )
    """Started items by id, in queue order."""
    deferred: set[int] = field(default_factory=set)
    """Items that cannot be carried now (``Route.LATER``)."""
    halted: bool = False
    """A transient failure: nothing new starts until the window is empty."""
    retry_at: float | None = None

    def new_round(self) -> None:
        """The window is empty: scan the queue from its head again (a postponed item, or a
        receipt replaced while it was in flight, is now first in line)."""
        self.cursor = 0
        self.halted = False


class OutboxWorker:
    """Drains an ``Outbox`` through a ``Transport`` while online and not paused.

    ``window`` is how many items may be on the wire at once over the socket. ``clock`` (wall
    seconds), ``sleep`` and ``rng`` are injectable so tests run instantly.
    """

    def __init__(
        self,
        outbox: Outbox,
        transport: Transport,
        *,
        policy: RetryPolicy | None = None,
        window: int = DEFAULT_WINDOW,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        rng: random.Random | None = None,
        on_auth_lost: Callable[[AuthError], None] | None = None,
    ) -> None:
        self.outbox = outbox
        self.transport = transport
        self.policy = policy or RetryPolicy()
        self.window = max(1, window)
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
        goes offline or it is paused; returns once nothing is in flight."""
        run = _Pass()
        try:
            while True:
                await self._fill(run)
                if run.in_flight:
                    futures = [future for _item, future in run.in_flight.values()]
                    await asyncio.wait(futures, return_when=asyncio.FIRST_COMPLETED)
                    self._settle(run)
                    if not run.in_flight:
                        run.new_round()
                elif run.halted:
                    run.new_round()
                else:
                    return DrainReport(run.done, run.failed, run.retry_at, self.paused)
        finally:  # cancelled or crashed: unanswered items stay queued, nobody awaits them
            for _item, future in run.in_flight.values():
                future.cancel()

    def _may_start(self, run: _Pass) -> bool:
        return (
            self.online and not self.paused and not run.halted and len(run.in_flight) < self.window
        )

    async def _fill(self, run: _Pass) -> None:
        """Start queued items after ``run.cursor`` until the window is full or one must wait."""
        run.retry_at = None
        while self._may_start(run):
            batch = self.outbox.queued_after(run.cursor, self.window - len(run.in_flight))
            if not batch:
                return
            for item in batch:
                if not self._may_start(run):
                    return
                if item.id in run.deferred:
                    run.cursor = item.id
                    continue
                if item.next_attempt_at > self.clock():
                    run.retry_at = item.next_attempt_at  # nothing overtakes a backing-off item
                    return
                if item.target_client_id is not None and run.in_flight:
                    return  # its target's server id comes with an answer still in flight
                resolved = self.outbox.resolve(item)
                if resolved is None:
                    run.cursor = item.id
                    self.outbox.fail(item, NOT_SENT, failure_reason(NOT_SENT, ""))
                    run.failed += 1
                    continue
                route = self.transport.route(resolved)
                if route is Route.ALONE and run.in_flight:
                    return  # a REST call starts only when every answer before it is in
                run.cursor = item.id
                if route is Route.LATER:
                    run.deferred.add(item.id)
                elif route is Route.ALONE:
                    await self._perform_alone(resolved, run)
                else:
                    self._start(resolved, run)

    def _start(self, item: OutboxItem, run: _Pass) -> None:
        try:
            future = self.transport.start(item)
        except Exception as error:  # not even on the wire (malformed, socket just dropped)
            self._failed(item, error, run)
        else:
            run.in_flight[item.id] = (item, future)

    async def _perform_alone(self, item: OutboxItem, run: _Pass) -> None:
        try:
            answer = list(await self.transport.perform(item))
        except Exception as error:
            self._failed(item, error, run)
        else:
            self.outbox.complete(item, answer)
            run.done += 1

    def _settle(self, run: _Pass) -> None:
        """Take the answers that arrived, in queue order: successes are stored together, in
        one transaction per run of them."""
        answered: list[tuple[OutboxItem, Sequence[Message]]] = []
        for item_id, (item, future) in list(run.in_flight.items()):
            if not future.done():
                continue
            del run.in_flight[item_id]
            error = future.exception()
            if error is None:
                answered.append((item, future.result()))
                continue
            self._complete(answered, run)
            answered = []
            self._failed(item, error, run)
        self._complete(answered, run)

    def _complete(self, answered: list[tuple[OutboxItem, Sequence[Message]]], run: _Pass) -> None:
        self.outbox.complete_all(answered)
        run.done += len(answered)

    def _failed(self, item: OutboxItem, error: BaseException, run: _Pass) -> None:
        """Handle an item's error: pause, count as done, set aside, or back off."""
        match error:
            case AuthError():
                if not self.paused:
                    self.paused = True
                    if self.on_auth_lost is not None:
                        self.on_auth_lost(error)
            case PermanentError() if (item.kind, error.code) in _ALREADY_DONE:
                self._complete([(item, [])], run)
            case PermanentError():
                self.outbox.fail(item, error.code, error.message)
                run.failed += 1
            case pydantic.ValidationError():
                self.outbox.fail(item, ErrorCode.VALIDATION_ERROR, str(error))
                run.failed += 1
            case Exception():  # transient, or a transport bug: back off, keep it
                if not run.halted:  # the first one: the items after it follow it anyway
                    self._postpone(item, error)
                run.halted = True
            case _:
                raise error

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
