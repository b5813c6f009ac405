"""The send queue's batches on a real SQLite schema (the migrations), through the sqlite3 store:
the verdicts of every check, then what the write leaves in the tables as SQLAlchemy reads it."""

import sqlite3
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, select
from sqlalchemy.dialects import sqlite
from sqlalchemy.orm import Session

from protocol.errors import ErrorCode
from protocol.socket import MessagePayload
from server.db import models
from server.db.migrate import upgrade_to_head
from server.db.models import new_ids
from server.db.session import connect_sqlite_writer
from server.services.send_batch import (
    ACCEPTED,
    DEFERRED,
    AlreadyStored,
    Refused,
    SendRequest,
    check_batch,
    write_batch,
)
from server.services.send_stores import SqliteStore, sqlite_time

ALICE, BOB, CAROL, OUTSIDER = "alice", "bob", "carol", "outsider"
CHAT, BLOCKED_CHAT, GROUP = "chat", "blocked-chat", "group"


@pytest.fixture
def database(tmp_path: Path) -> Iterator[tuple[Engine, sqlite3.Connection]]:
    """A migrated SQLite file with alice-bob (direct), alice-carol (direct, carol blocked
    alice) and a group of alice and bob; the store's connection and an engine to read it."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'openchat.db'}"
    upgrade_to_head(url)
    engine = create_engine(f"sqlite:///{tmp_path / 'openchat.db'}")
    with Session(engine) as session, session.begin():
        for user_id in (ALICE, BOB, CAROL, OUTSIDER):
            session.add(
                models.User(id=user_id, username=user_id, display_name=user_id, password_hash="-")
            )
        session.flush()
        for conversation_id, kind, members in (
            (CHAT, "direct", (ALICE, BOB)),
            (BLOCKED_CHAT, "direct", (ALICE, CAROL)),
            (GROUP, "private_group", (ALICE, BOB)),
        ):
            session.add(models.Conversation(id=conversation_id, room_type=kind))
            session.flush()
            for user_id in members:
                session.add(
                    models.ConversationMember(conversation_id=conversation_id, user_id=user_id)
                )
        session.add(models.UserBlock(blocker_id=CAROL, blocked_id=ALICE))
    connection = connect_sqlite_writer(url)
    yield engine, connection
    connection.close()
    engine.dispose()


def store_batch(connection: sqlite3.Connection, requests: list[SendRequest]) -> list[dict]:
    """Check and write ``requests`` in one transaction; the payloads of the stored ones."""
    store = SqliteStore(connection)
    connection.execute("BEGIN IMMEDIATE")
    checked = check_batch(store, requests)
    accepted = [r for r, v in zip(requests, checked.verdicts, strict=True) if v is ACCEPTED]
    written = write_batch(store, accepted, checked) if accepted else []
    connection.execute("COMMIT")
    assert None not in written, "SQLite skips nothing: the batch holds the write lock"
    return [item.payload | {"eventId": item.event_id} for item in written if item is not None]


def test_every_check_gives_its_verdict(database: tuple[Engine, sqlite3.Connection]) -> None:
    _engine, connection = database
    [first] = store_batch(connection, [SendRequest(ALICE, CHAT, "hi", "c1")])
    store = SqliteStore(connection)
    requests = [
        SendRequest(ALICE, CHAT, "fine", "c2"),
        SendRequest(ALICE, "nowhere", "lost", "c3"),
        SendRequest(OUTSIDER, CHAT, "let me in", "c4"),
        SendRequest(ALICE, GROUP, "elsewhere", "c1"),
        SendRequest(ALICE, BLOCKED_CHAT, "hello?", "c5"),
        SendRequest(ALICE, GROUP, "reply", "c6", reply_to_id=first["id"]),
        SendRequest(ALICE, CHAT, "reply", "c7", reply_to_id=first["id"]),
        SendRequest(ALICE, CHAT, "same key twice", "c2"),
        SendRequest(BOB, GROUP, "group ok", "c2"),
    ]
    verdicts = check_batch(store, requests).verdicts
    codes = [v.error.code if isinstance(v, Refused) else v for v in verdicts]
    assert codes == [
        ACCEPTED,
        ErrorCode.NOT_FOUND,
        ErrorCode.NOT_A_MEMBER,
        ErrorCode.CONFLICT,
        ErrorCode.BLOCKED,
        ErrorCode.NOT_FOUND,
        ACCEPTED,
        DEFERRED,
        ACCEPTED,
    ]
    again = check_batch(store, [SendRequest(ALICE, CHAT, "again", "c1")]).verdicts
    assert again == [AlreadyStored(first["id"])]


def test_a_batch_is_stored_in_order_with_its_events(
    database: tuple[Engine, sqlite3.Connection],
) -> None:
    engine, connection = database
    requests = [
        SendRequest(ALICE, CHAT, "one @Bob", "k1"),
        SendRequest(BOB, GROUP, 'two "quoted" \\ back\nslash é 😀 {"a": [1]}', "k2"),
        SendRequest(BOB, CHAT, "three", "k3", reply_to_id=None),
    ]
    payloads = store_batch(connection, requests)
    payloads += store_batch(connection, [SendRequest(ALICE, CHAT, "four", "k4")])
    assert [p["seq"] for p in payloads] == [1, 1, 2, 3]
    assert [p["eventId"] for p in payloads] == sorted(p["eventId"] for p in payloads)
    assert payloads[0]["mentions"] == ["bob"]
    assert payloads[1]["text"] == 'two "quoted" \\ back\nslash é 😀 {"a": [1]}'
    with Session(engine) as session:
        for payload in payloads:
            row = session.get(models.Message, payload["id"])
            assert row is not None
            event = session.get(models.Event, payload["eventId"])
            assert event is not None and event.type == "message_new"
            stored = {key: value for key, value in payload.items() if key != "eventId"}
            assert event.data == stored
            from_row = MessagePayload.model_validate(
                {**stored, "created_at": row.created_at, "mentions": row.mentions}
            ).model_dump(mode="json")
            assert from_row == stored, "the row reads back as the payload that was sent"
        chat = session.get(models.Conversation, CHAT)
        assert chat is not None and chat.last_seq == 3 and chat.last_message_id == payloads[3]["id"]
        seqs = session.scalars(
            select(models.Message.seq).where(models.Message.conversation_id == CHAT)
        ).all()
        assert sorted(seqs) == [1, 2, 3]


def test_muted_members_and_locked_groups_are_refused(
    database: tuple[Engine, sqlite3.Connection],
) -> None:
    engine, connection = database
    with Session(engine) as session, session.begin():
        bob = session.scalars(
            select(models.ConversationMember).where(
                models.ConversationMember.conversation_id == GROUP,
                models.ConversationMember.user_id == BOB,
            )
        ).one()
        bob.muted_until = datetime.now(UTC) + timedelta(hours=1)
    requests = [SendRequest(BOB, GROUP, "muted", "m1"), SendRequest(ALICE, GROUP, "fine", "m2")]
    verdicts = check_batch(SqliteStore(connection), requests).verdicts
    assert isinstance(verdicts[0], Refused) and verdicts[0].error.code == ErrorCode.MUTED
    assert verdicts[1] is ACCEPTED
    with Session(engine) as session, session.begin():
        group = session.get(models.Conversation, GROUP)
        assert group is not None
        group.is_locked = True
    verdicts = check_batch(SqliteStore(connection), requests[1:]).verdicts
    assert isinstance(verdicts[0], Refused) and verdicts[0].error.code == ErrorCode.LOCKED


@pytest.mark.parametrize(
    "moment",
    [
        datetime(2026, 1, 1, 1, 2, 3, tzinfo=UTC),
        datetime(2026, 11, 23, 18, 4, 5, 123456, tzinfo=UTC),
    ],
)
def test_sqlite_times_are_written_as_sqlalchemy_writes_them(moment: datetime) -> None:
    write = sqlite.DATETIME().bind_processor(sqlite.dialect())
    assert write is not None
    assert sqlite_time(moment) == write(moment.replace(tzinfo=None))


def test_bulk_ids_are_distinct_uuid4_text() -> None:
    ids = new_ids(500)
    assert len(set(ids)) == 500
    for text in ids:
        parsed = uuid.UUID(text)
        assert str(parsed) == text and parsed.version == 4
        assert parsed.variant == uuid.RFC_4122
