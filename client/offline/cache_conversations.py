"""Conversation writes of the cache: users, conversations with the caller's settings, members,
and the reset before a full resync."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING

from client.offline.cache_messages import MessageCache
from client.offline.records import MemberRow, MessageStatus, from_iso, to_iso

if TYPE_CHECKING:  # the wire models import pydantic: only where used (see ``records``)
    from protocol.models import Conversation, ConversationSettings, Member, User


class ConversationCache(MessageCache):
    """Writes users, conversations and members."""

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
        from protocol.models import User  # pydantic: not on the start-up path

        row = self.one("SELECT * FROM users WHERE id = ?", [user_id])
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
                read = self.one("SELECT seq FROM messages WHERE id = ?", [s.last_read_message_id])
                if read is not None and read["seq"] is not None:
                    last_read_seq = int(read["seq"])
            self.db.execute(
                """INSERT INTO conversations(id, type, title, peer_id, created_at, updated_at,
                    last_seq, my_role, member_count, last_activity_at, unread_count,
                    last_read_seq, last_read_message_id, is_pinned, pin_rank, is_archived,
                    is_muted, muted_until, notifications_on, locked)
                VALUES (:id, :type, :title, :peer_id, :created_at, :updated_at, :last_seq,
                    :my_role, :member_count, :updated_at, :unread_count, :last_read_seq,
                    :last_read_message_id, :is_pinned, :pin_rank, :is_archived, :is_muted,
                    :muted_until, :notifications_on, :locked)
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
                    notifications_on = excluded.notifications_on,
                    locked = excluded.locked""",
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
                    "locked": int(c.locked),
                },
            )
            self.set_pins(c.id, c.pinned_message_ids)
            self._refresh_last_message(c.id)

    def has_conversation(self, conversation_id: str) -> bool:
        """True when the conversation is cached."""
        return (
            self.one("SELECT 1 AS x FROM conversations WHERE id = ?", [conversation_id]) is not None
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

    def set_conversation_locked(self, conversation_id: str, locked: bool) -> None:
        """Lock a group (only owners and admins post) or unlock it."""
        self.db.execute(
            "UPDATE conversations SET locked = ? WHERE id = ?", [int(locked), conversation_id]
        )

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
        from protocol.models import ConversationSettings  # pydantic: not on the start-up path

        row = self.one("SELECT * FROM conversations WHERE id = ?", [conversation_id])
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
        row = self.one("SELECT max(pin_rank) AS r FROM conversations WHERE is_pinned = 1", [])
        return 0 if row is None or row["r"] is None else int(row["r"]) + 1

    def upsert_members(self, conversation_id: str, members: Iterable[Member]) -> None:
        """Insert or update members of a conversation (and their users); each one not cached
        before adds one to the conversation's member count (they just joined)."""
        listed = list(members)
        with self.transaction():
            self.upsert_users([member.user for member in listed])
            for member in listed:
                if not self._is_member(conversation_id, member.user.id):
                    self._count_members(conversation_id, 1)
                self._write_member(conversation_id, member)

    def replace_members(self, conversation_id: str, members: Iterable[Member]) -> None:
        """Make ``members`` (every member, as the server lists them) the conversation's
        members: the others are dropped and the member count is theirs."""
        listed = list(members)
        kept = sorted({member.user.id for member in listed})
        with self.transaction():
            self.upsert_users([member.user for member in listed])
            for member in listed:
                self._write_member(conversation_id, member)
            self.db.execute(
                """DELETE FROM members WHERE conversation_id = ?
                AND user_id NOT IN (SELECT value FROM json_each(?))""",
                [conversation_id, json.dumps(kept)],
            )
            self.db.execute(
                "UPDATE conversations SET member_count = ? WHERE id = ?",
                [len(kept), conversation_id],
            )

    def _write_member(self, conversation_id: str, member: Member) -> None:
        """Insert or update one member row (receipt positions only move forward)."""
        self.db.execute(
            """INSERT INTO members(conversation_id, user_id, role, joined_at,
                last_read_seq, last_delivered_seq, muted_until) VALUES (?,?,?,?,?,?,?)
            ON CONFLICT(conversation_id, user_id) DO UPDATE SET role = excluded.role,
                muted_until = excluded.muted_until,
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
                to_iso(member.muted_until) if member.muted_until else None,
            ],
        )

    def set_member(self, conversation_id: str, user_id: str, role: str) -> None:
        """Add a member from ``member_joined`` (with their role); a member not cached before
        adds one to the member count. Applying the same event again changes nothing."""
        with self.transaction():
            if not self._is_member(conversation_id, user_id):
                self._count_members(conversation_id, 1)
            self.db.execute(
                """INSERT INTO members(conversation_id, user_id, role) VALUES (?,?,?)
                ON CONFLICT(conversation_id, user_id) DO UPDATE SET role = excluded.role""",
                [conversation_id, user_id, role],
            )

    def set_member_role(self, conversation_id: str, user_id: str, role: str) -> None:
        """A member's new role (the user's own is also the conversation's ``my_role``). A role
        change is no join: a member the cache does not hold is not added and the member count
        stays, so applying it again, or again after the member left, changes nothing."""
        with self.transaction():
            self.db.execute(
                "UPDATE members SET role = ? WHERE conversation_id = ? AND user_id = ?",
                [role, conversation_id, user_id],
            )
            if user_id == self.me:
                self.db.execute(
                    "UPDATE conversations SET my_role = ? WHERE id = ?", [role, conversation_id]
                )

    def update_member(
        self, conversation_id: str, user_id: str, role: str, muted_until: datetime | None
    ) -> None:
        """Set a member's role and mute from ``member_updated`` (a role change, see
        ``set_member_role``)."""
        with self.transaction():
            self.set_member_role(conversation_id, user_id, role)
            self.db.execute(
                "UPDATE members SET muted_until = ? WHERE conversation_id = ? AND user_id = ?",
                [to_iso(muted_until) if muted_until else None, conversation_id, user_id],
            )

    def remove_member(self, conversation_id: str, user_id: str) -> None:
        """Remove a member of a conversation; one that was cached takes one off the member
        count (removing them again changes nothing)."""
        with self.transaction():
            removed = self.db.execute(
                "DELETE FROM members WHERE conversation_id = ? AND user_id = ?",
                [conversation_id, user_id],
            ).rowcount
            if removed:
                self._count_members(conversation_id, -1)

    def _is_member(self, conversation_id: str, user_id: str) -> bool:
        return (
            self.one(
                "SELECT 1 AS x FROM members WHERE conversation_id = ? AND user_id = ?",
                [conversation_id, user_id],
            )
            is not None
        )

    def _count_members(self, conversation_id: str, delta: int) -> None:
        self.db.execute(
            "UPDATE conversations SET member_count = max(0, member_count + ?) WHERE id = ?",
            [delta, conversation_id],
        )

    def members(self, conversation_id: str) -> list[MemberRow]:
        """The members of a conversation with their names and receipt positions."""
        rows = self.rows(
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
                muted_until=from_iso(r["muted_until"]),
            )
            for r in rows
        ]

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
