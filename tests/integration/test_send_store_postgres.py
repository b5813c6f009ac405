"""The PostgreSQL send path checks a batch without locks and writes it in one statement that
skips conversations whose access moved meanwhile: the triggers that keep ``access_version``
(migration 0004), and the send queue checking a skipped send again, on a real database."""

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import cast

import asyncpg
import pytest
from sqlalchemy import Connection, TextClause, text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from protocol.errors import ErrorCode
from server.db.migrate import upgrade_to_head
from server.db.session import create_batch_engine, session_factory
from server.errors import ApiError
from server.services import send_queue
from server.services.ratelimit import MemoryRateLimiter
from server.services.send_batch import (
    Answers,
    BatchStore,
    NewMessages,
    Questions,
    SendRequest,
    Written,
    check_batch,
    write_batch,
)
from server.services.send_queue import SendQueue
from server.services.send_stores import _PG_READ, _PG_SAVE, CoreStore
from server.services.unit_of_work import BatchConnection, Database, NullPublisher
from tests.conftest import require_postgres
from tests.support.live_server import postgres_database

ALICE, BOB, CAROL = "alice", "bob", "carol"
DIRECT, GROUP, OTHER_GROUP = "direct-alice-bob", "group", "other-group"


@pytest.fixture
async def engine() -> AsyncIterator[AsyncEngine]:
    """A migrated PostgreSQL database with alice, bob and carol; a direct chat alice-bob; a
    group of alice and bob; another group of alice only."""
    require_postgres()
    with postgres_database() as url:
        async_url = "postgresql+asyncpg://" + url.split("://", 1)[1]
        await asyncio.to_thread(upgrade_to_head, async_url)  # alembic runs its own loop
        engine = create_async_engine(async_url)
        async with engine.begin() as connection:
            for user_id in (ALICE, BOB, CAROL):
                await connection.execute(
                    text(
                        "INSERT INTO users (id, username, display_name, password_hash, "
                        "created_at) VALUES (:id, :id, :id, '-', now())"
                    ),
                    {"id": user_id},
                )
            for conversation_id, kind, key, members in (
                (DIRECT, "direct", f"{ALICE}:{BOB}", (ALICE, BOB)),
                (GROUP, "private_group", None, (ALICE, BOB)),
                (OTHER_GROUP, "private_group", None, (ALICE,)),
            ):
                await connection.execute(
                    text(
                        "INSERT INTO conversations (id, room_type, direct_key, created_at, "
                        "updated_at) VALUES (:id, :kind, :key, now(), now())"
                    ),
                    {"id": conversation_id, "kind": kind, "key": key},
                )
                for user_id in members:
                    role = "owner" if user_id == ALICE and kind != "direct" else "member"
                    await connection.execute(
                        text(
                            "INSERT INTO conversation_members (id, conversation_id, user_id, "
                            "role, joined_at) VALUES (:id, :conversation, :user, :role, now())"
                        ),
                        {
                            "id": f"{conversation_id}:{user_id}",
                            "conversation": conversation_id,
                            "user": user_id,
                            "role": role,
                        },
                    )
        try:
            yield engine
        finally:
            await engine.dispose()


@pytest.fixture
async def queue(engine: AsyncEngine) -> AsyncIterator[SendQueue]:
    """A send queue on ``engine``'s database, through a batch engine as the app makes it."""
    batch_engine = create_batch_engine(engine.url.render_as_string(hide_password=False))
    database = Database(engine, session_factory(engine), NullPublisher(), batch_engine=batch_engine)
    try:
        yield SendQueue(database, MemoryRateLimiter(), messages_per_minute=1000)
    finally:
        await database.close()


async def _versions(engine: AsyncEngine) -> dict[str, int]:
    async with engine.connect() as connection:
        rows = await connection.execute(text("SELECT id, access_version FROM conversations"))
        return {conversation_id: version for conversation_id, version in rows}


CHANGES = {
    "bob is muted": (
        "UPDATE conversation_members SET muted_until = now() + interval '1 hour' "
        "WHERE user_id = 'bob' AND conversation_id = 'group'",
        {GROUP},
    ),
    "bob becomes an admin": (
        "UPDATE conversation_members SET role = 'admin' "
        "WHERE user_id = 'bob' AND conversation_id = 'group'",
        {GROUP},
    ),
    "bob reads the group": (
        "UPDATE conversation_members SET last_read_seq = 5, last_delivered_seq = 5 "
        "WHERE user_id = 'bob' AND conversation_id = 'group'",
        set(),
    ),
    "the same role is set again": (
        "UPDATE conversation_members SET role = role WHERE conversation_id = 'group'",
        set(),
    ),
    "carol joins": (
        "INSERT INTO conversation_members (id, conversation_id, user_id, role, joined_at) "
        "VALUES ('m-carol', 'other-group', 'carol', 'member', now())",
        {OTHER_GROUP},
    ),
    "bob leaves": (
        "DELETE FROM conversation_members WHERE user_id = 'bob' AND conversation_id = 'group'",
        {GROUP},
    ),
    "bob blocks alice": (
        "INSERT INTO user_blocks (id, blocker_id, blocked_id, created_at) "
        "VALUES ('b1', 'bob', 'alice', now())",
        {DIRECT},
    ),
    "alice blocks carol (no chat between them)": (
        "INSERT INTO user_blocks (id, blocker_id, blocked_id, created_at) "
        "VALUES ('b2', 'alice', 'carol', now())",
        set(),
    ),
}


@pytest.mark.parametrize("change", list(CHANGES))
async def test_who_may_post_changing_moves_the_access_version(
    engine: AsyncEngine, change: str
) -> None:
    statement, moved = CHANGES[change]
    before = await _versions(engine)
    async with engine.begin() as connection:
        await connection.execute(text(statement))
    after = await _versions(engine)
    assert {cid for cid in after if after[cid] != before[cid]} == moved


async def test_lifting_a_block_moves_the_access_version(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        await connection.execute(text(CHANGES["bob blocks alice"][0]))
    before = await _versions(engine)
    async with engine.begin() as connection:
        await connection.execute(text("DELETE FROM user_blocks WHERE blocker_id = 'bob'"))
    after = await _versions(engine)
    assert after[DIRECT] == before[DIRECT] + 1
    assert after[GROUP] == before[GROUP]


def _changing_after_first_read(change: str) -> Callable[[BatchConnection], BatchStore]:
    """``batch_store`` whose first read is followed by ``change``, committed at once (the
    batch connection is in autocommit), as if an admin acted on another node between a
    batch's checks and its write."""
    real = send_queue.batch_store
    pending = [change]

    class ChangingStore:
        def __init__(self, connection: BatchConnection) -> None:
            self._store = real(connection)
            self._connection = cast(Connection, connection)

        def read(self, questions: Questions) -> Answers:
            answers = self._store.read(questions)
            if pending:
                self._connection.execute(text(pending.pop()))
            return answers

        def save(self, new: NewMessages) -> list[Written | None]:
            return self._store.save(new)

    return ChangingStore


REFUSING_CHANGES = [
    (
        "DELETE FROM conversation_members WHERE user_id = 'bob' AND conversation_id = 'group'",
        ErrorCode.NOT_A_MEMBER,
    ),
    ("UPDATE conversations SET is_locked = true WHERE id = 'group'", ErrorCode.LOCKED),
    (
        "UPDATE conversation_members SET muted_until = now() + interval '1 hour' "
        "WHERE user_id = 'bob' AND conversation_id = 'group'",
        ErrorCode.MUTED,
    ),
    (
        "INSERT INTO user_blocks (id, blocker_id, blocked_id, created_at) "
        "VALUES ('b1', 'alice', 'bob', now())",
        ErrorCode.BLOCKED,
    ),
]
"""Changes after which bob may no longer post (in the direct chat for the block, else in the
group), and the refusal his next send gets."""


@pytest.mark.parametrize(("change", "refusal"), REFUSING_CHANGES)
async def test_a_send_whose_access_changed_before_its_write_is_checked_again(
    engine: AsyncEngine,
    queue: SendQueue,
    monkeypatch: pytest.MonkeyPatch,
    change: str,
    refusal: ErrorCode,
) -> None:
    conversation = DIRECT if refusal == ErrorCode.BLOCKED else GROUP
    monkeypatch.setattr(send_queue, "batch_store", _changing_after_first_read(change))
    from_bob = queue.submit(SendRequest(BOB, conversation, "from bob", "bob-1"))
    from_alice = queue.submit(SendRequest(ALICE, GROUP, "from alice", "alice-1"))
    elsewhere = queue.submit(SendRequest(ALICE, OTHER_GROUP, "elsewhere", "alice-2"))
    with pytest.raises(ApiError) as refused:
        await from_bob
    assert refused.value.code == refusal
    assert (await from_alice).payload["seq"] == 1, "alice, an owner, may still post"
    assert (await elsewhere).payload["seq"] == 1
    async with engine.connect() as connection:
        stored = await connection.execute(
            text("SELECT sender_id, conversation_id, seq FROM messages ORDER BY sender_id")
        )
        assert sorted(stored) == [(ALICE, GROUP, 1), (ALICE, OTHER_GROUP, 1)]
        events = await connection.execute(
            text("SELECT data ->> 'text', CAST(data ->> 'seq' AS integer) FROM events")
        )
        assert sorted(events) == [("elsewhere", 1), ("from alice", 1)]


async def test_the_send_batches_statements_are_planned_once_per_connection(
    engine: AsyncEngine,
) -> None:
    """The batch engine runs its fixed statements on generic plans: PostgreSQL would otherwise
    plan the write afresh for each batch (custom plans), which cost as much as running it."""
    batch_engine = create_batch_engine(engine.url.render_as_string(hide_password=False))

    def send_three(connection: Connection) -> None:
        store = CoreStore(connection)
        for number in range(3):
            requests = [SendRequest(ALICE, GROUP, f"message {number}", f"alice-{number}")]
            written = write_batch(store, requests, check_batch(store, requests))
            assert written[0] is not None and written[0].payload["seq"] == number + 1

    try:
        async with batch_engine.connect() as connection:
            await connection.run_sync(send_three)
            plans = await connection.execute(
                text(
                    "SELECT generic_plans, custom_plans FROM pg_prepared_statements "
                    "WHERE statement LIKE '%conversations%' "
                    "AND statement NOT LIKE '%pg_prepared_statements%'"
                )
            )
            assert sorted(plans) == [(3, 0), (3, 0)], "the read and the write, three times each"
    finally:
        await batch_engine.dispose()


def _counting_reads(monkeypatch: pytest.MonkeyPatch) -> list[Questions]:
    """Record the questions of every read the send queue's batches make."""
    real = send_queue.batch_store
    reads: list[Questions] = []

    class CountingStore:
        def __init__(self, connection: BatchConnection) -> None:
            self._store = real(connection)

        def read(self, questions: Questions) -> Answers:
            reads.append(questions)
            return self._store.read(questions)

        def save(self, new: NewMessages) -> list[Written | None]:
            return self._store.save(new)

    monkeypatch.setattr(send_queue, "batch_store", CountingStore)
    return reads


async def test_a_batch_whose_facts_are_known_is_written_without_a_read(
    queue: SendQueue, monkeypatch: pytest.MonkeyPatch
) -> None:
    reads = _counting_reads(monkeypatch)
    first = await queue.send(SendRequest(BOB, GROUP, "first", "bob-1"))
    second = await queue.send(SendRequest(BOB, GROUP, "second", "bob-2"))
    assert (first.payload["seq"], second.payload["seq"]) == (1, 2)
    assert len(reads) == 1, "the second send rests on what the first one's checks read"
    await queue.send(SendRequest(ALICE, GROUP, "alice was not read yet", "alice-1"))
    await queue.send(SendRequest(BOB, GROUP, "a reply", "bob-3", reply_to_id=first.payload["id"]))
    assert len(reads) == 3, "a sender not read yet, and a reply target, are read"


@pytest.mark.parametrize(("change", "refusal"), REFUSING_CHANGES)
async def test_known_facts_that_moved_let_no_send_through(
    engine: AsyncEngine,
    queue: SendQueue,
    monkeypatch: pytest.MonkeyPatch,
    change: str,
    refusal: ErrorCode,
) -> None:
    """A change made elsewhere (another node, an admin's request) after bob's first send was
    checked: his next send is refused, though the facts the queue remembers still let him."""
    reads = _counting_reads(monkeypatch)
    conversation = DIRECT if refusal == ErrorCode.BLOCKED else GROUP
    await queue.send(SendRequest(BOB, conversation, "before", "bob-1"))
    async with engine.begin() as connection:
        await connection.execute(text(change))
    with pytest.raises(ApiError) as refused:
        await queue.send(SendRequest(BOB, conversation, "after", "bob-2"))
    assert refused.value.code == refusal
    assert len(reads) == 2, "the write skipped the conversation, and the send was read again"
    async with engine.connect() as connection:
        stored = await connection.execute(text("SELECT text FROM messages"))
        assert [row[0] for row in stored] == ["before"]


async def test_a_client_id_sent_again_is_answered_with_its_message_when_facts_are_known(
    engine: AsyncEngine, queue: SendQueue
) -> None:
    first = await queue.send(SendRequest(BOB, GROUP, "hello", "bob-1"))
    await queue.send(SendRequest(BOB, DIRECT, "to alice", "bob-2"))
    again = await queue.send(SendRequest(BOB, GROUP, "hello", "bob-1"))
    assert not again.created and again.payload["id"] == first.payload["id"]
    with pytest.raises(ApiError) as refused:
        await queue.send(SendRequest(BOB, DIRECT, "hello", "bob-1"))
    assert refused.value.code == ErrorCode.CONFLICT
    after = await queue.send(SendRequest(BOB, GROUP, "next", "bob-3"))
    assert after.payload["seq"] == 2, "no seq was spent on the sends stored before"
    async with engine.connect() as connection:
        stored = await connection.execute(
            text("SELECT conversation_id, seq, text FROM messages ORDER BY conversation_id, seq")
        )
        assert list(stored) == [(DIRECT, 1, "to alice"), (GROUP, 1, "hello"), (GROUP, 2, "next")]


@pytest.mark.parametrize("statement", [_PG_READ, _PG_SAVE], ids=["read", "write"])
async def test_the_send_batches_plans_made_on_empty_tables_find_rows_by_key(
    engine: AsyncEngine, statement: TextClause
) -> None:
    """The plan a batch connection makes once, here while ``messages`` is empty, must still
    serve when the tables are large: it looks every row up by key and scans no table."""
    batch_engine = create_batch_engine(engine.url.render_as_string(hide_password=False))
    compiled = statement.compile(dialect=batch_engine.dialect)
    try:
        async with batch_engine.connect() as connection:
            raw = cast(
                asyncpg.Connection, (await connection.get_raw_connection()).driver_connection
            )
            await raw.execute(f"PREPARE probe AS {compiled}")
            nulls = ", ".join(["NULL"] * len(compiled.positiontup or ()))
            plan = "\n".join(row[0] for row in await raw.fetch(f"EXPLAIN EXECUTE probe({nulls})"))
    finally:
        await batch_engine.dispose()
    assert "messages" in plan
    assert "Seq Scan" not in plan, plan
