"""Message writes of the cache: optimistic local changes, server messages stored idempotently,
edits, deletes, reactions, receipts, the read position and pins."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final

from client.offline.cache_base import CacheBase
from client.offline.records import CachedMessage, MessageStatus, to_iso
from client.offline.schema import PENDING_POSITION_BASE
from protocol.enums import MessageType

if TYPE_CHECKING:  # the wire models import pydantic: only where used (see ``records``)
    from protocol.models import ForwardOrigin, Message, ReactionSummary

_CONFIRMED_RANK: Final = {
    MessageStatus.SENT: 1,
    MessageStatus.DELIVERED: 2,
    MessageStatus.READ: 3,
}


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


def _json_forward(origin: ForwardOrigin | None) -> str | None:
    # snake_case whatever the origin's model: a socket payload's would dump camelCase
    return origin.model_dump_json(by_alias=False) if origin is not None else None


class MessageCache(CacheBase):
    """Writes messages and what hangs off them."""

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
                    _json_forward(forwarded_from),
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
            existing = self.one(
                "SELECT local_id, client_id, text, status, deleted, deleted_at FROM messages "
                "WHERE id = ?",
                [m.id],
            )
            if existing is None and m.client_id:
                existing = self.one(
                    "SELECT local_id, client_id, text, status, deleted, deleted_at FROM messages "
                    "WHERE sender_id = ? AND client_id = ?",
                    [m.sender_id, m.client_id],
                )
            # deletion is final: a late ack or echo never brings a deleted message back
            deleted = m.deleted_at is not None or bool(existing and existing["deleted"])
            existing_deleted_at = existing["deleted_at"] if existing else None
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
                "forwarded_from": _json_forward(m.forwarded_from),
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
                "deleted_at": to_iso(m.deleted_at) if m.deleted_at else existing_deleted_at,
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
                    self._adjust_unread(m.conversation_id, m.sender_id, m.seq, +1, arrival=True)
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
                # text and deleted are set only when they change: writing them re-indexes the
                # message for search (an ack or an echo must stay cheap)
                unchanged = old_text == values["text"] and existing["deleted"] == values["deleted"]
                skip = {"text", "deleted"} if unchanged else set()
                if existing["client_id"] is not None:  # a forwarded copy keeps its local one
                    skip.add("client_id")
                assignments = ", ".join(f"{name} = :{name}" for name in values if name not in skip)
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
        self,
        conversation_id: str,
        sender_id: str,
        seq: int | None,
        delta: int,
        arrival: bool = False,
    ) -> None:
        """Raise or lower the badge for a message from someone else after the read position.

        An ``arrival`` counts only when it is newer than every message the conversation's count
        already covers (``last_seq``): the server's unread count in a conversation snapshot, or
        older history paged in later, is never counted twice.
        """
        if sender_id == self.me or seq is None:
            return
        beyond = " AND last_seq < :seq" if arrival else ""
        self.db.execute(
            "UPDATE conversations SET unread_count = max(0, unread_count + :delta) "
            f"WHERE id = :c AND last_read_seq < :seq{beyond}",
            {"delta": delta, "c": conversation_id, "seq": seq},
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
        row = self.one("SELECT local_id FROM messages WHERE id = ?", [message_id])
        if row is not None:
            self.delete_locally(int(row["local_id"]), deleted_at)

    def delete_locally(self, local_id: int, deleted_at: datetime) -> None:
        """Soft-delete a message by local id (the optimistic side of a delete action)."""
        with self.transaction():
            row = self.one(
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

    def restore_message(self, local_id: int, text: str | None, edited_at: datetime | None) -> None:
        """Undo a local edit or delete whose request failed for good: the text (and the unread
        badge) come back."""
        with self.transaction():
            row = self.one(
                "SELECT id, conversation_id, sender_id, seq, deleted FROM messages "
                "WHERE local_id = ?",
                [local_id],
            )
            if row is None:
                return
            # the history entry the failed edit added (its text is the one coming back)
            self.db.execute(
                """DELETE FROM message_edits WHERE message_id = :id AND text = :text AND
                edited_at = (SELECT max(edited_at) FROM message_edits WHERE message_id = :id)""",
                {"id": row["id"], "text": text},
            )
            self.db.execute(
                """UPDATE messages SET text = ?, edited_at = ?, deleted = 0, deleted_at = NULL
                WHERE local_id = ?""",
                [text, to_iso(edited_at) if edited_at else None, local_id],
            )
            if row["deleted"]:
                self._adjust_unread(row["conversation_id"], row["sender_id"], row["seq"], +1)

    def settle_copy(self, client_id: str, message: Message) -> None:
        """Make the pending copy ``client_id`` the server's ``message`` (a forwarded copy; the
        server's client id of a copy, if any, is its own derivation). When its ``message_new``
        was stored first, the pending copy is dropped and the stored message takes the local
        client id (so actions queued on the pending copy still find it)."""
        with self.transaction():
            pending = self.one(
                "SELECT local_id FROM messages WHERE sender_id = ? AND client_id = ? "
                "AND id IS NULL",
                [self.me, client_id],
            )
            stored = self.one("SELECT local_id FROM messages WHERE id = ?", [message.id])
            if pending is not None and stored is not None:
                self.remove_unsent(int(pending["local_id"]))
                self.db.execute(
                    "UPDATE messages SET client_id = ? WHERE local_id = ?",
                    [client_id, stored["local_id"]],
                )
            self.store_message(message.model_copy(update={"client_id": client_id}))

    def remove_unsent_copies(self, client_ids: Sequence[str]) -> None:
        """Drop the pending copies of a forward that failed or was discarded."""
        with self.transaction():
            for client_id in client_ids:
                row = self.one(
                    "SELECT local_id FROM messages WHERE sender_id = ? AND client_id = ? "
                    "AND id IS NULL",
                    [self.me, client_id],
                )
                if row is not None:
                    self.remove_unsent(int(row["local_id"]))

    def remove_unsent(self, local_id: int) -> None:
        """Drop a pending or failed message the user discarded."""
        with self.transaction():
            row = self.one(
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
        from protocol.models import ReactionSummary  # pydantic: not on the start-up path

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
        row = self.one(
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
            row = self.one(
                "SELECT last_read_seq FROM conversations WHERE id = ?", [conversation_id]
            )
            if row is None or row["last_read_seq"] >= seq:
                return False
            read_id = self.one(
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
        rows = self.rows(
            "SELECT message_id FROM pinned_messages WHERE conversation_id = ? ORDER BY rank",
            [conversation_id],
        )
        return [r["message_id"] for r in rows]

    def pinned_messages(self, conversation_id: str) -> list[CachedMessage]:
        """The cached pinned messages of a conversation, in pin order."""
        rows = self.rows(
            """SELECT m.* FROM pinned_messages AS p JOIN messages AS m ON m.id = p.message_id
            WHERE p.conversation_id = ? ORDER BY p.rank""",
            [conversation_id],
        )
        return [CachedMessage.from_row(r, self.me) for r in rows]
