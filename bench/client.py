"""Client-core benchmarks: cache reads, local search, outbox drain, cold start. Prints figures.

Run from the repository root: ``uv run python -m bench.client`` (add ``--million`` for the search
over 1,000,000 cached messages, which takes a few minutes to generate; ``--cold-start-only`` for
the cold start alone). ``--mode fake`` drains the outbox into an in-process fake server; other
modes plug a real transport into ``TRANSPORTS``; ``--mode server`` starts the real server and
drains through the client engine (socket acks).

Targets (issue 3): first page and search p95 < 20 ms at 100,000 messages; drain >= 300 msg/s;
cold start to a ready chat list of 500 conversations < 300 ms.
"""

import argparse
import asyncio
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import TypeVar

from client.actions import Actions
from client.offline.cache import Cache
from client.offline.outbox import Outbox
from client.offline.outbox_items import OutboxItem
from client.offline.outbox_worker import OutboxWorker
from client.offline.transport import Route, Transport
from client.store import Store
from protocol.models import Conversation, ConversationType, Message
from protocol.socket import SendMessagePayload

ME = "bench-me"
PEER = "bench-peer"
T0 = datetime(2026, 1, 1, tzinfo=UTC)
_SYLLABLES = (
    "ka",
    "lo",
    "mi",
    "ne",
    "ru",
    "sa",
    "to",
    "vi",
    "ze",
    "po",
    "qua",
    "dri",
    "ben",
    "fal",
)


def vocabulary(size: int, rng: random.Random) -> list[str]:
    """``size`` distinct made-up words of 2-4 syllables."""
    words: set[str] = set()
    while len(words) < size:
        words.add("".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 4))))
    return sorted(words)


def percentiles(samples_ms: Sequence[float]) -> tuple[float, float]:
    """p50 and p95 of ``samples_ms``."""
    ordered = sorted(samples_ms)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]


T = TypeVar("T")


class Timings:
    """Wall-clock and CPU milliseconds of repeated calls (CPU time shows the work itself when
    other processes compete for the cores)."""

    def __init__(self) -> None:
        self.wall: list[float] = []
        self.cpu: list[float] = []

    def measure(self, fn: Callable[[], T]) -> T:
        """Call ``fn`` once, record how long it took, return its result."""
        wall, cpu = time.perf_counter(), time.process_time()
        result = fn()
        self.cpu.append((time.process_time() - cpu) * 1000)
        self.wall.append((time.perf_counter() - wall) * 1000)
        return result

    def summary(self) -> str:
        """``p50 .. p95 ..`` of wall time, then of CPU time."""
        p50, p95 = percentiles(self.wall)
        c50, c95 = percentiles(self.cpu)
        return f"p50 {p50:.2f} ms  p95 {p95:.2f} ms  (CPU p50 {c50:.2f} ms  p95 {c95:.2f} ms)"


def timed(fn: Callable[[], object], repeat: int) -> Timings:
    """Time ``repeat`` calls of ``fn``."""
    timings = Timings()
    for _ in range(repeat):
        timings.measure(fn)
    return timings


def conversation(conversation_id: str, minutes: int) -> Conversation:
    """A direct conversation updated ``minutes`` after T0."""
    return Conversation(
        id=conversation_id,
        type=ConversationType.DIRECT,
        title=f"Chat {conversation_id}",
        created_at=T0,
        updated_at=T0 + timedelta(minutes=minutes),
    )


def fill(cache: Cache, conversation_id: str, count: int, words: list[str], seed: int) -> None:
    """Bulk-insert ``count`` received messages (FTS triggers included) in one transaction."""
    rng = random.Random(seed)
    rows = []
    for seq in range(1, count + 1):
        text = " ".join(rng.choices(words, k=rng.randint(6, 14)))
        created = (T0 + timedelta(seconds=seq)).isoformat()
        rows.append((f"{conversation_id}-{seq}", conversation_id, PEER, seq, seq, text, created))
    with cache.transaction():
        cache.db.conn.executemany(
            """INSERT INTO messages(id, conversation_id, sender_id, seq, position, text, status,
                created_at) VALUES (?, ?, ?, ?, ?, ?, 'received', ?)""",
            rows,
        )
        cache.db.execute(
            "UPDATE conversations SET last_seq = ?, last_read_seq = ? WHERE id = ?",
            [count, count, conversation_id],
        )


def search_queries(words: list[str], rng: random.Random, n: int) -> list[str]:
    """A mix of whole words, 3-letter prefixes and two-word queries."""
    queries = []
    for i in range(n):
        kind = i % 3
        if kind == 0:
            queries.append(rng.choice(words))
        elif kind == 1:
            queries.append(rng.choice(words)[:3])
        else:
            queries.append(f"{rng.choice(words)} {rng.choice(words)[:4]}")
    return queries


def bench_history_and_search(size: int, repeat: int, with_page: bool) -> None:
    """Generate ``size`` messages in one conversation; time the first page and search."""
    rng = random.Random(size)
    words = vocabulary(5000, rng)
    with tempfile.TemporaryDirectory() as tmp:
        cache = Cache.open(Path(tmp), ME)
        cache.upsert_conversation(conversation("big", 0))
        start = time.perf_counter()
        fill(cache, "big", size, words, seed=size)
        print(f"generated {size:,} messages in {time.perf_counter() - start:.1f} s")
        if with_page:
            first = timed(lambda: cache.messages_before("big", None, 50), repeat)
            print(f"first page (50 of {size:,}): {first.summary()}")
            older = cache.messages_before("big", None, 50)[0].position
            paged = timed(lambda: cache.messages_before("big", older, 50), repeat)
            print(f"older page (keyset): {paged.summary()}")
        search = Timings()
        hits = [
            len(search.measure(partial(cache.search, query, limit=30)))
            for query in search_queries(words, rng, repeat)
        ]
        print(
            f"search over {size:,}: {search.summary()} "
            f"({repeat} queries, {statistics.mean(hits):.0f} hits on average, limit 30)"
        )
        cache.close()


class FakeServer:
    """In-process stand-in for the server: acknowledges each send with a stored message."""

    def __init__(self) -> None:
        self.seq: dict[str, int] = {}

    def route(self, item: OutboxItem) -> Route:
        """Pipelined, like the socket."""
        return Route.PIPELINED

    def start(self, item: OutboxItem) -> "asyncio.Future[Sequence[Message]]":
        """Answer ``item`` in a task (tasks run in the order they are started)."""
        return asyncio.ensure_future(self.perform(item))

    async def perform(self, item: OutboxItem) -> Sequence[Message]:
        """Answer a send like the server's ack (other actions answer nothing)."""
        await asyncio.sleep(0)
        request = item.request()
        if not isinstance(request, SendMessagePayload):
            return []
        seq = self.seq[request.conversation_id] = self.seq.get(request.conversation_id, 0) + 1
        return [
            Message(
                id=f"srv-{request.client_id}",
                conversation_id=request.conversation_id,
                sender_id=ME,
                seq=seq,
                text=request.text,
                client_id=request.client_id,
                created_at=datetime.now(UTC),
            )
        ]


TRANSPORTS: dict[str, Callable[[], Transport]] = {"fake": FakeServer}
"""Outbox transports by ``--mode``."""


async def bench_drain(count: int, mode: str) -> None:
    """Queue ``count`` messages offline through the actions, then time draining them (with a
    store attached that refreshes the chat list at most every 50 ms, as the app does)."""
    with tempfile.TemporaryDirectory() as tmp:
        cache = Cache.open(Path(tmp), ME)
        for i in range(10):
            cache.upsert_conversation(conversation(f"c{i}", i))
        outbox = Outbox(cache)
        loop = asyncio.get_running_loop()
        pending: list[asyncio.TimerHandle] = []
        store = Store(
            cache, outbox, defer=lambda flush: pending.append(loop.call_later(0.05, flush))
        )
        store.load_chat_list()
        actions = Actions(cache, outbox, store)
        start = time.perf_counter()
        for i in range(count):
            actions.send_text(f"c{i % 10}", f"queued while offline {i}")
        queued = time.perf_counter() - start
        print(f"queue {count:,} sends offline: {count / queued:,.0f} actions/s")
        worker = OutboxWorker(outbox, TRANSPORTS[mode]())
        worker.set_online(True)
        start = time.perf_counter()
        report = await worker.drain()
        elapsed = time.perf_counter() - start
        assert report.done == count, report
        print(
            f"outbox drain ({mode}): {count:,} messages in {elapsed:.2f} s = "
            f"{count / elapsed:,.0f} msg/s"
        )
        for handle in pending:
            handle.cancel()
        cache.close()


_COLD_START = """
import time
started = time.perf_counter()
import sys
from pathlib import Path
from client.offline.cache import Cache
from client.store import Store
imported = time.perf_counter()
cache = Cache.open(Path(sys.argv[1]), sys.argv[2])
rows = Store(cache).load_chat_list()
ready = time.perf_counter()
assert len(rows) == int(sys.argv[3]), len(rows)
print(started, imported, ready, time.process_time())
"""
"""The app's start-up path, timed in a fresh process: imports, open the cache, read the chat
list. ``perf_counter`` is one system-wide monotonic clock, so the parent can subtract the moment
it spawned the process from the moment the chat list was ready; ``process_time`` is the CPU the
process used until then (interpreter start-up included), what the work costs on a busy machine."""


def bench_cold_start(conversations: int, per_conversation: int, runs: int) -> None:
    """Time fresh processes from spawn to a ready chat list: interpreter start-up, imports, then
    opening the cache and reading the list (``python -X importtime -c ...`` shows the imports)."""
    rng = random.Random(3)
    words = vocabulary(2000, rng)
    with tempfile.TemporaryDirectory() as tmp:
        cache = Cache.open(Path(tmp), ME)
        for i in range(conversations):
            cache.upsert_conversation(conversation(f"c{i:03d}", i))
            fill(cache, f"c{i:03d}", per_conversation, words, seed=i)
            cache.store_message(
                Message(
                    id=f"last-{i}",
                    conversation_id=f"c{i:03d}",
                    sender_id=PEER,
                    seq=per_conversation + 1,
                    text="the latest message",
                    created_at=T0 + timedelta(days=1, minutes=i),
                )
            )
        cache.close()
        phases: dict[str, list[float]] = {
            "interpreter start-up": [],
            "imports": [],
            "open cache + chat list": [],
            "process start to ready chat list": [],
            "CPU time of the process until ready": [],
        }
        for _ in range(runs):
            spawned = time.perf_counter()
            out = subprocess.run(
                [sys.executable, "-c", _COLD_START, tmp, ME, str(conversations)],
                check=True,
                capture_output=True,
                text=True,
            ).stdout.split()
            started, imported, ready, cpu = (float(x) for x in out)
            phases["interpreter start-up"].append((started - spawned) * 1000)
            phases["imports"].append((imported - started) * 1000)
            phases["open cache + chat list"].append((ready - imported) * 1000)
            phases["process start to ready chat list"].append((ready - spawned) * 1000)
            phases["CPU time of the process until ready"].append(cpu * 1000)
        print(
            f"cold start, {conversations} conversations "
            f"({conversations * per_conversation:,} messages cached), {runs} fresh processes:"
        )
        for label, samples in phases.items():
            p50, p95 = percentiles(samples)
            print(f"  {label}: p50 {p50:.1f} ms  p95 {p95:.1f} ms")


SERVER_MODE = "server"
"""``--mode server``: the real server on SQLite, drained by the client engine over its socket."""


async def bench_drain_server(count: int) -> None:
    """Queue ``count`` sends offline to 10 people through the engine's actions, then start the
    engine against a real server and time connect + catch-up + drain, and the drain alone."""
    from client.engine import Engine
    from client.services.api import ApiClient
    from client.services.session import FileVault, Session
    from tests.support.live_server import LiveServer

    with tempfile.TemporaryDirectory() as tmp:
        server = LiveServer(Path(tmp) / "server", {"OPENCHAT_MESSAGES_PER_MINUTE": "10000000"})
        await asyncio.to_thread(server.start, 120.0)
        profile = Path(tmp) / "profile"
        session = Session(profile, server.url, vault=FileVault(profile / "secrets"))
        try:
            await session.register("bench_sender", "bench-password-1", "Sender")
            peers = []
            for i in range(10):
                peer = ApiClient(server.url)
                peers.append((await peer.register(f"bench_peer{i}", "bench-password-1", "P")).user)
                await peer.aclose()
            loop = asyncio.get_running_loop()
            refreshes: list[asyncio.TimerHandle] = []
            engine = Engine(
                session, defer=lambda flush: refreshes.append(loop.call_later(0.05, flush))
            )
            chats = [await session.api.create_direct(p.id) for p in peers]
            with engine.cache.transaction():
                for chat in chats:
                    engine.cache.upsert_conversation(chat)
            for i in range(count):
                engine.actions.send_text(chats[i % 10].id, f"queued while offline {i}")
            start = time.perf_counter()
            await engine.start()
            assert await engine.realtime.wait_online(120.0)
            online = time.perf_counter()
            assert await engine.wait_drained(600.0), engine.outbox.counts()
            done = time.perf_counter()
            stored = sum(c.last_seq for c in await session.api.all_conversations())
            assert stored == count, (stored, count)
            print(
                f"outbox drain (server, socket acks): {count:,} messages in "
                f"{done - online:.2f} s = {count / (done - online):,.0f} msg/s; "
                f"with connect + catch-up {done - start:.2f} s = "
                f"{count / (done - start):,.0f} msg/s"
            )
            for handle in refreshes:  # no store refresh after the cache is closed
                handle.cancel()
            await engine.stop()
        finally:
            await session.aclose()
            await asyncio.to_thread(server.stop)


def main(argv: Sequence[str] | None = None) -> None:
    """Parse options and run the benchmarks."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--mode", choices=[*sorted(TRANSPORTS), SERVER_MODE], default="fake")
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--million", action="store_true", help="also search 1,000,000 messages")
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--outbox", type=int, default=1000)
    parser.add_argument("--conversations", type=int, default=500)
    parser.add_argument("--cold-starts", type=int, default=15, help="processes to time")
    parser.add_argument("--cold-start-only", action="store_true", help="only the cold start")
    args = parser.parse_args(argv)
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"{os.cpu_count()} CPUs, load average {load} (figures are noisy on a busy machine)")
    if args.cold_start_only:
        bench_cold_start(args.conversations, 20, args.cold_starts)
        return
    bench_history_and_search(args.messages, args.queries, with_page=True)
    if args.million:
        bench_history_and_search(1_000_000, args.queries, with_page=False)
    if args.mode == SERVER_MODE:
        asyncio.run(bench_drain_server(args.outbox))
    else:
        asyncio.run(bench_drain(args.outbox, args.mode))
    bench_cold_start(args.conversations, 20, args.cold_starts)


if __name__ == "__main__":
    main()
