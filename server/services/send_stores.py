"""The two ``BatchStore``s of the send queue: fixed SQL on a pooled PostgreSQL connection (array
parameters) and on the SQLite writer's own sqlite3 connection (JSON-array parameters), so each
statement is prepared once whatever a batch's size, and nothing is compiled per batch."""

import json
import sqlite3
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import (
    ARRAY,
    Connection,
    Integer,
    Text,
    TextClause,
    bindparam,
    text,
)

from protocol.models import ConversationType
from server.db.types import UTCDateTime
from server.services.send_batch import Answers, BatchStore, ConversationRow, Questions
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
  SELECT id, room_type, last_seq, is_locked FROM conversations
  WHERE id = ANY(:conversations) ORDER BY id FOR UPDATE
), m AS MATERIALIZED (
  SELECT c.id, c.room_type, m.user_id, m.role, m.muted_until
  FROM c JOIN conversation_members AS m ON m.conversation_id = c.id
    AND (c.room_type = '{DIRECT}' OR m.user_id = ANY(:senders))
), peers AS (
  SELECT user_id FROM m WHERE room_type = '{DIRECT}'
)
SELECT 'conversation' AS kind, c.id AS a, c.room_type AS b, NULL AS c, NULL AS d,
  c.last_seq AS seq, c.is_locked AS locked, CAST(NULL AS timestamptz) AS until
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
whatever the batch's size): the conversations, locked in one order (by id) before the event-log
lock, as forwards do; their members of interest; earlier client ids; blocks between direct-chat
peers; reply targets. One row per fact, tagged by ``kind``."""
_PG_SAVE = text(f"""
WITH seqs AS (
  UPDATE conversations AS c
  SET last_seq = s.last_seq, last_message_id = s.last_message_id, updated_at = :now
  FROM unnest(:c_ids, CAST(:c_seqs AS integer[]), :c_last) AS s(id, last_seq, last_message_id)
  WHERE c.id = s.id
), stored AS (
  INSERT INTO messages (id, conversation_id, sender_id, seq, client_id, message_type, text,
    reply_to_id, mentions, created_at)
  SELECT m.id, m.conversation_id, m.sender_id, m.seq, m.client_id, m.message_type, m.text,
    m.reply_to_id, CAST(m.mentions AS json), :now
  FROM unnest(:m_ids, :m_conversations, :m_senders, CAST(:m_seqs AS integer[]), :m_clients,
    :m_types, :m_texts, :m_replies, :m_mentions)
    AS m(id, conversation_id, sender_id, seq, client_id, message_type, text, reply_to_id,
      mentions)
), turn AS (
  SELECT pg_advisory_xact_lock({EVENT_LOG_LOCK})
)
INSERT INTO events (type, conversation_id, user_id, data, created_at)
SELECT e.type, e.conversation_id, NULL, CAST(e.data AS json), :now
FROM unnest(:e_types, :e_conversations, :e_data) WITH ORDINALITY
  AS e(type, conversation_id, data, position)
CROSS JOIN turn
ORDER BY e.position
RETURNING id
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
            "e_types",
            "e_conversations",
            "e_data",
        )
    ),
    bindparam("c_seqs", type_=ARRAY(Integer)),
    bindparam("m_seqs", type_=ARRAY(Integer)),
    bindparam("now", type_=UTCDateTime()),
)
"""The whole write of a batch in one round trip: the conversations' seqs, the messages, and the
``message_new`` events after the event-log lock (the lock is an input of the events' rows, so it
is held before their ids are drawn; rows go in, and ids come out, in batch order)."""


class CoreStore:
    """PostgreSQL (through ``AsyncConnection.run_sync``): the checks lock the conversation rows
    (``FOR UPDATE``, so the seqs read stay current), and the event-log lock is taken before the
    events are inserted so their ids become visible in increasing order."""

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
        for kind, a, b, c, d, seq, locked, until in self._connection.execute(_PG_READ, parameters):
            if kind == "conversation":
                conversations[a] = (b, seq, locked)
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

    def save(
        self,
        conversations: list[dict[str, Any]],
        messages: list[dict[str, Any]],
        events: list[dict[str, Any]],
    ) -> list[int]:
        """See ``BatchStore`` (one statement: ``_PG_SAVE``; every row shares one time)."""
        parameters = {
            "now": conversations[0]["updated_at"],
            "c_ids": [row["id"] for row in conversations],
            "c_seqs": [row["last_seq"] for row in conversations],
            "c_last": [row["last_message_id"] for row in conversations],
            "e_types": [event["type"] for event in events],
            "e_conversations": [event["conversation_id"] for event in events],
            "e_data": [json.dumps(event["data"]) for event in events],
            "m_mentions": [json.dumps(row["mentions"]) for row in messages],
        }
        for name, column in _MESSAGE_COLUMNS.items():
            parameters[name] = [row[column] for row in messages]
        return sorted(int(i) for i in self._connection.execute(_PG_SAVE, parameters).scalars())


_MESSAGE_COLUMNS = {
    "m_ids": "id",
    "m_conversations": "conversation_id",
    "m_senders": "sender_id",
    "m_seqs": "seq",
    "m_clients": "client_id",
    "m_types": "message_type",
    "m_texts": "text",
    "m_replies": "reply_to_id",
}


_SQLITE_CONVERSATIONS = f"""
SELECT c.id, c.room_type, c.last_seq, c.is_locked, m.user_id, m.role, m.muted_until
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
UPDATE conversations SET last_seq = json_extract(s.value, '$.last_seq'),
  last_message_id = json_extract(s.value, '$.last_message_id'), updated_at = :at
FROM json_each(:rows) AS s WHERE conversations.id = json_extract(s.value, '$.id')
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
_SQLITE_INSERT_EVENTS = """
INSERT INTO events (id, type, conversation_id, user_id, data, created_at)
SELECT :first + key, json_extract(value, '$.type'), json_extract(value, '$.conversation_id'),
  json_extract(value, '$.user_id'), json_extract(value, '$.data'), :at
FROM json_each(:rows) ORDER BY key
"""


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
            ConversationRow(cid, kind, seq, bool(locked), user_id, role, _utc(muted_until))
            for cid, kind, seq, locked, user_id, role, muted_until in execute(
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

    def save(
        self,
        conversations: list[dict[str, Any]],
        messages: list[dict[str, Any]],
        events: list[dict[str, Any]],
    ) -> list[int]:
        """See ``BatchStore`` (one statement per table; every row shares one time)."""
        execute = self._connection.execute
        at = sqlite_time(conversations[0]["updated_at"])
        execute(_SQLITE_SET_SEQ, {"rows": _json_rows(conversations), "at": at})
        execute(_SQLITE_INSERT_MESSAGES, {"rows": _json_rows(messages), "at": at})
        first = int(execute(_SQLITE_LAST_EVENT).fetchone()[0]) + 1
        execute(_SQLITE_INSERT_EVENTS, {"rows": _json_rows(events), "first": first, "at": at})
        return list(range(first, first + len(events)))


def _json_rows(rows: list[dict[str, Any]]) -> str:
    """``rows`` as one JSON array for ``json_each`` (their times are bound separately)."""
    return orjson.dumps(rows, option=orjson.OPT_NAIVE_UTC).decode()
