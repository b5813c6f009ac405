"""The Alembic migrations build exactly the schema the models describe, on SQLite and on
PostgreSQL, and downgrade back to empty."""

import asyncio
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Connection

from server.db.migrate import alembic_config, upgrade_to_head
from server.db.models import Base
from server.db.session import create_engine
from tests.conftest import require_postgres
from tests.support.live_server import postgres_database

T = TypeVar("T")

SEARCH_ONLY_IN_MIGRATIONS = {"messages_fts", "search_vector", "idx_messages_search"}
"""Full-text search objects the migrations create per dialect (FTS5 tables on SQLite, the
tsvector column and its index on PostgreSQL), which the models do not describe."""


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database of each backend."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'schema.db'}"
        return
    require_postgres()
    with postgres_database() as url:
        yield "postgresql+asyncpg://" + url.split("://", 1)[1]


def _on_connection(database_url: str, read: Callable[[Connection], T]) -> T:
    """``read`` run on a connection to ``database_url``."""

    async def run() -> T:
        engine = create_engine(database_url)
        try:
            async with engine.connect() as connection:
                return await connection.run_sync(read)
        finally:
            await engine.dispose()

    return asyncio.run(run())


def _compare(connection: Connection) -> list[Any]:
    found = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    return [d for d in found if not _expected(d, connection.dialect.name)]


def _expected(difference: Any, dialect: str) -> bool:
    """Differences that are not drift: the search objects, and on SQLite indexes with a
    descending column, which Alembic cannot read back from SQLite and reports as changed."""
    kind = difference[0]
    if kind == "remove_table":
        return bool(difference[1].name.startswith("messages_fts"))
    if kind == "remove_column":
        return bool(difference[3].name in SEARCH_ONLY_IN_MIGRATIONS)
    if kind in ("remove_index", "add_index"):
        index = difference[1]
        return index.name in SEARCH_ONLY_IN_MIGRATIONS or (
            dialect == "sqlite" and _has_descending_column(index.name)
        )
    return False


def _has_descending_column(index_name: str) -> bool:
    for table in Base.metadata.tables.values():
        for index in table.indexes:
            if index.name == index_name:
                return any("DESC" in str(e).upper() for e in index.expressions)
    return False


def test_migrations_build_the_models_schema_and_downgrade_to_empty(database_url: str) -> None:
    upgrade_to_head(database_url)
    assert _on_connection(database_url, _compare) == []
    members = _on_connection(database_url, lambda c: inspect(c).get_columns("conversation_members"))
    assert "banned_until" not in {column["name"] for column in members}

    command.downgrade(alembic_config(database_url), "base")
    tables = _on_connection(database_url, lambda c: inspect(c).get_table_names())
    assert set(tables) <= {"alembic_version"}
    upgrade_to_head(database_url)
    assert _on_connection(database_url, _compare) == []
