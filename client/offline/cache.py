"""The local SQLite cache of one account (through sqlite-utils): every screen reads it first.

Writes never commit half a change: each public write runs inside ``transaction()``, which nests,
so an action can put the optimistic cache change and its outbox row in one transaction.

``Cache`` is built in layers, each a module: ``CacheBase`` (connection, transactions, meta) <
``MessageCache`` (message writes) < ``ConversationCache`` (users, conversations, members) <
``Cache`` (the reads screens make: chat list, message pages, search; drafts, recent emojis).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from client.offline.cache_conversations import ConversationCache
from client.offline.highlight import highlight, query_words
from client.offline.records import CachedMessage, ChatRow, Draft, SearchResult
from client.offline.schema import PENDING_POSITION_BASE

if TYPE_CHECKING:  # the wire models import pydantic: only where used (see ``records``)
    from protocol.models import MessageEdit

CACHE_FILENAME: Final = "cache.sqlite3"

_CHAT_LIST_SQL: Final = """
SELECT c.*, m.sender_id AS lm_sender_id, m.text AS lm_text, m.type AS lm_type,
       m.status AS lm_status, m.deleted AS lm_deleted, m.created_at AS lm_created_at,
       d.text AS draft_text
FROM conversations AS c
LEFT JOIN messages AS m ON m.local_id = c.last_message_local_id
LEFT JOIN drafts AS d ON d.conversation_id = c.id
WHERE c.is_archived = ?
ORDER BY c.is_pinned DESC, c.pin_rank, c.last_activity_at DESC
"""

SEARCH_CANDIDATES: Final = 500
"""Search ranks the newest this-many matches (bm25 over every match of a common prefix in a
million messages would take hundreds of milliseconds; recent matches are what a chat search
is for)."""

_SEARCH_SQL: Final = """
SELECT m.*, c.title AS conversation_title, hit.rank AS rank
FROM (
    SELECT messages_fts.rowid AS hit_id, messages_fts.rank AS rank
    FROM messages_fts {conversation_join}
    WHERE messages_fts MATCH :match {conversation_filter}
    ORDER BY messages_fts.rowid DESC
    LIMIT :candidates
) AS hit
JOIN messages AS m ON m.local_id = hit.hit_id
LEFT JOIN conversations AS c ON c.id = m.conversation_id
ORDER BY hit.rank
LIMIT :limit
"""


class Cache(ConversationCache):
    """One account's local cache: the reads every screen makes, drafts and recent emojis."""

    @classmethod
    def open(cls, data_dir: Path, me: str) -> Cache:
        """Open the cache file of the account whose data directory is ``data_dir``."""
        return cls(data_dir / CACHE_FILENAME, me)

    def messages_before(
        self, conversation_id: str, before: int | None = None, limit: int = 50
    ) -> list[CachedMessage]:
        """Up to ``limit`` messages just before position ``before`` (None: the newest),
        oldest first — the first page of a chat and every older page (keyset paging)."""
        rows = self.rows(
            """SELECT * FROM messages WHERE conversation_id = ? AND position < ?
            ORDER BY position DESC LIMIT ?""",
            [conversation_id, before if before is not None else 1 << 62, limit],
        )
        return [CachedMessage.from_row(r, self.me) for r in rows][::-1]

    def messages_after(
        self, conversation_id: str, after: int, limit: int = 50
    ) -> list[CachedMessage]:
        """Up to ``limit`` messages just after position ``after``, oldest first."""
        rows = self.rows(
            """SELECT * FROM messages WHERE conversation_id = ? AND position > ?
            ORDER BY position LIMIT ?""",
            [conversation_id, after, limit],
        )
        return [CachedMessage.from_row(r, self.me) for r in rows]

    def has_seq(self, conversation_id: str, seq: int) -> bool:
        """Whether the cache holds the message with ``seq`` of a conversation (a sent message's
        position is its seq)."""
        row = self.one(
            "SELECT 1 FROM messages WHERE conversation_id = ? AND position = ?",
            [conversation_id, seq],
        )
        return row is not None

    def cached_ids(self, message_ids: Sequence[str]) -> set[str]:
        """Those of ``message_ids`` the cache holds."""
        if not message_ids:
            return set()
        marks = ",".join("?" * len(message_ids))
        rows = self.rows(f"SELECT id FROM messages WHERE id IN ({marks})", list(message_ids))
        return {r["id"] for r in rows}

    def latest_received(self, conversation_id: str) -> CachedMessage | None:
        """The newest stored message of a conversation (what a read receipt points at)."""
        row = self.one(
            """SELECT * FROM messages WHERE conversation_id = ? AND position < ?
            ORDER BY position DESC LIMIT 1""",
            [conversation_id, PENDING_POSITION_BASE],
        )
        return None if row is None else CachedMessage.from_row(row, self.me)

    def edits(self, message_id: str) -> list[MessageEdit]:
        """Earlier versions of a message, oldest first."""
        from protocol.models import MessageEdit  # pydantic: not on the start-up path

        rows = self.rows(
            "SELECT * FROM message_edits WHERE message_id = ? ORDER BY edited_at", [message_id]
        )
        return [MessageEdit.model_validate(r) for r in rows]

    def chat_list(self, archived: bool = False) -> list[ChatRow]:
        """The chat list: pinned first by pin rank, then by last activity, with each
        conversation's last message, unread count and draft (one indexed query)."""
        return [ChatRow.from_row(r) for r in self.rows(_CHAT_LIST_SQL, [int(archived)])]

    def conversation(self, conversation_id: str) -> ChatRow | None:
        """One conversation as a chat-list row."""
        sql = _CHAT_LIST_SQL.replace("WHERE c.is_archived = ?", "WHERE c.id = ?")
        row = self.one(sql, [conversation_id])
        return None if row is None else ChatRow.from_row(row)

    def search(
        self, text: str, conversation_id: str | None = None, limit: int = 30
    ) -> list[SearchResult]:
        """Full-text search of cached messages: every word as a prefix; the newest
        ``SEARCH_CANDIDATES`` matches ranked by bm25, best first, with ``[[highlighted]]``
        snippets; deleted messages are never found."""
        words = query_words(text)
        if not words:
            return []
        match = " ".join(f'"{word}"*' for word in words)
        params: dict[str, Any] = {"match": match, "limit": limit, "candidates": SEARCH_CANDIDATES}
        join = where = ""
        if conversation_id is not None:
            join = "JOIN messages AS fm ON fm.local_id = messages_fts.rowid"
            where = "AND fm.conversation_id = :conversation_id"
            params["conversation_id"] = conversation_id
        sql = _SEARCH_SQL.format(conversation_join=join, conversation_filter=where)
        results = []
        for row in self.rows(sql, params):
            message = CachedMessage.from_row(row, self.me)
            found = highlight(message.text or "", words)
            results.append(
                SearchResult(
                    message=message,
                    conversation_title=row["conversation_title"],
                    snippet=found.snippet,
                    match_offsets=found.offsets,
                    rank=float(row["rank"]),
                )
            )
        return results

    # --- drafts and recent emojis -------------------------------------------------------------

    def save_draft(
        self, conversation_id: str, text: str, reply_to_id: str | None, now: float
    ) -> None:
        """Keep the composer's text of a conversation (an empty text removes the draft)."""
        if not text.strip() and reply_to_id is None:
            self.db.execute("DELETE FROM drafts WHERE conversation_id = ?", [conversation_id])
            return
        self.db.execute(
            """INSERT INTO drafts(conversation_id, text, reply_to_id, updated_at) VALUES (?,?,?,?)
            ON CONFLICT(conversation_id) DO UPDATE SET text = excluded.text,
                reply_to_id = excluded.reply_to_id, updated_at = excluded.updated_at""",
            [conversation_id, text, reply_to_id, now],
        )

    def draft(self, conversation_id: str) -> Draft | None:
        """Return the draft of a conversation."""
        row = self.one("SELECT * FROM drafts WHERE conversation_id = ?", [conversation_id])
        if row is None:
            return None
        return Draft(row["conversation_id"], row["text"], row["reply_to_id"])

    def record_emoji(self, emoji: str, now: float) -> None:
        """Note that the user just used ``emoji``."""
        self.db.execute(
            """INSERT INTO recent_emojis(emoji, used_at, uses) VALUES (?, ?, 1)
            ON CONFLICT(emoji) DO UPDATE SET used_at = excluded.used_at, uses = uses + 1""",
            [emoji, now],
        )

    def recent_emojis(self, limit: int = 24) -> list[str]:
        """The most recently used emojis, newest first."""
        rows = self.rows("SELECT emoji FROM recent_emojis ORDER BY used_at DESC LIMIT ?", [limit])
        return [r["emoji"] for r in rows]
