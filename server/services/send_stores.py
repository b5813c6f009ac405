"""The two ``BatchStore``s of the send queue: fixed SQL on a pooled PostgreSQL connection (array
parameters) and on the SQLite writer's own sqlite3 connection (JSON-array parameters), so each
statement is prepared once whatever a batch's size, and nothing is compiled per batch.

PostgreSQL runs each step as one statement outside any transaction (autocommit): the checks
read without locks, and the write locks its conversations only while it runs, and skips those
whose ``access_version`` (kept by triggers, migration 0004) or ``is_locked`` moved since the
checks. So no lock is held across a round trip, and the other nodes' batches for the same
conversations wait for one statement at most, not for a whole transaction."""

import json
import sqlite3
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import (
    ARRAY,
    Boolean,
    Connection,
    Integer,
    Text,
    TextClause,
    bindparam,
    text,
)

from protocol.events import ServerEvent
from protocol.models import ConversationType
from server.db.types import UTCDateTime
from server.services.send_batch import (
    Answers,
    BatchStore,
    ConversationRow,
    NewMessages,
    Questions,
    Written,
)
from server.services.unit_of_work import EVENT_LOG_LOCK

DIRECT = ConversationType.DIRECT.value


def batch_store(connection: Connection | sqlite3.Connection) -> BatchStore:
    """The store for a batch's connection (see ``Database.batch``)."""
    if isinstance(connection, sqlite3.Connection):
        return SqliteStore(connection)
    return CoreStore(connection)


_TEXTS = ARRAY(Text)


def _arrays(statement: str, *names: str) -> TextClause:
    """``statement`` with each of ``names`` bound as a text array."""
    return text(statement).bindparams(*(bindparam(name, type_=_TEXTS) for name in names))


_PG_READ = _arrays(
    f"""
WITH c AS MATERIALIZED (
  SELECT id, room_type, access_version, is_locked FROM conversations
  WHERE id = ANY(:conversations)
), m AS MATERIALIZED (
  SELECT c.id, c.room_type, m.user_id, m.role, m.muted_until
  FROM c JOIN conversation_members AS m ON m.conversation_id = c.id
    AND (c.room_type = '{DIRECT}' OR m.user_id = ANY(:senders))
), peers AS (
  SELECT user_id FROM m WHERE room_type = '{DIRECT}'
)
SELECT 'conversation' AS kind, c.id AS a, c.room_type AS b, NULL AS c, NULL AS d,
  c.access_version AS version, c.is_locked AS locked, CAST(NULL AS timestamptz) AS until
FROM c
UNION ALL
SELECT 'member', m.id, m.room_type, m.user_id, m.role, NULL, NULL, m.muted_until FROM m
UNION ALL
SELECT 'earlier', x.id, x.conversation_id, x.sender_id, x.client_id, NULL, NULL, NULL
FROM unnest(:key_senders, :key_clients) AS k(sender_id, client_id)
JOIN messages AS x ON x.sender_id = k.sender_id AND x.client_id = k.client_id
UNION ALL
SELECT 'block', b.blocker_id, b.blocked_id, NULL, NULL, NULL, NULL, NULL FROM user_blocks AS b
WHERE b.blocker_id IN (SELECT user_id FROM peers) AND b.blocked_id IN (SELECT user_id FROM peers)
UNION ALL
SELECT 'reply', r.id, r.conversation_id, NULL, NULL, NULL, NULL, NULL FROM messages AS r
WHERE r.id = ANY(:replies)
""",
    "conversations",
    "senders",
    "key_senders",
    "key_clients",
    "replies",
).columns(until=UTCDateTime())
"""Everything the checks read, in one round trip and with fixed SQL (one prepared statement
whatever the batch's size), without locks: the conversations; their members of interest;
earlier client ids; blocks between direct-chat peers; reply targets. One row per fact, tagged
by ``kind``."""
_PG_SAVE = text(f"""
WITH wanted AS (
  SELECT * FROM unnest(:c_ids, CAST(:c_counts AS integer[]), :c_last,
    CAST(:c_versions AS integer[]), CAST(:c_locked AS boolean[]))
    AS s(id, n, last_message_id, access_version, is_locked)
), locked AS MATERIALIZED (
  SELECT id FROM conversations WHERE id = ANY(:c_ids) ORDER BY id FOR UPDATE
), stored_before AS MATERIALIZED (
  SELECT d.conversation_id
  FROM unnest(:m_conversations, :m_senders, :m_clients) AS d(conversation_id, sender_id, client_id)
  JOIN messages AS x ON x.sender_id = d.sender_id AND x.client_id = d.client_id
), seqs AS (
  UPDATE conversations AS c
  SET last_seq = c.last_seq + s.n, last_message_id = s.last_message_id, updated_at = :now
  FROM locked AS l JOIN wanted AS s ON s.id = l.id
  WHERE c.id = l.id AND c.access_version = s.access_version AND c.is_locked = s.is_locked
    AND c.id NOT IN (SELECT conversation_id FROM stored_before)
  RETURNING c.id, c.last_seq - s.n AS base
), new AS MATERIALIZED (
  SELECT m.*, seqs.base + m.rank AS seq
  FROM unnest(:m_ids, :m_conversations, :m_senders, :m_clients, :m_types, :m_texts, :m_replies,
    :m_mentions, CAST(:m_ranks AS integer[]), :m_payloads) WITH ORDINALITY
    AS m(id, conversation_id, sender_id, client_id, message_type, text, reply_to_id, mentions,
      rank, payload, position)
  JOIN seqs ON seqs.id = m.conversation_id
), stored AS (
  INSERT INTO messages (id, conversation_id, sender_id, seq, client_id, message_type, text,
    reply_to_id, mentions, created_at)
  SELECT id, conversation_id, sender_id, seq, client_id, message_type, text, reply_to_id,
    CAST(mentions AS json), :now
  FROM new
  RETURNING id
), turn AS (
  SELECT pg_advisory_xact_lock({EVENT_LOG_LOCK}) FROM (SELECT count(*) FROM stored) AS written
)
INSERT INTO events (type, conversation_id, user_id, data, created_at)
SELECT '{ServerEvent.MESSAGE_NEW.value}', new.conversation_id, NULL,
  CAST(jsonb_set(CAST(new.payload AS jsonb), '{{seq}}', to_jsonb(new.seq)) AS json), :now
FROM new CROSS JOIN turn
ORDER BY new.position
RETURNING id, data ->> 'id', CAST(data ->> 'seq' AS integer)
""").bindparams(
    *(
        bindparam(name, type_=_TEXTS)
        for name in (
            "c_ids",
            "c_last",
            "m_ids",
            "m_conversations",
            "m_senders",
            "m_clients",
            "m_types",
            "m_texts",
            "m_replies",
            "m_mentions",
            "m_payloads",
        )
    ),
    *(bindparam(name, type_=ARRAY(Integer)) for name in ("c_counts", "c_versions", "m_ranks")),
    bindparam("c_locked", type_=ARRAY(Boolean)),
    bindparam("now", type_=UTCDateTime()),
)
"""The whole write of a batch in one statement: its conversations locked in one order (by id,
as forwards and group administration lock them), the seqs of those whose access is as the
checks saw it, their messages, and the ``message_new`` events after the event-log lock. Each
step is an input of the next, which fixes their order: the lock is taken only once every row
lock is held and every message is in (else it could be held while waiting for another node's
batch that waits for it: a deadlock), and before the events' ids are drawn (rows go in, and ids
come out, in batch order). Returns ``(event id, message id, seq)`` of each stored message.

A conversation whose ``access_version`` or ``is_locked`` moved is left alone: its lock waits
for the change's commit, and PostgreSQL then checks the ``WHERE`` again on the row as committed
(READ COMMITTED re-evaluation of an updated row), so a change that commits while the statement
runs is seen too. So is a conversation one of whose drafts has a (sender, client id) that is
stored already (checks that rested on remembered facts, ``access_cache``, did not look), so its
seqs stay without gaps; a duplicate stored by another node while this statement runs still
fails it on the unique index (the queue then retries its sends one by one)."""


class CoreStore:
    """PostgreSQL (through ``AsyncConnection.run_sync``, in autocommit): the checks read without
    locks (``_PG_READ``), and the write (``_PG_SAVE``) locks the conversations, skips those whose
    access moved, and takes the event-log lock before the events are inserted so their ids
    become visible in increasing order."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def read(self, questions: Questions) -> Answers:
        """See ``BatchStore`` (one statement: ``_PG_READ``)."""
        parameters = {
            "conversations": questions.conversation_ids,
            "senders": questions.sender_ids,
            "key_senders": [sender for sender, _ in questions.keys],
            "key_clients": [client for _, client in questions.keys],
            "replies": questions.reply_ids,
        }
        conversations: dict[str, tuple[str, int, bool]] = {}
        members: list[tuple[str, str, str, datetime | None]] = []
        answers = Answers([], [], [], [])
        rows = self._connection.execute(_PG_READ, parameters)
        for kind, a, b, c, d, version, locked, until in rows:
            if kind == "conversation":
                conversations[a] = (b, version, locked)
            elif kind == "member":
                members.append((a, c, d, until))
            elif kind == "earlier":
                answers.earlier.append((a, b, c, d))
            elif kind == "block":
                answers.blocks.append((a, b))
            else:
                answers.reply_targets.append((a, b))
        with_members = {conversation_id for conversation_id, *_ in members}
        answers.conversations.extend(
            ConversationRow(cid, *conversations[cid], user_id, role, until)
            for cid, user_id, role, until in members
        )
        answers.conversations.extend(
            ConversationRow(cid, *row, None, None, None)
            for cid, row in conversations.items()
            if cid not in with_members
        )
        return answers

    def save(self, new: NewMessages) -> list[Written | None]:
        """See ``BatchStore`` (one statement: ``_PG_SAVE``; every row shares one time)."""
        conversations = new.conversations
        rows = [new.message_row(draft) for draft in new.drafts]
        payloads = [new.payload(draft, 0) for draft in new.drafts]
        parameters: dict[str, Any] = {
            "now": new.at,
            "c_ids": [conversation.id for conversation in conversations],
            "c_counts": [conversation.count for conversation in conversations],
            "c_last": [conversation.last_message_id for conversation in conversations],
            "c_versions": [conversation.access_version for conversation in conversations],
            "c_locked": [conversation.is_locked for conversation in conversations],
            "m_ranks": [draft.rank for draft in new.drafts],
            "m_mentions": [orjson.dumps(row["mentions"]).decode() for row in rows],
            "m_payloads": [orjson.dumps(payload).decode() for payload in payloads],
        }
        for name, column in _MESSAGE_COLUMNS.items():
            parameters[name] = [row[column] for row in rows]
        stored = {
            message_id: (int(event_id), int(seq))
            for event_id, message_id, seq in self._connection.execute(_PG_SAVE, parameters)
        }
        written: list[Written | None] = []
        for draft, payload in zip(new.drafts, payloads, strict=True):
            found = stored.get(draft.message_id)
            if found is None:
                written.append(None)
            else:
                event_id, payload["seq"] = found
                written.append(Written(payload, event_id))
        return written


_MESSAGE_COLUMNS = {
    "m_ids": "id",
    "m_conversations": "conversation_id",
    "m_senders": "sender_id",
    "m_clients": "client_id",
    "m_types": "message_type",
    "m_texts": "text",
    "m_replies": "reply_to_id",
}


_SQLITE_CONVERSATIONS = f"""
SELECT c.id, c.room_type, c.access_version, c.is_locked, m.user_id, m.role, m.muted_until
FROM conversations AS c
LEFT JOIN conversation_members AS m ON m.conversation_id = c.id
  AND (c.room_type = '{DIRECT}' OR m.user_id IN (SELECT value FROM json_each(:senders)))
WHERE c.id IN (SELECT value FROM json_each(:conversations))
"""
_SQLITE_EARLIER = """
SELECT m.id, m.conversation_id, m.sender_id, m.client_id
FROM json_each(?) AS k CROSS JOIN messages AS m
WHERE m.sender_id = json_extract(k.value, '$[0]') AND m.client_id = json_extract(k.value, '$[1]')
"""
_SQLITE_BLOCKS = """
SELECT blocker_id, blocked_id FROM user_blocks
WHERE blocker_id IN (SELECT value FROM json_each(:users))
  AND blocked_id IN (SELECT value FROM json_each(:users))
"""
_SQLITE_REPLIES = (
    "SELECT id, conversation_id FROM messages WHERE id IN (SELECT value FROM json_each(?))"
)
# The writes take every row of a kind as one JSON array (json_each): one statement, one step of
# the VM, and so one release of the GIL each. (executemany steps once per row, and the writer's
# thread then waits for the event loop to hand the GIL back after every row.)
_SQLITE_SET_SEQ = """
UPDATE conversations SET last_seq = last_seq + json_extract(s.value, '$.count'),
  last_message_id = json_extract(s.value, '$.last_message_id'), updated_at = :at
FROM json_each(:rows) AS s WHERE conversations.id = json_extract(s.value, '$.id')
RETURNING id, last_seq
"""
_SQLITE_INSERT_MESSAGES = """
INSERT INTO messages (id, conversation_id, sender_id, seq, client_id, message_type, text,
  reply_to_id, mentions, created_at)
SELECT json_extract(value, '$.id'), json_extract(value, '$.conversation_id'),
  json_extract(value, '$.sender_id'), json_extract(value, '$.seq'),
  json_extract(value, '$.client_id'), json_extract(value, '$.message_type'),
  json_extract(value, '$.text'), json_extract(value, '$.reply_to_id'),
  json_extract(value, '$.mentions'), :at
FROM json_each(:rows) ORDER BY key
"""
_SQLITE_LAST_EVENT = "SELECT coalesce(max(id), 0) FROM events"
_SQLITE_INSERT_EVENTS = f"""
INSERT INTO events (id, type, conversation_id, user_id, data, created_at)
SELECT :first + key, '{ServerEvent.MESSAGE_NEW.value}', json_extract(value, '$.conversationId'),
  NULL, value, :at
FROM json_each(:payloads) ORDER BY key
"""
"""One ``message_new`` event per payload of the JSON array, its ``data`` the payload itself."""


def _utc(stored: str | None) -> datetime | None:
    """A time as the schema's SQLite columns hold it, read back (aware, UTC)."""
    return None if stored is None else datetime.fromisoformat(stored).replace(tzinfo=UTC)


def sqlite_time(moment: datetime) -> str:
    """A UTC time as the schema's SQLite columns hold it (SQLAlchemy's storage format: naive
    UTC, microseconds always written)."""
    return moment.replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")


class SqliteStore:
    """SQLite on the writer's own sqlite3 connection. The batch's transaction holds the
    database's write lock from its first statement, so the seqs the checks read are current
    and the event ids are simply the next ones after the log's highest."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._connection = connection

    def read(self, questions: Questions) -> Answers:
        """See ``BatchStore`` (the whole database is locked by the batch's transaction; one
        statement per kind of fact, all in the writer's thread)."""
        execute = self._connection.execute
        parameters = {
            "conversations": json.dumps(questions.conversation_ids),
            "senders": json.dumps(questions.sender_ids),
        }
        conversations = [
            ConversationRow(cid, kind, version, bool(locked), user_id, role, _utc(muted_until))
            for cid, kind, version, locked, user_id, role, muted_until in execute(
                _SQLITE_CONVERSATIONS, parameters
            )
        ]
        peers = list(
            {row.user_id for row in conversations if row.room_type == DIRECT and row.user_id}
        )
        return Answers(
            conversations,
            execute(_SQLITE_EARLIER, (json.dumps(questions.keys),)).fetchall(),
            execute(_SQLITE_BLOCKS, {"users": json.dumps(peers)}).fetchall() if peers else [],
            execute(_SQLITE_REPLIES, (json.dumps(questions.reply_ids),)).fetchall()
            if questions.reply_ids
            else [],
        )

    def save(self, new: NewMessages) -> list[Written | None]:
        """See ``BatchStore`` (one statement per table; every row shares one time). Nothing
        is skipped: the checks' facts cannot have moved under the batch's write lock."""
        execute = self._connection.execute
        at = sqlite_time(new.at)
        counts = {conversation.id: conversation.count for conversation in new.conversations}
        rows = [
            {"id": row.id, "count": row.count, "last_message_id": row.last_message_id}
            for row in new.conversations
        ]
        base = {
            cid: last_seq - counts[cid]
            for cid, last_seq in execute(_SQLITE_SET_SEQ, {"rows": _json_rows(rows), "at": at})
        }
        messages: list[dict[str, Any]] = []
        payloads: list[dict[str, Any]] = []
        for draft in new.drafts:
            seq = base[draft.request.conversation_id] + draft.rank
            messages.append(new.message_row(draft) | {"seq": seq})
            payloads.append(new.payload(draft, seq))
        execute(_SQLITE_INSERT_MESSAGES, {"rows": _json_rows(messages), "at": at})
        first = int(execute(_SQLITE_LAST_EVENT).fetchone()[0]) + 1
        execute(_SQLITE_INSERT_EVENTS, {"payloads": _json_rows(payloads), "first": first, "at": at})
        return [Written(payload, first + index) for index, payload in enumerate(payloads)]


def _json_rows(rows: list[dict[str, Any]]) -> str:
    """``rows`` as one JSON array for ``json_each`` (their times are bound separately)."""
    return orjson.dumps(rows, option=orjson.OPT_NAIVE_UTC).decode()
