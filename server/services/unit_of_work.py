"""Transactions that record events: every change is written to the event log in the same
transaction, and its socket emits go out only after the commit succeeded."""

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar, cast

from sqlalchemy import Connection, CursorResult, insert, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from protocol.events import ServerEvent
from protocol.socket import Camel, Logged
from server.db.tables import EVENTS
from server.db.types import utcnow

_INSERT_EVENT = insert(EVENTS)
"""Built once: a Core insert skips the ORM unit-of-work flush and reuses its compiled form
(measured on a send: 5990 -> 5677 Python calls, the same database round trips)."""
EVENT_LOG_LOCK = 7001
"""PostgreSQL advisory lock that writers of the event log hold until their commit."""
T = TypeVar("T")
BatchConnection = Connection | sqlite3.Connection
"""What ``Database.batch`` work runs on: SQLAlchemy (PostgreSQL) or the SQLite writer's own."""


def user_room(user_id: str) -> str:
    """The Socket.IO room of every socket of one user."""
    return f"user:{user_id}"


def conversation_room(conversation_id: str) -> str:
    """The Socket.IO room of every socket of every member of a conversation."""
    return f"conv:{conversation_id}"


@dataclass(frozen=True)
class Emit:
    """A socket event to send to ``rooms`` once the transaction has committed."""

    event: str
    data: dict[str, object]
    rooms: tuple[str, ...]


@dataclass(frozen=True)
class RoomChange:
    """Make every socket of ``user_ids`` enter (or leave) a conversation's room."""

    user_ids: tuple[str, ...]
    conversation_id: str
    join: bool


class Publisher(Protocol):
    """Delivers committed changes to sockets (the realtime layer implements it)."""

    async def publish(self, emits: Sequence[Emit], rooms: Sequence[RoomChange]) -> None:
        """Apply room changes, then send the emits in order."""
        ...


class NullPublisher:
    """A publisher that delivers nothing (scripts, seeding, tests of pure services)."""

    async def publish(self, emits: Sequence[Emit], rooms: Sequence[RoomChange]) -> None:
        """Drop everything."""


@dataclass
class UnitOfWork:
    """One write transaction plus what to publish after it commits."""

    session: AsyncSession
    is_postgres: bool
    emits: list[Emit] = field(default_factory=list)
    room_changes: list[RoomChange] = field(default_factory=list)
    _log_locked: bool = False

    async def log(
        self,
        event: ServerEvent,
        payload: Logged,
        *,
        rooms: Sequence[str],
        conversation_id: str | None = None,
        user_id: str | None = None,
    ) -> int:
        """Append ``payload`` to the event log (visible to members of ``conversation_id`` and to
        ``user_id``), stamp its ``event_id`` and queue its emit to ``rooms``. Returns the id."""
        if self.is_postgres and not self._log_locked:
            # Event ids must become visible in increasing order, or a client that saw id N live
            # could miss id N-1 committed later: writers of the log take turns on PostgreSQL.
            # (SQLite allows one writer at a time anyway.)
            await self.session.execute(text(f"SELECT pg_advisory_xact_lock({EVENT_LOG_LOCK})"))
            self._log_locked = True
        data = payload.model_dump(mode="json", exclude={"event_id"})
        values = {
            "type": event.value,
            "conversation_id": conversation_id,
            "user_id": user_id,
            "data": data,
            "created_at": utcnow(),
        }
        if self.session.new or self.session.dirty or self.session.deleted:
            await self.session.flush()  # the change is written before its event, as before
        inserted = cast(CursorResult[Any], await self.session.execute(_INSERT_EVENT, values))
        key = inserted.inserted_primary_key
        assert key is not None, "an INSERT of one row always has its key"
        event_id = int(key[0])
        payload.event_id = event_id
        self.emits.append(Emit(event.value, {**data, "eventId": event_id}, tuple(rooms)))
        return event_id

    def emit(self, event: ServerEvent, payload: Camel, rooms: Sequence[str]) -> None:
        """Queue an ephemeral emit (not logged) to go out after the commit."""
        self.emits.append(Emit(event.value, payload.model_dump(mode="json"), tuple(rooms)))

    def join_rooms(self, user_ids: Sequence[str], conversation_id: str) -> None:
        """After the commit, put every socket of ``user_ids`` into the conversation's room."""
        self.room_changes.append(RoomChange(tuple(user_ids), conversation_id, join=True))

    def leave_rooms(self, user_ids: Sequence[str], conversation_id: str) -> None:
        """After the commit, take every socket of ``user_ids`` out of the conversation's room."""
        self.room_changes.append(RoomChange(tuple(user_ids), conversation_id, join=False))


class Batch(Protocol):
    """One transaction of synchronous work (see ``Database.batch``). Emits queued in ``emits``
    are published once it has committed; ``published`` (set when the batch is left) is done
    once they are out."""

    emits: list[Emit]
    published: "asyncio.Future[None] | None"

    async def run(self, work: Callable[[BatchConnection], T]) -> T:
        """Run ``work`` on the transaction's connection."""
        ...

    async def commit_after(self, work: Callable[[BatchConnection], T]) -> T:
        """Run ``work``, then commit (in one step)."""
        ...


class _ThreadBatch:
    """SQLite: the writer's own sqlite3 connection, used only from its one thread (one hop per
    step); the transaction is ``BEGIN IMMEDIATE``, so it holds the write lock from the start."""

    def __init__(self, connection: sqlite3.Connection, thread: ThreadPoolExecutor) -> None:
        self.emits: list[Emit] = []
        self.published: asyncio.Future[None] | None = None
        self.committed = False
        self._connection = connection
        self._thread = thread

    async def run(self, work: Callable[[BatchConnection], T]) -> T:
        def in_transaction(connection: sqlite3.Connection) -> T:
            if not connection.in_transaction:
                connection.execute("BEGIN IMMEDIATE")
            return work(connection)

        return await asyncio.get_running_loop().run_in_executor(
            self._thread, in_transaction, self._connection
        )

    async def commit_after(self, work: Callable[[BatchConnection], T]) -> T:
        def work_then_commit(connection: BatchConnection) -> T:
            result = work(connection)
            cast(sqlite3.Connection, connection).execute("COMMIT")
            return result

        result = await self.run(work_then_commit)
        self.committed = True
        return result

    async def end(self) -> None:
        """Roll back what was not committed (after an error)."""
        if not self.committed:
            await asyncio.get_running_loop().run_in_executor(
                self._thread, _roll_back, self._connection
            )


def _roll_back(connection: sqlite3.Connection) -> None:
    if connection.in_transaction:
        connection.execute("ROLLBACK")


class _AsyncBatch:
    """PostgreSQL: a pooled connection (the batch engine's: autocommit, each statement its own
    transaction); the synchronous work runs through ``run_sync``."""

    def __init__(self, connection: AsyncConnection) -> None:
        self.emits: list[Emit] = []
        self.published: asyncio.Future[None] | None = None
        self.committed = False
        self._connection = connection

    async def run(self, work: Callable[[BatchConnection], T]) -> T:
        return await self._connection.run_sync(work)

    async def commit_after(self, work: Callable[[BatchConnection], T]) -> T:
        result = await self.run(work)
        await self._connection.commit()
        self.committed = True
        return result


class Database:
    """The engine, its sessions, the one write path (``write``) and the send queue's
    transactions (``batch``: on PostgreSQL from ``batch_engine``, its own pool, when given)."""

    def __init__(
        self,
        engine: AsyncEngine,
        sessions: async_sessionmaker[AsyncSession],
        publisher: Publisher,
        sqlite_writer: Callable[[], sqlite3.Connection] | None = None,
        batch_engine: AsyncEngine | None = None,
    ) -> None:
        self.engine = engine
        self._batch_engine = batch_engine or engine
        self.sessions = sessions
        self.publisher = publisher
        self.is_sqlite = engine.dialect.name == "sqlite"
        self._sqlite_writer = asyncio.Lock()
        self._connect_writer = sqlite_writer
        self._writer_connection: sqlite3.Connection | None = None
        self._writer_thread = ThreadPoolExecutor(1, thread_name_prefix="sqlite-writer")
        self._last_publish: asyncio.Future[None] | None = None

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        """A session for reads only."""
        async with self.sessions() as session:
            yield session

    @asynccontextmanager
    async def write(self) -> AsyncIterator[UnitOfWork]:
        """A write transaction: commit on success, roll back on error, then publish its events.

        On SQLite the process's writers (this and ``batch``) take turns (SQLite allows one
        writer at a time; queueing here avoids BUSY errors and WAL snapshot conflicts) and
        publish before the next writer starts, so live events leave in event-id order. On
        PostgreSQL writers run concurrently and publish through one chain (``batch`` too), so
        a node's live events leave in the order their transactions committed; the events of
        different nodes may interleave out of id order, which clients detect (an ``eventId`` at
        or below one already applied) and repair from ``GET /sync``.
        """
        if not self.is_sqlite:
            async with self._transaction() as uow:
                yield uow
            return
        async with self._sqlite_writer, self._transaction() as uow:
            yield uow

    @asynccontextmanager
    async def batch(self) -> AsyncIterator[Batch]:
        """A transaction for synchronous work (the send queue's batches), ended by
        ``commit_after``; leaving it with an error rolls it back. Its emits are published after
        the commit, in order.

        SQLite: in the writers' turn, like ``write``, on the sqlite3 connection that
        ``sqlite_writer`` opens (used from one thread: one hop per step instead of one per
        statement); published before the turn passes on. PostgreSQL: a SQLAlchemy connection
        of the batch engine (``run_sync``), which is in autocommit when the app gives one
        (``create_batch_engine``): each statement is then its own transaction, and the work
        must not need one around several (``send_stores`` explains why the send queue's does
        not); published in the background after the previous batch's emits (a publish through
        Redis is a round trip per emit: the next batch need not wait for it), ``published``
        tells when.
        """
        if not self.is_sqlite:
            async with self._batch_engine.connect() as connection:
                pg_batch = _AsyncBatch(connection)
                yield pg_batch
            if pg_batch.committed and pg_batch.emits:
                pg_batch.published = self._publish_in_order(pg_batch.emits)
            return
        async with self._sqlite_writer:
            sqlite_batch = _ThreadBatch(await self._sqlite_connection(), self._writer_thread)
            try:
                yield sqlite_batch
            except BaseException:
                await self._roll_back(sqlite_batch)
                raise
            if sqlite_batch.emits:
                await self.publisher.publish(sqlite_batch.emits, ())

    def _publish_in_order(
        self, emits: Sequence[Emit], rooms: Sequence[RoomChange] = ()
    ) -> "asyncio.Future[None]":
        """Publish ``emits`` (after ``rooms``) once the previous transaction's are out
        (publishing never raises)."""
        previous = self._last_publish

        async def publish() -> None:
            if previous is not None:
                await asyncio.wait([previous])  # done, even if cancelled: the chain goes on
            await self.publisher.publish(emits, rooms)

        self._last_publish = asyncio.ensure_future(publish())
        return self._last_publish

    async def _roll_back(self, sqlite_batch: "_ThreadBatch") -> None:
        """Roll back an unfinished batch; a connection that cannot even do that is dropped
        (the next batch opens a new one)."""
        try:
            await sqlite_batch.end()
        except Exception:
            await self._close_writer()

    async def _sqlite_connection(self) -> sqlite3.Connection:
        if self._writer_connection is None:
            if self._connect_writer is None:
                raise RuntimeError("Database.batch on SQLite needs the sqlite_writer")
            self._writer_connection = await asyncio.get_running_loop().run_in_executor(
                self._writer_thread, self._connect_writer
            )
        return self._writer_connection

    async def _close_writer(self) -> None:
        connection, self._writer_connection = self._writer_connection, None
        if connection is not None:
            await asyncio.get_running_loop().run_in_executor(self._writer_thread, connection.close)

    async def close(self) -> None:
        """Close the engine and the SQLite writer's connection and thread."""
        await self._close_writer()
        self._writer_thread.shutdown(wait=False)
        await self.engine.dispose()
        if self._batch_engine is not self.engine:
            await self._batch_engine.dispose()

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[UnitOfWork]:
        async with self.sessions() as session:
            uow = UnitOfWork(session, is_postgres=not self.is_sqlite)
            async with session.begin():
                yield uow
        if not (uow.emits or uow.room_changes):
            return
        if self.is_sqlite:
            await self.publisher.publish(uow.emits, uow.room_changes)
        else:
            # shielded: a caller cancelled while waiting must not cancel the publish
            await asyncio.shield(self._publish_in_order(uow.emits, uow.room_changes))
