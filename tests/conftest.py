"""Shared fixtures: the real server on SQLite, and on PostgreSQL + Redis where they run."""

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.live_server import LiveServer, backend_env, postgres_available, postgres_database

BACKENDS = ["sqlite", "postgres"]


def require_postgres() -> None:
    """Skip (or, in CI, fail) when PostgreSQL + Redis are not reachable."""
    reason = postgres_available()
    if reason is None:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI must run the PostgreSQL + Redis tests: {reason}")
    pytest.skip(reason)


def start_server(
    tmp_path: Path, backend: str, seed_demo: bool = False, env: dict[str, str] | None = None
) -> Iterator[LiveServer]:
    """Start a server on ``backend`` with its own data (and database), stop it afterwards."""
    if backend == "postgres":
        require_postgres()
        with postgres_database() as url:
            server = LiveServer(tmp_path, {**backend_env(backend, url), **(env or {})}, seed_demo)
            server.start()
            try:
                yield server
            finally:
                server.stop()
        return
    server = LiveServer(tmp_path, env or {}, seed_demo)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session", params=BACKENDS)
def live_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """A running server shared by the whole run, once on SQLite and once on PostgreSQL + Redis.
    Tests that share it register their own users; tests that stop, restart or reconfigure a
    server start their own (``fresh_server`` / ``start_server``)."""
    yield from start_server(tmp_path_factory.mktemp("server"), request.param)


@pytest.fixture
def fresh_server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[LiveServer]:
    """A server of its own for one test (SQLite unless parametrized with ``backend``)."""
    backend = getattr(request, "param", "sqlite")
    yield from start_server(tmp_path / "server", backend)
