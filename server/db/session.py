"""Database engine and sessions for SQLite (WAL) and PostgreSQL."""

import sqlite3
from typing import Any

from sqlalchemy import event, make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def create_engine(database_url: str) -> AsyncEngine:
    """An async engine for ``database_url``; SQLite gets WAL, foreign keys and a busy timeout."""
    if database_url.startswith("sqlite"):
        engine = create_async_engine(database_url, connect_args={"timeout": 10})
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    return create_async_engine(database_url, pool_size=20, max_overflow=20, pool_pre_ping=True)


def create_batch_engine(database_url: str) -> AsyncEngine:
    """PostgreSQL: the send queue's own small pool, in autocommit (a batch is two statements
    that need no transaction around them, see ``send_stores``: no BEGIN and COMMIT round trips)
    and without the ping before each checkout (another round trip). A batch that meets a dead
    connection fails as a whole; SQLAlchemy then discards the pool's older connections and the
    queue retries each send, on new ones.

    Its statements are fixed (array parameters), so they run on generic plans
    (``plan_cache_mode``): left to choose, PostgreSQL planned the write afresh for every batch,
    and the planning cost as much as running it. A generic plan is made once per connection,
    maybe while the tables are still small, and kept as they grow; every row these statements
    touch is found by key, so sequential scans are ruled out (``enable_seqscan``): a plan made
    on an empty ``messages`` table scanned all of it for every batch once it was large."""
    return create_async_engine(
        database_url,
        pool_size=2,
        max_overflow=4,
        isolation_level="AUTOCOMMIT",
        connect_args={
            "server_settings": {"plan_cache_mode": "force_generic_plan", "enable_seqscan": "off"}
        },
    )


def connect_sqlite_writer(database_url: str) -> sqlite3.Connection:
    """A plain sqlite3 connection to the SQLite file of ``database_url`` for the send queue's
    batches (one thread hop per batch step, no per-statement compilation). Transactions are
    explicit (the driver's implicit BEGIN is off); the caller issues ``BEGIN IMMEDIATE``."""
    path = make_url(database_url).database
    if not path:
        raise ValueError("the SQLite writer needs a database file")
    connection = sqlite3.connect(path, timeout=10, isolation_level=None)
    _sqlite_pragmas(connection, None)
    return connection


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions that keep loaded objects usable after commit."""
    return async_sessionmaker(engine, expire_on_commit=False)
