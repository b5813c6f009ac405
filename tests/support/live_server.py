"""Run the real OpenChat server in a subprocess for tests: start, stop, kill and restart it on
the same port and data, on SQLite or on PostgreSQL + Redis."""

import asyncio
import functools
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Coroutine, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx

PG_ADMIN_DSN = os.environ.get("OPENCHAT_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
T = TypeVar("T")
REDIS_URL = os.environ.get("OPENCHAT_TEST_REDIS", "redis://127.0.0.1:6379/0")


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class LiveServer:
    """One ``openchat-server`` process. ``env`` adds ``OPENCHAT_*`` settings (database, Redis,
    short token TTLs...). The port and data dir stay the same across restarts."""

    data_dir: Path
    env: Mapping[str, str] = field(default_factory=dict)
    seed_demo: bool = False
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """The server's base URL (``http://127.0.0.1:PORT``)."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        """Where the server's output goes."""
        return self.data_dir / "server.log"

    def start(self, timeout: float = 120.0) -> None:
        """Start the server and wait until ``/healthz`` answers."""
        assert self.process is None, "already running"
        self.data_dir.mkdir(parents=True, exist_ok=True)
        command = [
            sys.executable, "-m", "server", "--host", "127.0.0.1", "--port", str(self.port),
            "--data-dir", str(self.data_dir), "--log-level", "warning",
        ]  # fmt: skip
        if self.seed_demo:
            command.append("--seed-demo")
        env = {**os.environ, "OPENCHAT_AUTH_ATTEMPTS": "100000", **self.env}
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited: {self.log_path.read_text()[-3000:]}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"server did not start: {self.log_path.read_text()[-3000:]}")

    def stop(self, kill: bool = False) -> None:
        """Stop the server (SIGTERM, or SIGKILL with ``kill``) and wait for it to exit."""
        if self.process is None:
            return
        self.process.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None

    def restart(self) -> None:
        """Stop, then start again on the same port and data."""
        self.stop()
        self.start()


def run_coroutine(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run ``coroutine`` to completion on a fresh loop in another thread (works from sync code
    and from inside a running event loop alike)."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


@functools.cache
def postgres_available() -> str | None:
    """None when PostgreSQL and Redis answer on this machine, else the reason they do not."""
    import asyncpg
    import redis

    async def _pg() -> None:
        connection = await asyncpg.connect(PG_ADMIN_DSN, timeout=3)
        await connection.close()

    try:
        run_coroutine(_pg())
    except Exception as exc:
        return f"PostgreSQL not reachable at {PG_ADMIN_DSN}: {exc}"
    try:
        redis.Redis.from_url(REDIS_URL, socket_timeout=3).ping()
    except Exception as exc:
        return f"Redis not reachable at {REDIS_URL}: {exc}"
    return None


@contextmanager
def postgres_database() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test server; dropped afterwards."""
    import asyncpg

    name = f"openchat_test_{uuid.uuid4().hex[:12]}"

    async def _admin(statement: str) -> None:
        connection = await asyncpg.connect(PG_ADMIN_DSN)
        try:
            await connection.execute(statement)
        finally:
            await connection.close()

    run_coroutine(_admin(f'CREATE DATABASE "{name}"'))
    try:
        base = PG_ADMIN_DSN.rsplit("/", 1)[0]
        yield f"{base}/{name}"
    finally:
        run_coroutine(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def backend_env(backend: str, database_url: str | None) -> dict[str, str]:
    """The ``OPENCHAT_*`` variables for ``backend`` ("sqlite" or "postgres")."""
    if backend == "sqlite":
        return {}
    assert database_url
    return {
        "OPENCHAT_DATABASE_URL": database_url,
        "OPENCHAT_REDIS_URL": REDIS_URL,
        # One deployment = one database: its nodes share a Redis namespace, other servers don't.
        "OPENCHAT_REDIS_NAMESPACE": database_url.rsplit("/", 1)[-1],
    }
