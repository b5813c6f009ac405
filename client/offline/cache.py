"""The local SQLite cache of one account (through sqlite-utils): every screen reads it first.

Writes never commit half a change: each public write runs inside ``transaction()``, which nests,
so an action can put the optimistic cache change and its outbox row in one transaction.
"""

import json
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Final

import sqlite_utils

from client.offline.highlight import highlight, query_words
from client.offline.records import (
    CachedMessage,
    ChatRow,
    Draft,
    MemberRow,
    MessageStatus,
    SearchResult,
    to_iso,
)
from client.offline.schema import PENDING_POSITION_BASE, migrate
from protocol.models import (
    Conversation,
    ConversationSettings,
    ForwardOrigin,
    Member,
    Message,
    MessageEdit,
    MessageType,
    ReactionSummary,
    User,
)

CACHE_FILENAME: Final = "cache.sqlite3"
LAST_EVENT_ID_KEY: Final = "last_event_id"

_CONFIRMED_RANK: Final = {
    MessageStatus.SENT: 1,
    MessageStatus.DELIVERED: 2,
    MessageStatus.READ: 3,
}

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


@dataclass(frozen=True, slots=True)
class StoreOutcome:
    """What ``Cache.store_message`` did: the row, whether it was new to the cache, and the text
    it replaced when the message was edited."""

    local_id: int
    is_new: bool
    previous_text: str | None


def _json_reactions(reactions: Iterable[ReactionSummary]) -> str:
    return json.dumps(
        [
            {
                "emoji": r.emoji,
                "count": r.count,
                "user_ids": r.user_ids,
                "reacted_by_me": r.reacted_by_me,
            }
            for r in reactions
            if r.count > 0
        ]
    )


class Cache:
    """One account's local cache. ``me`` is the signed-in user's id."""

    def __init__(self, path: Path, me: str) -> None:
        """Open (creating and migrating when needed) the cache database at ``path``."""
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.me = me
        self.db = sqlite_utils.Database(sqlite3.connect(str(path), check_same_thread=False))
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.execute("PRAGMA temp_store=MEMORY")
        migrate(self.db)

    @classmethod
    def open(cls, data_dir: Path, me: str) -> "Cache":
        """Open the cache file of the account whose data directory is ``data_dir``."""
        return cls(data_dir / CACHE_FILENAME, me)

    def close(self) -> None:
        """Close the database connection."""
        self.db.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Run the block in one transaction (nested blocks become savepoints)."""
        with self.db.atomic():
            yield

    def _one(self, sql: str, params: Sequence[Any] | dict[str, Any]) -> dict[str, Any] | None:
        return next(self.db.query(sql, params), None)

    # --- meta ---------------------------------------------------------------------------------

    def get_meta(self, key: str) -> str | None:
        """Return the value stored under ``key``, or None."""
        row = self._one("SELECT value FROM meta WHERE key = ?", [key])
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

    # --- users, conversations, members --------------------------------------------------------

    def upsert_users(self, users: Iterable[User]) -> None:
        """Insert or update users."""
        with self.transaction():
            for user in users:
                self.db.execute(
                    "INSERT INTO users(id, username, display_name, created_at) VALUES (?,?,?,?) "
                    "ON CONFLICT(id) DO UPDATE SET username = excluded.username, "
                    "display_name = excluded.display_name",
                    [
                        user.id,
                        user.username,
                        user.display_name,
                        to_iso(user.created_at) if user.created_at else None,
                    ],
                )

    def user(self, user_id: str) -> User | None:
        """Return a cached user."""
        row = self._one("SELECT * FROM users WHERE id = ?", [user_id])
        return None if row is None else User.model_validate(row)

    def upsert_conversation(self, conversation: Conversation) -> None:
        """Insert or update a conversation as ``GET /conversations`` returns it (with its last
        message, unread count, pinned messages and the caller's settings)."""
        c = conversation
        s = c.settings
        with self.transaction():
            if c.peer is not None:
                self.upsert_users([c.peer])
            if c.last_message is not None:
                self.store_message(c.last_message)
            last_read_seq = max(0, c.last_seq - c.unread_count)
            if s.last_read_message_id:
                read = self._one("SELECT seq FROM messages WHERE id = ?", [s.last_read_message_id])
                if read is not None and read["seq"] is not None:
                    last_read_seq = int(read["seq"])
            self.db.execute(
                """INSERT INTO conversations(id, type, title, peer_id, created_at, updated_at,
                    last_seq, my_role, member_count, last_activity_at, unread_count,
                    last_read_seq, last_read_message_id, is_pinned, pin_rank, is_archived,
                    is_muted, muted_until, notifications_on)
                VALUES (:id, :type, :title, :peer_id, :created_at, :updated_at, :last_seq,
                    :my_role, :member_count, :updated_at, :unread_count, :last_read_seq,
                    :last_read_message_id, :is_pinned, :pin_rank, :is_archived, :is_muted,
                    :muted_until, :notifications_on)
                ON CONFLICT(id) DO UPDATE SET type = excluded.type, title = excluded.title,
                    peer_id = excluded.peer_id, updated_at = excluded.updated_at,
                    last_seq = max(last_seq, excluded.last_seq), my_role = excluded.my_role,
                    member_count = excluded.member_count,
                    last_activity_at = max(last_activity_at, excluded.last_activity_at),
                    unread_count = excluded.unread_count,
                    last_read_seq = excluded.last_read_seq,
                    last_read_message_id = excluded.last_read_message_id,
                    is_pinned = excluded.is_pinned, pin_rank = excluded.pin_rank,
                    is_archived = excluded.is_archived, is_muted = excluded.is_muted,
                    muted_until = excluded.muted_until,
                    notifications_on = excluded.notifications_on""",
                {
                    "id": c.id,
                    "type": c.type.value,
                    "title": c.title,
                    "peer_id": c.peer.id if c.peer else None,
                    "created_at": to_iso(c.created_at),
                    "updated_at": to_iso(c.updated_at),
                    "last_seq": c.last_seq,
                    "my_role": c.my_role.value,
                    "member_count": c.member_count,
                    "unread_count": c.unread_count,
                    "last_read_seq": last_read_seq,
                    "last_read_message_id": s.last_read_message_id,
                    "is_pinned": int(s.is_pinned),
                    "pin_rank": s.pin_rank,
                    "is_archived": int(s.is_archived),
                    "is_muted": int(s.is_muted),
                    "muted_until": to_iso(s.muted_until) if s.muted_until else None,
                    "notifications_on": int(s.notifications_on),
                },
            )
            self.set_pins(c.id, c.pinned_message_ids)
            self._refresh_last_message(c.id)

    def has_conversation(self, conversation_id: str) -> bool:
        """True when the conversation is cached."""
        return (
            self._one("SELECT 1 AS x FROM conversations WHERE id = ?", [conversation_id])
            is not None
        )

    def remove_conversation(self, conversation_id: str) -> None:
        """Forget a conversation the user left or was removed from, with its messages."""
        with self.transaction():
            for table, column in (
                ("messages", "conversation_id"),
                ("members", "conversation_id"),
                ("pinned_messages", "conversation_id"),
                ("drafts", "conversation_id"),
                ("conversations", "id"),
            ):
                self.db.execute(f"DELETE FROM {table} WHERE {column} = ?", [conversation_id])

    def set_conversation_title(self, conversation_id: str, title: str) -> None:
        """Rename a conversation."""
        self.db.execute("UPDATE conversations SET title = ? WHERE id = ?", [title, conversation_id])

    def apply_settings(self, conversation_id: str, settings: ConversationSettings) -> None:
        """Replace the caller's settings of a conversation (pin, archive, mute, notifications)."""
        self.db.execute(
            """UPDATE conversations SET is_pinned = ?, pin_rank = ?, is_archived = ?,
                is_muted = ?, muted_until = ?, notifications_on = ? WHERE id = ?""",
            [
                int(settings.is_pinned),
                settings.pin_rank if settings.is_pinned else None,
                int(settings.is_archived),
                int(settings.is_muted),
                to_iso(settings.muted_until) if settings.muted_until else None,
                int(settings.notifications_on),
                conversation_id,
            ],
        )

    def settings(self, conversation_id: str) -> ConversationSettings | None:
        """Return the caller's cached settings of a conversation."""
        row = self._one("SELECT * FROM conversations WHERE id = ?", [conversation_id])
        if row is None:
            return None
        return ConversationSettings(
            is_pinned=bool(row["is_pinned"]),
            pin_rank=row["pin_rank"],
            is_archived=bool(row["is_archived"]),
            is_muted=bool(row["is_muted"]),
            muted_until=row["muted_until"],
            notifications_on=bool(row["notifications_on"]),
        )

    def next_pin_rank(self) -> int:
        """The rank a newly pinned conversation takes (after every pinned one)."""
        row = self._one("SELECT max(pin_rank) AS r FROM conversations WHERE is_pinned = 1", [])
        return 0 if row is None or row["r"] is None else int(row["r"]) + 1

    def upsert_members(self, conversation_id: str, members: Iterable[Member]) -> None:
        """Insert or update the members of a conversation (and their users)."""
        with self.transaction():
            for member in members:
                self.upsert_users([member.user])
                self.db.execute(
                    """INSERT INTO members(conversation_id, user_id, role, joined_at,
                        last_read_seq, last_delivered_seq) VALUES (?,?,?,?,?,?)
                    ON CONFLICT(conversation_id, user_id) DO UPDATE SET role = excluded.role,
                        last_read_seq = max(last_read_seq, excluded.last_read_seq),
                        last_delivered_seq = max(last_delivered_seq, excluded.last_delivered_seq)
                    """,
                    [
                        conversation_id,
                        member.user.id,
                        member.role.value,
                        to_iso(member.joined_at),
                        member.last_read_seq,
                        member.last_delivered_seq,
                    ],
                )

    def set_member(self, conversation_id: str, user_id: str, role: str) -> None:
        """Add a member (or change their role) from a membership event."""
        self.db.execute(
            """INSERT INTO members(conversation_id, user_id, role) VALUES (?,?,?)
            ON CONFLICT(conversation_id, user_id) DO UPDATE SET role = excluded.role""",
            [conversation_id, user_id, role],
        )

    def remove_member(self, conversation_id: str, user_id: str) -> None:
        """Remove a member of a conversation."""
        self.db.execute(
            "DELETE FROM members WHERE conversation_id = ? AND user_id = ?",
            [conversation_id, user_id],
        )

    def members(self, conversation_id: str) -> list[MemberRow]:
        """The members of a conversation with their names and receipt positions."""
        rows = self.db.query(
            """SELECT mb.*, u.username, u.display_name FROM members AS mb
            LEFT JOIN users AS u ON u.id = mb.user_id WHERE mb.conversation_id = ?""",
            [conversation_id],
        )
        return [
            MemberRow(
                user_id=r["user_id"],
                username=r["username"],
                display_name=r["display_name"],
                role=r["role"],
                last_read_seq=r["last_read_seq"],
                last_delivered_seq=r["last_delivered_seq"],
            )
            for r in rows
        ]

    # --- messages: writes ---------------------------------------------------------------------

    def add_pending_message(
        self,
        conversation_id: str,
        text: str,
        client_id: str,
        created_at: datetime,
        reply_to_id: str | None = None,
        forwarded_from: ForwardOrigin | None = None,
    ) -> CachedMessage:
        """Store an own message the server has not acknowledged yet (``status=pending``); it
        sorts after every sent message, in creation order."""
        with self.transaction():
            cursor = self.db.execute(
                """INSERT INTO messages(client_id, conversation_id, sender_id, position, type,
                    text, status, reply_to_id, forwarded_from, created_at)
                VALUES (?, ?, ?, 0, ?, ?, ?, ?, ?, ?)""",
                [
                    client_id,
                    conversation_id,
                    self.me,
                    MessageType.TEXT.value,
                    text,
                    MessageStatus.PENDING.value,
                    reply_to_id,
                    forwarded_from.model_dump_json() if forwarded_from else None,
                    to_iso(created_at),
                ],
            )
            local_id = int(cursor.lastrowid or 0)
            self.db.execute(
                "UPDATE messages SET position = ? WHERE local_id = ?",
                [PENDING_POSITION_BASE + local_id, local_id],
            )
            self._refresh_last_message(conversation_id)
        message = self.message(local_id)
        assert message is not None
        return message

    def store_message(self, message: Message) -> StoreOutcome:
        """Insert or update a message from the server, idempotently.

        Matched by server id, else by (sender, client id) — so a pending message becomes sent
        (taking the server's id, seq and timestamp) whether its ack or its ``message_new`` comes
        first. A changed text is kept in the edit history. New messages from others raise the
        unread badge when they are after the read position.
        """
        m = message
        with self.transaction():
            existing = self._one(
                "SELECT local_id, text, status, deleted, edited_at FROM messages WHERE id = ?",
                [m.id],
            )
            if existing is None and m.client_id:
                existing = self._one(
                    "SELECT local_id, text, status, deleted, edited_at FROM messages "
                    "WHERE sender_id = ? AND client_id = ?",
                    [m.sender_id, m.client_id],
                )
            deleted = m.deleted_at is not None
            values: dict[str, Any] = {
                "id": m.id,
                "client_id": m.client_id,
                "conversation_id": m.conversation_id,
                "sender_id": m.sender_id,
                "seq": m.seq,
                "position": m.seq,
                "type": m.type.value,
                "text": None if deleted else m.text,
                "status": self._status_for(m, existing),
                "reply_to_id": m.reply_to_id,
                "forwarded_from": m.forwarded_from.model_dump_json() if m.forwarded_from else None,
                "mentions": json.dumps(m.mentions),
                "media_url": m.media_url,
                "media_mime": m.media_mime,
                "media_size": m.media_size,
                "media_duration_s": m.media_duration_s,
                "media_waveform": json.dumps(m.media_waveform) if m.media_waveform else None,
                "reactions": _json_reactions(m.reactions),
                "created_at": to_iso(m.created_at),
                "edited_at": to_iso(m.edited_at) if m.edited_at else None,
                "deleted": int(deleted),
                "deleted_at": to_iso(m.deleted_at) if m.deleted_at else None,
            }
            previous_text: str | None = None
            if existing is None:
                columns = ", ".join(values)
                marks = ", ".join(f":{name}" for name in values)
                cursor = self.db.execute(
                    f"INSERT INTO messages({columns}) VALUES ({marks})", values
                )
                local_id = int(cursor.lastrowid or 0)
                if not deleted:
                    self._adjust_unread(m.conversation_id, m.sender_id, m.seq, +1)
            else:
                local_id = int(existing["local_id"])
                was_sent = existing["status"] not in (
                    MessageStatus.PENDING.value,
                    MessageStatus.FAILED.value,
                )
                old_text = existing["text"]
                if (
                    was_sent
                    and not deleted
                    and m.edited_at is not None
                    and old_text is not None
                    and old_text != m.text
                ):
                    previous_text = old_text
                    self.add_edit(m.id, old_text, m.edited_at)
                if deleted and not existing["deleted"]:
                    self._adjust_unread(m.conversation_id, m.sender_id, m.seq, -1)
                assignments = ", ".join(f"{name} = :{name}" for name in values)
                self.db.execute(
                    f"UPDATE messages SET {assignments}, failure_code = NULL, "
                    "failure_reason = NULL WHERE local_id = :local_id",
                    {**values, "local_id": local_id},
                )
            self.db.execute(
                "UPDATE conversations SET last_seq = max(last_seq, ?) WHERE id = ?",
                [m.seq, m.conversation_id],
            )
            self._refresh_last_message(m.conversation_id)
        return StoreOutcome(local_id, existing is None, previous_text)

    def _status_for(self, m: Message, existing: dict[str, Any] | None) -> str:
        if m.sender_id != self.me:
            return MessageStatus.RECEIVED.value
        if existing is not None:
            current = MessageStatus(existing["status"])
            if current in _CONFIRMED_RANK:
                return current.value
        return MessageStatus.SENT.value

    def _adjust_unread(
        self, conversation_id: str, sender_id: str, seq: int | None, delta: int
    ) -> None:
        """Raise or lower the badge for a message from someone else after the read position."""
        if sender_id == self.me or seq is None:
            return
        self.db.execute(
            "UPDATE conversations SET unread_count = max(0, unread_count + ?) "
            "WHERE id = ? AND last_read_seq < ?",
            [delta, conversation_id, seq],
        )

    def _refresh_last_message(self, conversation_id: str) -> None:
        self.db.execute(
            """UPDATE conversations SET
                last_message_local_id = (SELECT local_id FROM messages
                    WHERE conversation_id = :c ORDER BY position DESC LIMIT 1),
                last_activity_at = max(last_activity_at, coalesce((SELECT created_at
                    FROM messages WHERE conversation_id = :c ORDER BY position DESC LIMIT 1),
                    ''))
            WHERE id = :c""",
            {"c": conversation_id},
        )

    def add_edit(self, message_id: str, text: str, edited_at: datetime) -> None:
        """Keep an earlier version of a message in its edit history."""
        self.db.execute(
            "INSERT OR IGNORE INTO message_edits(message_id, text, edited_at) VALUES (?,?,?)",
            [message_id, text, to_iso(edited_at)],
        )

    def edit_locally(self, local_id: int, text: str, edited_at: datetime) -> None:
        """Show an edit at once (the outbox sends it); the old text goes to the history."""
        with self.transaction():
            current = self.message(local_id)
            if current is None or current.deleted:
                return
            if current.id is not None and current.text is not None and current.text != text:
                self.add_edit(current.id, current.text, edited_at)
            self.db.execute(
                "UPDATE messages SET text = ?, edited_at = ? WHERE local_id = ?",
                [text, None if current.id is None else to_iso(edited_at), local_id],
            )

    def mark_deleted(self, message_id: str, deleted_at: datetime) -> None:
        """Soft-delete a message by server id: it keeps its place, loses its text, leaves the
        search index and the unread badge."""
        row = self._one("SELECT local_id FROM messages WHERE id = ?", [message_id])
        if row is not None:
            self.delete_locally(int(row["local_id"]), deleted_at)

    def delete_locally(self, local_id: int, deleted_at: datetime) -> None:
        """Soft-delete a message by local id (the optimistic side of a delete action)."""
        with self.transaction():
            row = self._one(
                "SELECT conversation_id, sender_id, seq, deleted FROM messages WHERE local_id = ?",
                [local_id],
            )
            if row is None or row["deleted"]:
                return
            self.db.execute(
                "UPDATE messages SET deleted = 1, text = NULL, deleted_at = ? WHERE local_id = ?",
                [to_iso(deleted_at), local_id],
            )
            self._adjust_unread(row["conversation_id"], row["sender_id"], row["seq"], -1)

    def remove_unsent(self, local_id: int) -> None:
        """Drop a pending or failed message the user discarded."""
        with self.transaction():
            row = self._one(
                "SELECT conversation_id FROM messages WHERE local_id = ? AND status IN (?, ?)",
                [local_id, MessageStatus.PENDING.value, MessageStatus.FAILED.value],
            )
            if row is None:
                return
            self.db.execute("DELETE FROM messages WHERE local_id = ?", [local_id])
            self._refresh_last_message(row["conversation_id"])

    def set_unsent_status(
        self,
        client_id: str,
        status: MessageStatus,
        code: str | None = None,
        reason: str | None = None,
    ) -> None:
        """Mark an own unsent message pending again (retry) or failed with a reason to show."""
        self.db.execute(
            """UPDATE messages SET status = ?, failure_code = ?, failure_reason = ?
            WHERE sender_id = ? AND client_id = ? AND status IN (?, ?)""",
            [
                status.value,
                code,
                reason,
                self.me,
                client_id,
                MessageStatus.PENDING.value,
                MessageStatus.FAILED.value,
            ],
        )

    def set_reactions(self, message_id: str, reactions: Sequence[ReactionSummary]) -> None:
        """Replace a message's reaction summary."""
        self.db.execute(
            "UPDATE messages SET reactions = ? WHERE id = ?",
            [_json_reactions(reactions), message_id],
        )

    def toggle_reaction_locally(self, local_id: int, emoji: str, add: bool) -> None:
        """Add or remove the caller's reaction in the summary at once (the outbox sends it)."""
        with self.transaction():
            message = self.message(local_id)
            if message is None:
                return
            summary = {r.emoji: r for r in message.reactions}
            current = summary.get(emoji)
            users = [u for u in (current.user_ids if current else []) if u != self.me]
            count = (current.count if current else 0) - int(bool(current and current.reacted_by_me))
            if add:
                users.append(self.me)
                count += 1
            summary[emoji] = ReactionSummary(
                emoji=emoji, count=count, user_ids=users, reacted_by_me=add
            )
            self.db.execute(
                "UPDATE messages SET reactions = ? WHERE local_id = ?",
                [_json_reactions(summary.values()), local_id],
            )

    def apply_receipt(self, conversation_id: str, user_id: str, seq: int, read: bool) -> None:
        """Record that ``user_id`` stored (or read) every message up to ``seq``.

        For the caller's own devices a read receipt moves the read position and clears the
        badge; for others it advances the member and the ticks of the caller's messages (in a
        group: once every other member got that far).
        """
        with self.transaction():
            if user_id == self.me:
                if read:
                    self.mark_read_up_to(conversation_id, seq)
                return
            column = "last_read_seq" if read else "last_delivered_seq"
            self.db.execute(
                f"""INSERT INTO members(conversation_id, user_id, {column}) VALUES (?,?,?)
                ON CONFLICT(conversation_id, user_id) DO UPDATE
                SET {column} = max({column}, excluded.{column})""",
                [conversation_id, user_id, seq],
            )
            if read:
                self.db.execute(
                    """UPDATE members SET last_delivered_seq = max(last_delivered_seq, ?)
                    WHERE conversation_id = ? AND user_id = ?""",
                    [seq, conversation_id, user_id],
                )
            self._advance_ticks(conversation_id)

    def _advance_ticks(self, conversation_id: str) -> None:
        row = self._one(
            """SELECT min(last_read_seq) AS r, min(last_delivered_seq) AS d FROM members
            WHERE conversation_id = ? AND user_id != ?""",
            [conversation_id, self.me],
        )
        if row is None or row["r"] is None:
            return
        # "status IN ('sent', 'delivered')" lets both updates use the messages_unconfirmed index
        self.db.execute(
            """UPDATE messages SET status = 'read' WHERE conversation_id = ? AND sender_id = ?
            AND position <= ? AND status IN ('sent', 'delivered')""",
            [conversation_id, self.me, row["r"]],
        )
        self.db.execute(
            """UPDATE messages SET status = 'delivered' WHERE conversation_id = ? AND sender_id = ?
            AND position <= ? AND status IN ('sent', 'delivered') AND status = 'sent'""",
            [conversation_id, self.me, row["d"]],
        )

    def mark_read_up_to(self, conversation_id: str, seq: int) -> bool:
        """Move the caller's read position forward to ``seq`` and recount the badge; False when
        it was already there."""
        with self.transaction():
            row = self._one(
                "SELECT last_read_seq FROM conversations WHERE id = ?", [conversation_id]
            )
            if row is None or row["last_read_seq"] >= seq:
                return False
            read_id = self._one(
                "SELECT id FROM messages WHERE conversation_id = ? AND position = ?",
                [conversation_id, seq],
            )
            self.db.execute(
                """UPDATE conversations SET last_read_seq = :seq,
                    last_read_message_id = coalesce(:mid, last_read_message_id),
                    unread_count = (SELECT count(*) FROM messages WHERE conversation_id = :c
                        AND position > :seq AND position < :base AND sender_id != :me
                        AND deleted = 0)
                WHERE id = :c""",
                {
                    "seq": seq,
                    "mid": read_id["id"] if read_id else None,
                    "c": conversation_id,
                    "base": PENDING_POSITION_BASE,
                    "me": self.me,
                },
            )
            return True

    def set_pins(self, conversation_id: str, message_ids: Sequence[str]) -> None:
        """Replace the pinned messages of a conversation (in pin order)."""
        with self.transaction():
            self.db.execute(
                "DELETE FROM pinned_messages WHERE conversation_id = ?", [conversation_id]
            )
            for rank, message_id in enumerate(message_ids):
                self.db.execute(
                    "INSERT OR IGNORE INTO pinned_messages(conversation_id, message_id, rank) "
                    "VALUES (?,?,?)",
                    [conversation_id, message_id, rank],
                )

    def pinned_ids(self, conversation_id: str) -> list[str]:
        """The server ids of a conversation's pinned messages, in pin order."""
        rows = self.db.query(
            "SELECT message_id FROM pinned_messages WHERE conversation_id = ? ORDER BY rank",
            [conversation_id],
        )
        return [r["message_id"] for r in rows]

    def pinned_messages(self, conversation_id: str) -> list[CachedMessage]:
        """The cached pinned messages of a conversation, in pin order."""
        rows = self.db.query(
            """SELECT m.* FROM pinned_messages AS p JOIN messages AS m ON m.id = p.message_id
            WHERE p.conversation_id = ? ORDER BY p.rank""",
            [conversation_id],
        )
        return [CachedMessage.from_row(r, self.me) for r in rows]

    def reset_server_state(self) -> None:
        """Forget everything learned from the server (before a full resync) but keep unsent
        messages, drafts, recent emojis and the outbox."""
        with self.transaction():
            self.db.execute(
                "DELETE FROM messages WHERE status NOT IN (?, ?)",
                [MessageStatus.PENDING.value, MessageStatus.FAILED.value],
            )
            for table in ("conversations", "members", "pinned_messages", "message_edits"):
                self.db.execute(f"DELETE FROM {table}")
            self.set_last_event_id(0)

    # --- messages: reads ----------------------------------------------------------------------

    def message(self, local_id: int) -> CachedMessage | None:
        """Return a message by local id."""
        row = self._one("SELECT * FROM messages WHERE local_id = ?", [local_id])
        return None if row is None else CachedMessage.from_row(row, self.me)

    def message_by_id(self, message_id: str) -> CachedMessage | None:
        """Return a message by server id."""
        row = self._one("SELECT * FROM messages WHERE id = ?", [message_id])
        return None if row is None else CachedMessage.from_row(row, self.me)

    def message_by_client_id(self, client_id: str) -> CachedMessage | None:
        """Return one of the caller's messages by its client id."""
        row = self._one(
            "SELECT * FROM messages WHERE sender_id = ? AND client_id = ?", [self.me, client_id]
        )
        return None if row is None else CachedMessage.from_row(row, self.me)

    def messages_before(
        self, conversation_id: str, before: int | None = None, limit: int = 50
    ) -> list[CachedMessage]:
        """Up to ``limit`` messages just before position ``before`` (None: the newest),
        oldest first — the first page of a chat and every older page (keyset paging)."""
        rows = self.db.query(
            """SELECT * FROM messages WHERE conversation_id = ? AND position < ?
            ORDER BY position DESC LIMIT ?""",
            [conversation_id, before if before is not None else 1 << 62, limit],
        )
        return [CachedMessage.from_row(r, self.me) for r in rows][::-1]

    def messages_after(
        self, conversation_id: str, after: int, limit: int = 50
    ) -> list[CachedMessage]:
        """Up to ``limit`` messages just after position ``after``, oldest first."""
        rows = self.db.query(
            """SELECT * FROM messages WHERE conversation_id = ? AND position > ?
            ORDER BY position LIMIT ?""",
            [conversation_id, after, limit],
        )
        return [CachedMessage.from_row(r, self.me) for r in rows]

    def latest_received(self, conversation_id: str) -> CachedMessage | None:
        """The newest stored message of a conversation (what a read receipt points at)."""
        row = self._one(
            """SELECT * FROM messages WHERE conversation_id = ? AND position < ?
            ORDER BY position DESC LIMIT 1""",
            [conversation_id, PENDING_POSITION_BASE],
        )
        return None if row is None else CachedMessage.from_row(row, self.me)

    def edits(self, message_id: str) -> list[MessageEdit]:
        """Earlier versions of a message, oldest first."""
        rows = self.db.query(
            "SELECT * FROM message_edits WHERE message_id = ? ORDER BY edited_at", [message_id]
        )
        return [MessageEdit.model_validate(r) for r in rows]

    def chat_list(self, archived: bool = False) -> list[ChatRow]:
        """The chat list: pinned first by pin rank, then by last activity, with each
        conversation's last message, unread count and draft (one indexed query)."""
        return [ChatRow.from_row(r) for r in self.db.query(_CHAT_LIST_SQL, [int(archived)])]

    def conversation(self, conversation_id: str) -> ChatRow | None:
        """One conversation as a chat-list row."""
        sql = _CHAT_LIST_SQL.replace("WHERE c.is_archived = ?", "WHERE c.id = ?")
        row = self._one(sql, [conversation_id])
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
        for row in self.db.query(sql, params):
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
        row = self._one("SELECT * FROM drafts WHERE conversation_id = ?", [conversation_id])
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
        rows = self.db.query(
            "SELECT emoji FROM recent_emojis ORDER BY used_at DESC LIMIT ?", [limit]
        )
        return [r["emoji"] for r in rows]
