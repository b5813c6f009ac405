"""The send path of REST ``POST /messages`` and the socket ``send_message``: group commit.

Sends are queued in arrival order. One writer task per server process drains the queue: every
send waiting when it starts a batch (at most ``MAX_BATCH``) is checked (``send_batch``) while
the rate limit counts it (the same moment: one round trip less per batch), those that passed
both are stored, the ``message_new`` emits are published in event-id order and only then is
each caller answered. A send answered with anything but a newly stored message gives its count
back (``RateLimiter.refund``): the limit counts stored messages. While one batch
is written the next one gathers, so under load many sends share one statement per step and
one thread hop, and at low load a send waits for nobody.

SQLite: check and write are one transaction holding the write lock. PostgreSQL: each is one
statement without a transaction around both; the write skips conversations whose access changed
since the checks (``send_stores``), and their sends go back to the head of the queue to be
checked again. That makes it safe for the checks to rest on what earlier batches read
(``AccessCache``): a batch whose sends all pass on remembered facts is written without a read.
The next batch does not wait for the previous one's emits to leave through Redis (they still
leave in order, and its callers are answered after them).

A batch that fails as a whole (an unexpected database error, a concurrent duplicate from
another node) is retried send by send, each once more on failure, then answered INTERNAL: no
send is acked before its commit, and none is dropped silently.
"""

import asyncio
import logging
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from protocol.errors import ErrorCode
from protocol.events import ServerEvent
from protocol.models import Message
from protocol.socket import MessagePayload
from server.db import models
from server.errors import ApiError
from server.services.access_cache import AccessCache
from server.services.ratelimit import Hit, RateLimiter, rate_limited
from server.services.reactions import summaries_for
from server.services.send_batch import (
    AlreadyStored,
    Checked,
    Deferred,
    Refused,
    SendRequest,
    Written,
    check_batch,
    write_batch,
)
from server.services.send_stores import batch_store
from server.services.serializers import message_record
from server.services.unit_of_work import BatchConnection, Database, Emit, conversation_room

log = logging.getLogger("openchat.send")

MAX_BATCH = 256
"""Most sends stored in one transaction."""
RATE_WINDOW_SECONDS = 60
PUBLISH_AHEAD = 2
"""Batches whose emits may still be on their way while the next one is written (then the
writer waits: a slow publish makes larger batches, not an endless backlog)."""


@dataclass(frozen=True)
class SendResult:
    """The answer to a send: the message in its socket form (camelCase, as acked) and whether
    this send stored it (False: the same client id had stored it before)."""

    payload: dict[str, Any]
    created: bool

    def message(self) -> Message:
        """The message as a REST record (snake_case)."""
        return Message.model_validate(
            MessagePayload.model_validate(self.payload).model_dump(by_alias=False)
        )


def message_payload(message: Message) -> dict[str, Any]:
    """A stored message as the socket sends it (camelCase JSON)."""
    return MessagePayload.model_validate(message.model_dump()).model_dump(mode="json")


async def stored_message(session: AsyncSession, sender_id: str, client_id: str) -> Message | None:
    """The sender's message with ``client_id`` (reactions as the sender sees them), if any."""
    row = await session.scalar(
        select(models.Message).where(
            models.Message.sender_id == sender_id, models.Message.client_id == client_id
        )
    )
    if row is None:
        return None
    reactions = await summaries_for(session, [row.id], sender_id)
    return message_record(row, reactions.get(row.id, []))


@dataclass
class _Queued:
    """A send waiting for its batch, and its caller's answer."""

    request: SendRequest
    answer: "asyncio.Future[SendResult]"
    hit: Hit | None = None
    """Its count in the rate limit, once counted (a retry after a failed or skipped write is
    not counted twice); given back unless the send is stored."""


@dataclass
class _Outcome:
    """What one batch decided: answers by queue item, sends to look up, sends to retry."""

    answers: dict[int, SendResult | ApiError] = field(default_factory=dict)
    already_stored: list[_Queued] = field(default_factory=list)
    deferred: list[_Queued] = field(default_factory=list)
    published: "asyncio.Future[None] | None" = None
    """Done once the batch's emits are out (None: they are)."""


class SendQueue:
    """The process's queue of sends and its writer task."""

    def __init__(self, db: Database, limiter: RateLimiter, messages_per_minute: int) -> None:
        self._db = db
        self._limiter = limiter
        self._per_minute = messages_per_minute
        self._queue: deque[_Queued] = deque()
        self._writer: asyncio.Task[None] | None = None
        self._answering: set[asyncio.Task[None]] = set()
        self._refunds: list[Hit] = []
        self._refunding: set[asyncio.Task[None]] = set()
        self._known = None if db.is_sqlite else AccessCache()

    def submit(self, request: SendRequest) -> "asyncio.Future[SendResult]":
        """Queue ``request`` now (sends are stored in the order they were submitted); the
        future gives the result or raises the refusal (``ApiError``)."""
        answer: asyncio.Future[SendResult] = asyncio.get_running_loop().create_future()
        self._queue.append(_Queued(request, answer))
        if self._writer is None:
            self._writer = asyncio.create_task(self._drain())
        return answer

    async def send(self, request: SendRequest) -> SendResult:
        """Queue ``request`` and wait for its result. Refusals: NOT_FOUND (conversation, reply
        target), NOT_A_MEMBER, CONFLICT (client id used in another conversation), MUTED,
        LOCKED, BLOCKED, RATE_LIMITED."""
        return await self.submit(request)

    async def _drain(self) -> None:
        try:
            while self._queue:
                while len(self._answering) >= PUBLISH_AHEAD:
                    await asyncio.wait(self._answering, return_when=asyncio.FIRST_COMPLETED)
                count = min(MAX_BATCH, len(self._queue))
                batch = [self._queue.popleft() for _ in range(count)]
                try:
                    await self._store(batch)
                except Exception:
                    log.exception("the send queue failed a batch")
                    for item in batch:
                        self._answer(item, _internal())
        finally:
            self._writer = None

    async def _store(self, batch: list[_Queued], retries: int = 1) -> None:
        try:
            outcome = await self._attempt(batch)
        except Exception as exc:
            if len(batch) > 1:
                log.warning("send batch of %d failed (%s); retrying one by one", len(batch), exc)
                for item in batch:
                    await self._store([item])
            elif retries:
                await self._store(batch, retries - 1)
            else:
                log.exception("a send could not be stored")
                self._answer(batch[0], _internal())
            return
        self._queue.extendleft(reversed(outcome.deferred))
        if outcome.published is None or outcome.published.done():
            await self._answer_all(batch, outcome)
        else:  # the next batch goes ahead while this one's emits are on their way
            task = asyncio.create_task(self._answer_all(batch, outcome))
            self._answering.add(task)
            task.add_done_callback(self._answering.discard)

    def _answer(self, item: _Queued, result: SendResult | ApiError) -> None:
        """Answer ``item`` (unless its caller went away); its count in the rate limit goes back
        unless the answer is a newly stored message."""
        if item.hit is not None and not (isinstance(result, SendResult) and result.created):
            if not self._refunds:
                asyncio.get_running_loop().call_soon(self._give_back)
            self._refunds.append(item.hit)
            item.hit = None
        if item.answer.done():  # the caller went away (a cancelled request)
            return
        if isinstance(result, ApiError):
            item.answer.set_exception(result)
        else:
            item.answer.set_result(result)

    def _give_back(self) -> None:
        """Refund the counts gathered since the last call, in one round trip."""
        hits, self._refunds = self._refunds, []
        task = asyncio.create_task(self._refund(hits))
        self._refunding.add(task)
        task.add_done_callback(self._refunding.discard)

    async def _refund(self, hits: list[Hit]) -> None:
        try:
            await self._limiter.refund(hits)
        except Exception:  # the sends are answered; a count not given back expires in its window
            log.exception("giving back %d rate-limit counts failed", len(hits))

    async def _answer_all(self, batch: list[_Queued], outcome: _Outcome) -> None:
        """Answer every send of a stored batch once its emits are out (acks follow them)."""
        if outcome.published is not None:
            await outcome.published
        try:
            if outcome.already_stored:
                await self._look_up(outcome)
        except Exception:
            log.exception("looking up earlier sends failed")
            for item in outcome.already_stored:
                self._answer(item, _internal())
        for index, item in enumerate(batch):
            if index in outcome.answers:
                self._answer(item, outcome.answers[index])

    async def _attempt(self, batch: list[_Queued]) -> _Outcome:
        """Check, rate-limit and store ``batch`` (see the module's docstring); publish its
        emits."""
        requests = [item.request for item in batch]
        outcome = _Outcome()
        deferred: list[int] = []
        async with self._db.batch() as transaction:
            counting = asyncio.ensure_future(self._rate_limit(batch))
            try:
                checked = self._known.check(requests) if self._known is not None else None
                if checked is None:
                    checked = await transaction.run(
                        lambda connection: self._read_and_check(connection, requests)
                    )
            except BaseException:
                await asyncio.wait([counting])  # what it counted stays on the items
                if not counting.cancelled():
                    counting.exception()  # the checks' error is the one raised
                raise
            over_limit = await counting
            accepted: list[int] = []
            for index, verdict in enumerate(checked.verdicts):
                if isinstance(verdict, Refused):
                    outcome.answers[index] = verdict.error
                elif isinstance(verdict, AlreadyStored):
                    outcome.already_stored.append(batch[index])
                elif isinstance(verdict, Deferred):
                    deferred.append(index)
                elif index in over_limit:
                    outcome.answers[index] = over_limit[index]
                else:
                    accepted.append(index)
            to_store = [requests[index] for index in accepted]

            def store(connection: BatchConnection) -> list[Written | None]:
                if not to_store:
                    return []
                return write_batch(batch_store(connection), to_store, checked)

            written = await transaction.commit_after(store)
            for index, stored in zip(accepted, written, strict=True):
                if stored is None:  # its conversation changed since the checks: check again
                    deferred.append(index)
                    if self._known is not None:
                        self._known.forget(requests[index].conversation_id)
                    continue
                data = {**stored.payload, "eventId": stored.event_id}
                room = conversation_room(requests[index].conversation_id)
                transaction.emits.append(Emit(ServerEvent.MESSAGE_NEW.value, data, (room,)))
                outcome.answers[index] = SendResult(stored.payload, created=True)
        outcome.published = transaction.published
        outcome.deferred = [batch[index] for index in sorted(deferred)]  # in their send order
        return outcome

    def _read_and_check(self, connection: BatchConnection, requests: list[SendRequest]) -> Checked:
        """The batch's verdicts on a fresh read, which is remembered (PostgreSQL)."""
        checked = check_batch(batch_store(connection), requests)
        if self._known is not None:
            self._known.remember(checked.facts)
        return checked

    async def _rate_limit(self, batch: list[_Queued]) -> dict[int, ApiError]:
        """Count each send not counted yet against its sender's per-minute limit, in order and
        in one round trip; returns the refusals by index (those are not counted)."""
        counting = [index for index, item in enumerate(batch) if item.hit is None]
        counted = await self._limiter.hit_each(
            [f"msg:{batch[index].request.sender_id}" for index in counting],
            self._per_minute,
            RATE_WINDOW_SECONDS,
        )
        refusals: dict[int, ApiError] = {}
        for index, hit in zip(counting, counted, strict=True):
            if isinstance(hit, Hit):
                batch[index].hit = hit
            else:
                refusals[index] = rate_limited(hit)
        return refusals

    async def _look_up(self, outcome: _Outcome) -> None:
        """Answer the sends whose client id had stored a message before with that message."""
        async with self._db.read() as session:
            for item in outcome.already_stored:
                request = item.request
                stored = await stored_message(session, request.sender_id, request.client_id)
                if stored is None:  # deleted meanwhile (its conversation was removed)
                    self._answer(item, ApiError(ErrorCode.NOT_FOUND, "conversation not found"))
                else:
                    self._answer(item, SendResult(message_payload(stored), created=False))


def _internal() -> ApiError:
    return ApiError(ErrorCode.INTERNAL, "the message could not be stored")
