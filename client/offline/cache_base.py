"""The connection to one account's cache database, its transactions, key/value meta, and
single-message lookups; the other cache layers build on it.

The database runs in WAL mode with ``synchronous=NORMAL``: a process killed at any point keeps
every committed transaction (only a power cut may drop the last few, never corrupting the file).

Reads run on the ``sqlite3`` connection itself; writes, transactions and migrations go through
sqlite-utils (``db``) over that same connection. sqlite-utils is built on the first write, not on
open: importing it (with click, dateutil and pluggy) takes about a third of a second, longer than
the whole cold start to a chat list is allowed, which reads only.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from client.offline.records import CachedMessage
from client.offline.schema import SCHEMA_VERSION, migrate, schema_version

if TYPE_CHECKING:
    import sqlite_utils

LAST_EVENT_ID_KEY: Final = "last_event_id"


class CacheBase:
    """The cache database of one account. ``me`` is the signed-in user's id."""

    def __init__(self, path: Path, me: str) -> None:
        """Open (creating and migrating when needed) the cache database at ``path``."""
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.me = me
        self.conn = sqlite3.connect(str(path), check_same_thread=False)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=NORMAL")
        self.conn.execute("PRAGMA temp_store=MEMORY")
        if schema_version(self.conn) != SCHEMA_VERSION:
            migrate(self.db)

    @cached_property
    def db(self) -> sqlite_utils.Database:
        """sqlite-utils over the cache's connection: every write and transaction uses it."""
        import sqlite_utils  # on the first write: the start-up read path does without it

        return sqlite_utils.Database(self.conn)

    def close(self) -> None:
        """Close the database connection."""
        self.conn.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Run the block in one transaction (nested blocks become savepoints)."""
        with self.db.atomic():
            yield

    def rows(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> list[dict[str, Any]]:
        """Run a read query and return its rows as dicts (on the connection itself: reads are
        the hot path, and start-up must not wait for sqlite-utils)."""
        cursor = self.conn.execute(sql, params)
        names = [column[0] for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def one(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> dict[str, Any] | None:
        """The first row of a read query, or None."""
        found = self.rows(sql, params)
        return found[0] if found else None

    # --- meta ---------------------------------------------------------------------------------

    def get_meta(self, key: str) -> str | None:
        """Return the value stored under ``key``, or None."""
        row = self.one("SELECT value FROM meta WHERE key = ?", [key])
        return None if row is None else str(row["value"])

    def set_meta(self, key: str, value: str) -> None:
        """Store ``value`` under ``key``."""
        self.db.execute(
            "INSERT INTO meta(key, value) VALUES (?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            [key, value],
        )

    @property
    def last_event_id(self) -> int:
        """The id of the last server event applied to this cache (0 before the first)."""
        value = self.get_meta(LAST_EVENT_ID_KEY)
        return int(value) if value is not None else 0

    def set_last_event_id(self, event_id: int) -> None:
        """Remember ``event_id`` as the last applied event."""
        self.set_meta(LAST_EVENT_ID_KEY, str(event_id))

    def message(self, local_id: int) -> CachedMessage | None:
        """Return a message by local id."""
        row = self.one("SELECT * FROM messages WHERE local_id = ?", [local_id])
        return None if row is None else CachedMessage.from_row(row, self.me)

    def message_by_id(self, message_id: str) -> CachedMessage | None:
        """Return a message by server id."""
        row = self.one("SELECT * FROM messages WHERE id = ?", [message_id])
        return None if row is None else CachedMessage.from_row(row, self.me)

    def message_by_client_id(self, client_id: str) -> CachedMessage | None:
        """Return one of the caller's messages by its client id."""
        row = self.one(
            "SELECT * FROM messages WHERE sender_id = ? AND client_id = ?", [self.me, client_id]
        )
        return None if row is None else CachedMessage.from_row(row, self.me)
