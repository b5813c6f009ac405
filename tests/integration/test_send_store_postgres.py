"""The PostgreSQL send path checks a batch without locks and writes it in one statement that
skips conversations whose access moved meanwhile: the triggers that keep ``access_version``
(migration 0004), and the send queue checking a skipped send again, on a real database."""

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import cast

import pytest
from sqlalchemy import Connection, text
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
from server.services.send_stores import CoreStore
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


@pytest.mark.parametrize(
    ("change", "refusal"),
    [
        (
            "DELETE FROM conversation_members WHERE user_id = 'bob' AND conversation_id = 'group'",
            ErrorCode.NOT_A_MEMBER,
        ),
        ("UPDATE conversations SET is_locked = true WHERE id = 'group'", ErrorCode.LOCKED),
        (
            "INSERT INTO user_blocks (id, blocker_id, blocked_id, created_at) "
            "VALUES ('b1', 'alice', 'bob', now())",
            ErrorCode.BLOCKED,
        ),
    ],
)
async def test_a_send_whose_access_changed_before_its_write_is_checked_again(
    engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch, change: str, refusal: ErrorCode
) -> None:
    conversation = DIRECT if refusal == ErrorCode.BLOCKED else GROUP
    monkeypatch.setattr(send_queue, "batch_store", _changing_after_first_read(change))
    batch_engine = create_batch_engine(engine.url.render_as_string(hide_password=False))
    database = Database(engine, session_factory(engine), NullPublisher(), batch_engine=batch_engine)
    queue = SendQueue(database, MemoryRateLimiter(), messages_per_minute=1000)
    try:
        from_bob = queue.submit(SendRequest(BOB, conversation, "from bob", "bob-1"))
        from_alice = queue.submit(SendRequest(ALICE, GROUP, "from alice", "alice-1"))
        elsewhere = queue.submit(SendRequest(ALICE, OTHER_GROUP, "elsewhere", "alice-2"))
        with pytest.raises(ApiError) as refused:
            await from_bob
        assert refused.value.code == refusal
        assert (await from_alice).payload["seq"] == 1, "alice, an owner, may still post"
        assert (await elsewhere).payload["seq"] == 1
    finally:
        await database.close()
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
