"""The local cache's schema and its migrations, versioned by ``PRAGMA user_version``.

Each migration is a list of SQL statements run in one transaction together with the bump of
``user_version``; a database is brought from whatever version it is at to ``SCHEMA_VERSION``.
Never edit a released migration: append a new one.
"""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:  # imported by the cache on the first write (see ``cache_base``)
    import sqlite_utils

PENDING_POSITION_BASE: Final = 1 << 60
"""Messages are ordered by ``position``: ``seq`` once the server stored them, this base plus the
local row id while they are pending or failed, so unsent messages sort last in creation order."""

_V1: Final[tuple[str, ...]] = (
    """CREATE TABLE users (
        id TEXT PRIMARY KEY,
        username TEXT NOT NULL,
        display_name TEXT NOT NULL,
        created_at TEXT
    )""",
    """CREATE TABLE conversations (
        id TEXT PRIMARY KEY,
        type TEXT NOT NULL,
        title TEXT,
        peer_id TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        last_seq INTEGER NOT NULL DEFAULT 0,
        my_role TEXT NOT NULL DEFAULT 'member',
        member_count INTEGER NOT NULL DEFAULT 0,
        last_activity_at TEXT NOT NULL,
        last_message_local_id INTEGER,
        unread_count INTEGER NOT NULL DEFAULT 0,
        last_read_seq INTEGER NOT NULL DEFAULT 0,
        last_read_message_id TEXT,
        is_pinned INTEGER NOT NULL DEFAULT 0,
        pin_rank INTEGER,
        is_archived INTEGER NOT NULL DEFAULT 0,
        is_muted INTEGER NOT NULL DEFAULT 0,
        muted_until TEXT,
        notifications_on INTEGER NOT NULL DEFAULT 1
    )""",
    """CREATE INDEX conversations_list
        ON conversations(is_archived, is_pinned DESC, pin_rank, last_activity_at DESC)""",
    """CREATE TABLE members (
        conversation_id TEXT NOT NULL,
        user_id TEXT NOT NULL,
        role TEXT NOT NULL DEFAULT 'member',
        joined_at TEXT,
        last_read_seq INTEGER NOT NULL DEFAULT 0,
        last_delivered_seq INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (conversation_id, user_id)
    ) WITHOUT ROWID""",
    """CREATE TABLE messages (
        local_id INTEGER PRIMARY KEY,
        id TEXT UNIQUE,
        client_id TEXT,
        conversation_id TEXT NOT NULL,
        sender_id TEXT NOT NULL,
        seq INTEGER,
        position INTEGER NOT NULL,
        type TEXT NOT NULL DEFAULT 'text',
        text TEXT,
        status TEXT NOT NULL,
        failure_code TEXT,
        failure_reason TEXT,
        reply_to_id TEXT,
        forwarded_from TEXT,
        mentions TEXT NOT NULL DEFAULT '[]',
        media_url TEXT,
        media_mime TEXT,
        media_size INTEGER,
        media_duration_s REAL,
        media_waveform TEXT,
        reactions TEXT NOT NULL DEFAULT '[]',
        created_at TEXT NOT NULL,
        edited_at TEXT,
        deleted INTEGER NOT NULL DEFAULT 0,
        deleted_at TEXT
    )""",
    "CREATE INDEX messages_position ON messages(conversation_id, position)",
    """CREATE UNIQUE INDEX messages_client ON messages(sender_id, client_id)
        WHERE client_id IS NOT NULL""",
    """CREATE INDEX messages_unconfirmed ON messages(conversation_id, sender_id, position)
        WHERE status IN ('sent', 'delivered')""",
    """CREATE TABLE message_edits (
        message_id TEXT NOT NULL,
        text TEXT NOT NULL,
        edited_at TEXT NOT NULL,
        PRIMARY KEY (message_id, edited_at)
    ) WITHOUT ROWID""",
    """CREATE TABLE pinned_messages (
        conversation_id TEXT NOT NULL,
        message_id TEXT NOT NULL,
        rank INTEGER NOT NULL,
        PRIMARY KEY (conversation_id, message_id)
    ) WITHOUT ROWID""",
    """CREATE TABLE drafts (
        conversation_id TEXT PRIMARY KEY,
        text TEXT NOT NULL,
        reply_to_id TEXT,
        updated_at REAL NOT NULL
    )""",
    """CREATE TABLE recent_emojis (
        emoji TEXT PRIMARY KEY,
        used_at REAL NOT NULL,
        uses INTEGER NOT NULL DEFAULT 1
    )""",
    "CREATE INDEX recent_emojis_used ON recent_emojis(used_at DESC)",
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    """CREATE TABLE outbox (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        client_id TEXT NOT NULL UNIQUE,
        kind TEXT NOT NULL,
        conversation_id TEXT,
        target_client_id TEXT,
        payload TEXT NOT NULL,
        state TEXT NOT NULL DEFAULT 'queued',
        revision INTEGER NOT NULL DEFAULT 0,
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at REAL NOT NULL DEFAULT 0,
        error_code TEXT,
        error_message TEXT,
        created_at REAL NOT NULL
    )""",
    "CREATE INDEX outbox_state ON outbox(state, id)",
    "CREATE INDEX outbox_coalesce ON outbox(kind, conversation_id, state)",
    """CREATE VIRTUAL TABLE messages_fts USING fts5(
        text, content='messages', content_rowid='local_id',
        tokenize='unicode61 remove_diacritics 2', prefix='2 3 4'
    )""",
    """CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages
        WHEN new.deleted = 0 AND new.text IS NOT NULL BEGIN
        INSERT INTO messages_fts(rowid, text) VALUES (new.local_id, new.text);
    END""",
    """CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages
        WHEN old.deleted = 0 AND old.text IS NOT NULL BEGIN
        INSERT INTO messages_fts(messages_fts, rowid, text)
            VALUES ('delete', old.local_id, old.text);
    END""",
    """CREATE TRIGGER messages_fts_update AFTER UPDATE OF text, deleted ON messages BEGIN
        INSERT INTO messages_fts(messages_fts, rowid, text)
            SELECT 'delete', old.local_id, old.text WHERE old.deleted = 0 AND old.text IS NOT NULL;
        INSERT INTO messages_fts(rowid, text)
            SELECT new.local_id, new.text WHERE new.deleted = 0 AND new.text IS NOT NULL;
    END""",
)

_V2: Final[tuple[str, ...]] = ("ALTER TABLE outbox ADD COLUMN undo TEXT",)
"""How to roll back an item's optimistic change should it fail for good."""

_V3: Final[tuple[str, ...]] = (
    "ALTER TABLE conversations ADD COLUMN locked INTEGER NOT NULL DEFAULT 0",
    "ALTER TABLE members ADD COLUMN muted_until TEXT",
)
"""A locked group (only owners and admins post) and a member muted by an admin."""

MIGRATIONS: Final[tuple[tuple[str, ...], ...]] = (_V1, _V2, _V3)
"""``MIGRATIONS[n]`` takes a database from version ``n`` to ``n + 1``."""

SCHEMA_VERSION: Final = len(MIGRATIONS)


def schema_version(conn: sqlite3.Connection) -> int:
    """Return the database's ``PRAGMA user_version``."""
    row = conn.execute("PRAGMA user_version").fetchone()
    return int(row[0])


def migrate(db: sqlite_utils.Database) -> int:
    """Apply every migration the database lacks, each in its own transaction; return the version.

    Raises ``RuntimeError`` when the database was written by a newer schema than this code knows.
    """
    version = schema_version(db.conn)
    if version > SCHEMA_VERSION:
        raise RuntimeError(
            f"cache schema version {version} is newer than this app's ({SCHEMA_VERSION})"
        )
    for target in range(version, SCHEMA_VERSION):
        with db.atomic():
            for statement in MIGRATIONS[target]:
                db.execute(statement)
            db.execute(f"PRAGMA user_version = {target + 1}")
    return SCHEMA_VERSION
