"""Realtime benchmark: end-to-end message latency and peak delivered throughput over Socket.IO.

    uv run --all-extras python -m bench.realtime [--clients 500] [--rate 500] [--duration 10]
        [--peak-duration 10] [--backends sqlite,postgres] [--no-bare] [--workers 2]

For each configuration it starts the server(s) as subprocesses, registers ``--clients`` users in
pairs (one direct chat per pair) and connects every user with a python-socketio ``AsyncClient``
over WebSocket only, from ``--workers`` load-generator processes (the two clients of a pair live in
the same process, so one clock times a message from send to arrival). Then two phases:

* steady: the clients send ``--rate`` messages/s in total (each client in turn, to its pair) for
  ``--duration`` s after a warm-up; latency is send -> the OTHER client's ``message_new``. The
  server emits ``message_new`` only after the message is committed, and the ack carries the stored
  message, so every sample is a persisted message.
* peak: every client keeps ``--inflight`` sends outstanding (the next one leaves on the ack) for
  ``--peak-duration`` s after a warm-up; deliveries per second to the other client are the peak.

Configurations: ``sqlite`` (one server, SQLite in its data dir), ``postgres`` (two servers on one
fresh PostgreSQL database and Redis, each pair's clients split across the two nodes so every
message crosses Redis), and the bare relay (``--bare``, on by default): a python-socketio server
with no auth and no storage that acks and emits each message to the pair's room, as our server
emits ``message_new`` to the conversation's room. It runs in the same uvicorn/WebSocket setup, so
the ratio of our figures to the relay's is the cost of our logic on this machine.

The per-user rate limit (30 messages/min) is lifted for the bench servers through
``OPENCHAT_MESSAGES_PER_MINUTE``. CPU use of the server processes and of the load generator is
printed next to each phase: when the generator runs near 100% of a core per process, it, not the
server, is the limit.
"""

import argparse
import asyncio
import itertools
import multiprocessing
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import httpx
import socketio

from protocol.rest import API_PREFIX
from tests.support.live_server import (
    LiveServer,
    backend_env,
    free_port,
    postgres_available,
    postgres_database,
)

RATE_LIMIT_OFF = "100000000"
"""``OPENCHAT_MESSAGES_PER_MINUTE`` of bench servers: the per-user limit must not shape the load."""
PASSWORD = "bench-password-123"
CONNECT_CONCURRENCY = 20
SETUP_CONCURRENCY = 16
SETUP_ATTEMPTS = 4
"""Tries per registration when the connection drops (then it logs in, or registers again)."""
DRAIN_SECONDS = 10.0
"""How long the generator waits after a phase for outstanding deliveries (then they are lost)."""
BACKLOG_SECONDS = 300.0
"""How long the generator lets an overloaded server answer the rest before the next phase."""
START_SECONDS = 120.0
"""Longest a server may take to start (imports and migrations are slow on a busy machine)."""
TARGET_P95_MS = 50.0
TARGET_PEAK_RATIO = 0.45
TICKS = os.sysconf("SC_CLK_TCK")


# --- what the load generator is given ------------------------------------------------------------


@dataclass(frozen=True)
class ClientSpec:
    """How one bench client connects: server URL and handshake ``auth``."""

    url: str
    auth: dict[str, str]


@dataclass(frozen=True)
class PairSpec:
    """Two clients that talk to each other in one conversation (a direct chat, or a relay room)."""

    conversation_id: str
    left: ClientSpec
    right: ClientSpec


@dataclass(frozen=True)
class SteadyPhase:
    """Send ``rate`` messages/s from this worker; measure from ``start + warmup`` to ``end``."""

    start: float
    warmup: float
    duration: float
    rate: float


@dataclass(frozen=True)
class PeakPhase:
    """Keep ``inflight`` sends outstanding per client; count deliveries after the warm-up."""

    start: float
    warmup: float
    duration: float
    inflight: int


@dataclass
class PhaseResult:
    """What one worker measured in one phase (times in seconds, monotonic clock)."""

    latencies: list[float] = field(default_factory=list)
    ack_latencies: list[float] = field(default_factory=list)
    sent: int = 0
    delivered: int = 0
    """Deliveries to the other client inside the measured window."""
    window: float = 0.0
    lost: int = 0
    """Measured messages neither delivered nor refused within ``DRAIN_SECONDS`` of the end
    (late or lost)."""
    errors: Counter[str] = field(default_factory=Counter)
    cpu_seconds: float = 0.0
    backlog: float = 0.0
    """Seconds after the drain until every send of the phase was answered (server overloaded)."""
    unanswered: int = 0
    """Sends still without an ack ``BACKLOG_SECONDS`` after the drain."""

    def merge(self, other: "PhaseResult") -> None:
        """Add another worker's figures to these."""
        self.latencies.extend(other.latencies)
        self.ack_latencies.extend(other.ack_latencies)
        self.sent += other.sent
        self.delivered += other.delivered
        self.window = max(self.window, other.window)
        self.lost += other.lost
        self.errors.update(other.errors)
        self.cpu_seconds += other.cpu_seconds
        self.backlog = max(self.backlog, other.backlog)
        self.unanswered += other.unanswered


# --- the load generator (runs in worker processes) -----------------------------------------------


@dataclass
class Pending:
    """A message on its way: when it left, which client must receive it, whether it counts."""

    sent_at: float
    receiver: int
    measured: bool


class LoadGenerator:
    """The bench clients of one worker process and their bookkeeping."""

    def __init__(self, pairs: Sequence[PairSpec], prefix: str) -> None:
        self._specs: list[tuple[ClientSpec, str]] = []
        self._peers: list[int] = []
        for pair in pairs:
            base = len(self._specs)
            self._specs += [(pair.left, pair.conversation_id), (pair.right, pair.conversation_id)]
            self._peers += [base + 1, base]
        self._clients: list[socketio.AsyncClient] = []
        self._prefix = prefix
        self._counter = itertools.count()
        self._pending: dict[str, Pending] = {}
        self._result = PhaseResult()
        self._window = (0.0, 0.0)
        self._flooding_until = 0.0
        self._phase = 0
        self._unacked = 0
        self._undelivered = 0
        """Measured messages not yet delivered (nor refused)."""
        self._changed = asyncio.Event()
        self._cpu_at_start = 0.0

    async def connect(self) -> list[str]:
        """Connect every client (WebSocket only); returns the failures, if any."""
        gate = asyncio.Semaphore(CONNECT_CONCURRENCY)
        self._clients = [self._client(index) for index in range(len(self._specs))]

        async def connect_one(index: int) -> str | None:
            spec = self._specs[index][0]
            async with gate:
                try:
                    await self._clients[index].connect(
                        spec.url, auth=spec.auth, transports=["websocket"], wait_timeout=30
                    )
                except Exception as exc:
                    return f"client {index}: {type(exc).__name__}: {exc}"
            return None

        outcomes = await asyncio.gather(*(connect_one(i) for i in range(len(self._clients))))
        return [failure for failure in outcomes if failure]

    async def close(self) -> None:
        """Disconnect every client."""
        await asyncio.gather(*(client.disconnect() for client in self._clients))

    def _client(self, index: int) -> socketio.AsyncClient:
        client = socketio.AsyncClient(reconnection=False)

        def on_message_new(data: dict[str, Any]) -> None:
            now = time.monotonic()
            pending = self._pending.get(data.get("clientId", ""))
            if pending is None or pending.receiver != index:
                return  # the echo to the sender's own socket, or a message from before
            del self._pending[data["clientId"]]
            if pending.measured:
                self._undelivered -= 1
                self._changed.set()
            window_start, window_end = self._window
            if window_start <= now <= window_end:
                self._result.delivered += 1
            if pending.measured:
                self._result.latencies.append(now - pending.sent_at)

        client.on("message_new", on_message_new)
        return client

    async def _send(self, index: int, measured: bool) -> None:
        client_id = f"{self._prefix}{next(self._counter)}"
        conversation_id = self._specs[index][1]
        sent_at = time.monotonic()
        self._pending[client_id] = Pending(sent_at, self._peers[index], measured)
        self._unacked += 1
        self._undelivered += measured
        self._result.sent += measured
        phase = self._phase

        async def on_ack(ack: Any) -> None:
            now = time.monotonic()
            if phase != self._phase:
                return  # answered after its phase was given up on
            self._unacked -= 1
            self._changed.set()
            if isinstance(ack, dict) and "error" in ack:
                if self._pending.pop(client_id, None) is not None and measured:
                    self._undelivered -= 1
                self._result.errors[str(ack["error"].get("code"))] += 1
            elif measured:
                self._result.ack_latencies.append(now - sent_at)
            if now < self._flooding_until:
                await self._send(index, measured=now >= self._window[0])

        await self._clients[index].emit(
            "send_message",
            {
                "conversationId": conversation_id,
                "text": f"bench {client_id}",
                "clientId": client_id,
            },
            callback=on_ack,
        )

    async def steady(self, phase: SteadyPhase) -> PhaseResult:
        """Open loop: ``phase.rate`` messages/s, each client in turn, whatever the answers."""
        measure_from = phase.start + phase.warmup
        end = measure_from + phase.duration
        self._begin((measure_from, end))
        await _sleep_until(phase.start)
        senders = itertools.cycle(range(len(self._clients)))
        for sent in itertools.count():
            due = phase.start + sent / phase.rate
            if due >= end:
                break
            await _sleep_until(due)
            await self._send(next(senders), measured=due >= measure_from)
        return await self._finish()

    async def peak(self, phase: PeakPhase) -> PhaseResult:
        """Closed loop: every client keeps ``phase.inflight`` sends outstanding until the end."""
        measure_from = phase.start + phase.warmup
        end = measure_from + phase.duration
        self._begin((measure_from, end))
        self._flooding_until = end
        await _sleep_until(phase.start)
        for _ in range(phase.inflight):
            for index in range(len(self._clients)):
                await self._send(index, measured=False)
        await _sleep_until(end)
        self._flooding_until = 0.0
        return await self._finish()

    def _begin(self, window: tuple[float, float]) -> None:
        self._phase += 1
        self._unacked = self._undelivered = 0
        self._pending.clear()
        self._result = PhaseResult(window=window[1] - window[0])
        self._window = window
        self._cpu_at_start = time.process_time()

    async def _wait(self, done: Callable[[], bool], seconds: float) -> None:
        """Until ``done()`` holds (checked after every ack and delivery), at most ``seconds``."""
        with suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                while not done():
                    self._changed.clear()
                    await self._changed.wait()

    async def _finish(self) -> PhaseResult:
        result = self._result
        await self._wait(lambda: not self._unacked and not self._undelivered, DRAIN_SECONDS)
        result.cpu_seconds = time.process_time() - self._cpu_at_start
        result.lost = self._undelivered
        for pending in self._pending.values():
            pending.measured = False  # a later arrival no longer counts
        self._undelivered = 0
        started = time.monotonic()
        await self._wait(lambda: not self._unacked, BACKLOG_SECONDS)
        result.backlog = time.monotonic() - started
        result.unanswered = self._unacked
        return result


async def _sleep_until(moment: float) -> None:
    delay = moment - time.monotonic()
    if delay > 0:
        await asyncio.sleep(delay)


def _run_worker(pairs: list[PairSpec], prefix: str, conn: Connection) -> None:
    """Worker process entry: connect, then run the phases the parent sends until ``None``."""
    try:
        import uvloop

        run: Callable[[Any], Any] = uvloop.run
    except ImportError:
        run = asyncio.run
    run(_worker(pairs, prefix, conn))


async def _worker(pairs: list[PairSpec], prefix: str, conn: Connection) -> None:
    generator = LoadGenerator(pairs, prefix)
    conn.send(await generator.connect())
    loop = asyncio.get_running_loop()
    while True:
        phase = await loop.run_in_executor(None, conn.recv)
        if phase is None:
            break
        if isinstance(phase, SteadyPhase):
            conn.send(await generator.steady(phase))
        else:
            conn.send(await generator.peak(phase))
    await generator.close()


class Workers:
    """The load-generator processes of one configuration, driven phase by phase."""

    def __init__(self, pairs: Sequence[PairSpec], count: int) -> None:
        context = multiprocessing.get_context("spawn")
        self._conns: list[Connection] = []
        self.processes: list[multiprocessing.process.BaseProcess] = []
        for number in range(count):
            parent, child = context.Pipe()
            share = list(pairs[number::count])
            process = context.Process(
                target=_run_worker, args=(share, f"w{number}n", child), daemon=True
            )
            process.start()
            self._conns.append(parent)
            self.processes.append(process)

    def wait_connected(self, timeout: float) -> list[str]:
        """Every worker's connection failures (empty when all clients are connected)."""
        failures: list[str] = []
        for conn in self._conns:
            if not conn.poll(timeout):
                raise RuntimeError(f"load generator did not connect within {timeout:.0f} s")
            failures += conn.recv()
        return failures

    def run(
        self, phase_of: Callable[[int], SteadyPhase | PeakPhase], timeout: float
    ) -> PhaseResult:
        """Run one phase on every worker (``phase_of(worker_count)``) and merge the figures."""
        phase = phase_of(len(self._conns))
        for conn in self._conns:
            conn.send(phase)
        total = PhaseResult()
        for conn in self._conns:
            if not conn.poll(timeout):
                raise RuntimeError("load generator did not report in time")
            total.merge(conn.recv())
        return total

    def close(self) -> None:
        """Disconnect the clients and end the processes."""
        for conn in self._conns:
            conn.send(None)
        for process in self.processes:
            process.join(15)
            if process.is_alive():
                process.kill()


# --- servers and set-up -----------------------------------------------------------------------


def serve_bare(port: int) -> None:
    """The bare relay: python-socketio with no auth and no storage, in the server's uvicorn set-up
    and with its packet encoding (``WirePacket``), so the ratio measures our logic alone.

    A client joins the room named in its handshake ``auth``; ``send_message`` is emitted as
    ``message_new`` to that room (both clients, as our server emits to the conversation's room)
    and acked with the payload."""
    import uvicorn

    from server.realtime.wire import WirePacket

    sio = socketio.AsyncServer(
        async_mode="asgi", serializer=WirePacket, ping_interval=10, ping_timeout=10
    )

    async def connect(sid: str, environ: dict[str, Any], auth: dict[str, str]) -> None:
        await sio.enter_room(sid, auth["room"])

    async def send_message(sid: str, data: dict[str, Any]) -> dict[str, Any]:
        await sio.emit("message_new", data, room=data["conversationId"])
        return data

    sio.on("connect", connect)
    sio.on("send_message", send_message)
    uvicorn.run(
        socketio.ASGIApp(sio),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        access_log=False,
        ws="websockets-sansio",
    )


@contextmanager
def bare_relay() -> Iterator[tuple[list[str], list[int]]]:
    """Run the bare relay in a subprocess; yields its URL list and process ids."""
    port = free_port()
    command = [sys.executable, "-m", "bench.realtime", "--serve-bare", str(port)]
    process = subprocess.Popen(command)
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                raise RuntimeError("the bare relay exited")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("the bare relay did not start") from None
                time.sleep(0.1)
        yield [f"http://127.0.0.1:{port}"], [process.pid]
    finally:
        process.terminate()
        process.wait(15)


@contextmanager
def openchat_servers(backend: str, data_dir: Path) -> Iterator[tuple[list[str], list[int]]]:
    """Our server: one node on SQLite, or two nodes on PostgreSQL + Redis."""
    env = {
        "OPENCHAT_MESSAGES_PER_MINUTE": RATE_LIMIT_OFF,
        "OPENCHAT_SECRET_KEY": secrets.token_urlsafe(32),  # a token works on every node
    }
    with ExitStack() as stack:
        if backend == "sqlite":
            nodes = [LiveServer(data_dir / "node", env)]
        else:
            url = stack.enter_context(postgres_database())
            env.update(backend_env("postgres", url))
            nodes = [LiveServer(data_dir / f"node{n}", env) for n in (1, 2)]
        for node in nodes:  # one after the other: the first one migrates the database
            node.start(timeout=START_SECONDS)
            stack.callback(node.stop)
        yield [node.url for node in nodes], [node.process.pid for node in nodes if node.process]


async def _register_pairs(urls: Sequence[str], clients: int) -> list[PairSpec]:
    """Register ``clients`` users and open one direct chat per pair; pair members alternate
    between the nodes (``urls``) so that with two nodes every message crosses between them."""
    gate = asyncio.Semaphore(SETUP_CONCURRENCY)
    run = secrets.token_hex(3)
    # Pooled connections expire before uvicorn's 5 s keep-alive closes them under our feet.
    limits = httpx.Limits(keepalive_expiry=1.0)
    async with httpx.AsyncClient(timeout=120, limits=limits) as http:

        async def register(number: int) -> tuple[str, str]:
            url = urls[number % len(urls)]
            name = f"bench_{run}_{number}"
            login = {"username": name, "password": PASSWORD}
            registration = {**login, "display_name": f"Bench {number}"}
            path = "/auth/register"
            for attempt in range(SETUP_ATTEMPTS):
                body = registration if path == "/auth/register" else login
                try:
                    async with gate:
                        response = await http.post(f"{url}{API_PREFIX}{path}", json=body)
                except httpx.TransportError:
                    # A dropped connection on a loaded machine: the user may exist by now.
                    if attempt + 1 == SETUP_ATTEMPTS:
                        raise
                    path = "/auth/login"
                    continue
                if response.status_code == 401 and path == "/auth/login":
                    path = "/auth/register"  # the dropped registration never happened
                    continue
                break
            response.raise_for_status()
            data = response.json()
            return str(data["user"]["id"]), str(data["access_token"])

        users = await asyncio.gather(*(register(n) for n in range(clients)))

        async def pair(number: int) -> PairSpec:
            (_, left_token), (right_id, right_token) = users[2 * number], users[2 * number + 1]
            async with gate:
                response = await http.post(
                    f"{urls[0]}{API_PREFIX}/conversations",
                    json={"type": "direct", "user_id": right_id},
                    headers={"Authorization": f"Bearer {left_token}"},
                )
            response.raise_for_status()
            return PairSpec(
                str(response.json()["id"]),
                ClientSpec(urls[0], {"token": left_token}),
                ClientSpec(urls[1 % len(urls)], {"token": right_token}),
            )

        return await asyncio.gather(*(pair(n) for n in range(clients // 2)))


def _relay_pairs(url: str, clients: int) -> list[PairSpec]:
    pairs = []
    for number in range(clients // 2):
        room = f"pair{number}"
        spec = ClientSpec(url, {"room": room})
        pairs.append(PairSpec(room, spec, spec))
    return pairs


# --- measuring and reporting ------------------------------------------------------------------


def _cpu_seconds(pids: Sequence[int]) -> float:
    """User + system CPU time used so far by the processes ``pids`` (and their reaped children)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += sum(int(value) for value in fields[11:15])
    return total / TICKS


def _machine_busy() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine so far, from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]
    return (sum(values) - idle) / TICKS, sum(values) / TICKS


@dataclass
class Measured:
    """A phase's merged figures plus the CPU use around it."""

    result: PhaseResult
    wall: float
    server_cpu: float
    machine_busy: float
    """Share of all cores busy during the phase, 0..1."""

    def cores(self, seconds: float) -> float:
        """CPU seconds over the phase's wall time, in cores."""
        return seconds / self.wall if self.wall else 0.0


def _measure(workers: Workers, server_pids: Sequence[int], phase: Callable[[int], Any]) -> Measured:
    busy0, total0 = _machine_busy()
    server0 = _cpu_seconds(server_pids)
    started = time.monotonic()
    result = workers.run(phase, timeout=600)
    wall = time.monotonic() - started
    busy1, total1 = _machine_busy()
    return Measured(
        result=result,
        wall=wall,
        server_cpu=_cpu_seconds(server_pids) - server0,
        machine_busy=(busy1 - busy0) / max(total1 - total0, 1e-9),
    )


def _percentile(samples: Sequence[float], fraction: float) -> float:
    """The ``fraction`` quantile of ``samples`` in milliseconds (nan when empty)."""
    if not samples:
        return float("nan")
    if len(samples) == 1:
        return samples[0] * 1000
    return (
        statistics.quantiles(samples, n=1000, method="inclusive")[int(fraction * 1000) - 1] * 1000
    )


@dataclass
class Outcome:
    """One configuration's figures for the summary."""

    name: str
    steady: Measured
    peak: Measured

    @property
    def peak_rate(self) -> float:
        """Deliveries per second to the other client in the peak phase."""
        window = self.peak.result.window
        return self.peak.result.delivered / window if window else 0.0

    @property
    def steady_p95(self) -> float:
        """p95 end-to-end latency (ms) in the steady phase."""
        return _percentile(self.steady.result.latencies, 0.95)


def _other_cores(measured: Measured) -> float:
    """Cores busy with anything but the servers and the generator (PostgreSQL, Redis, others)."""
    ours = measured.cores(measured.server_cpu) + measured.cores(measured.result.cpu_seconds)
    return max(0.0, measured.machine_busy * (os.cpu_count() or 1) - ours)


def _describe(label: str, measured: Measured) -> str:
    result = measured.result
    lat = result.latencies
    ack = result.ack_latencies
    delivered_rate = result.delivered / result.window if result.window else 0.0
    errors = ", ".join(f"{code}×{n}" for code, n in result.errors.items()) or "none"
    return (
        f"  {label:<6} measured sends {result.sent:>6}  delivered {len(lat):>6}  "
        f"late (not there {DRAIN_SECONDS:g} s after the end) {result.lost}  errors {errors}\n"
        f"         e2e ms p50 {_percentile(lat, 0.50):7.1f}  p95 {_percentile(lat, 0.95):7.1f}  "
        f"p99 {_percentile(lat, 0.99):7.1f}  | ack ms p50 {_percentile(ack, 0.50):6.1f}  "
        f"p95 {_percentile(ack, 0.95):6.1f}  | delivered {delivered_rate:7.0f} msg/s\n"
        f"         cpu: server {measured.cores(measured.server_cpu):4.2f} cores, "
        f"load generator {measured.cores(result.cpu_seconds):4.2f} cores, "
        f"other processes {_other_cores(measured):4.2f} cores "
        f"(machine {measured.machine_busy * 100:3.0f}% busy)"
        + (
            f"\n         overloaded: the server answered its backlog {result.backlog:.0f} s "
            f"after the drain; {result.unanswered} sends never answered"
            if result.backlog > 1 or result.unanswered
            else ""
        )
    )


def _renice(pids: Sequence[int], nice: int) -> None:
    for pid in pids:
        os.setpriority(os.PRIO_PROCESS, pid, nice)


def _renice_autogroup(nice: int) -> None:
    """With autogroup scheduling, nice only ranks processes inside their session's group; the
    group's own nice ranks the bench (one session) against the machine's other sessions."""
    autogroup = Path("/proc/self/autogroup")
    if nice and autogroup.exists():
        autogroup.write_text(str(nice))


def run_configuration(name: str, args: argparse.Namespace, tmp: Path) -> Outcome:
    """Start the servers of ``name``, connect the clients, run both phases, print the figures."""
    print(f"\n[{name}]", flush=True)
    set_up = time.monotonic()
    with ExitStack() as stack:
        if name == "bare":
            urls, pids = stack.enter_context(bare_relay())
            _renice(pids, args.nice)
            pairs = _relay_pairs(urls[0], args.clients)
        else:
            urls, pids = stack.enter_context(openchat_servers(name, tmp / name))
            _renice(pids, args.nice)
            pairs = asyncio.run(_register_pairs(urls, args.clients))
        workers = Workers(pairs, args.workers)
        stack.callback(workers.close)
        _renice([process.pid for process in workers.processes if process.pid], args.nice)
        failures = workers.wait_connected(timeout=300)
        if failures:
            raise RuntimeError(f"{len(failures)} clients failed to connect: {failures[:3]}")
        print(
            f"  {len(urls)} server process(es), {2 * len(pairs)} clients connected "
            f"in {time.monotonic() - set_up:.1f} s (set-up included)",
            flush=True,
        )

        def steady(count: int) -> SteadyPhase:
            return SteadyPhase(
                time.monotonic() + 0.5, args.warmup, args.duration, args.rate / count
            )

        def peak(count: int) -> PeakPhase:
            return PeakPhase(time.monotonic() + 0.5, args.warmup, args.peak_duration, args.inflight)

        outcome = Outcome(name, _measure(workers, pids, steady), _measure(workers, pids, peak))
        print(_describe("steady", outcome.steady), flush=True)
        print(_describe("peak", outcome.peak), flush=True)
        return outcome


def summarize(outcomes: Sequence[Outcome], args: argparse.Namespace) -> None:
    """Print the comparison table and whether the targets are met."""
    print("\nsummary")
    print(
        f"  {'configuration':<22}{'p50 ms':>8}{'p95 ms':>8}{'p99 ms':>8}"
        f"{'peak msg/s':>12}{'vs bare':>9}"
    )
    bare = next((o for o in outcomes if o.name == "bare"), None)
    labels = {"bare": "bare relay", "sqlite": "sqlite (1 node)", "postgres": "postgres+redis (2)"}
    for outcome in outcomes:
        lat = outcome.steady.result.latencies
        ratio = (
            f"{outcome.peak_rate / bare.peak_rate:8.0%}" if bare and bare.peak_rate else "       -"
        )
        print(
            f"  {labels[outcome.name]:<22}{_percentile(lat, 0.5):8.1f}{_percentile(lat, 0.95):8.1f}"
            f"{_percentile(lat, 0.99):8.1f}{outcome.peak_rate:12.0f} {ratio}"
        )
    print(f"\ntargets (steady = {args.clients} clients, {args.rate:g} msg/s in total)")
    for outcome in outcomes:
        if outcome.name == "bare":
            continue
        met = outcome.steady_p95 < TARGET_P95_MS
        print(
            f"  {labels[outcome.name]}: p95 {outcome.steady_p95:.1f} ms "
            f"(target < {TARGET_P95_MS:g} ms): {'met' if met else 'MISSED'}"
        )
        if outcome.name == "sqlite" and bare and bare.peak_rate:
            share = outcome.peak_rate / bare.peak_rate
            verdict = "met" if share >= TARGET_PEAK_RATIO else "MISSED"
            print(
                f"  sqlite peak {outcome.peak_rate:.0f} msg/s = {share:.0%} of the bare relay's "
                f"{bare.peak_rate:.0f} (target >= {TARGET_PEAK_RATIO:.0%}): {verdict}"
            )


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bench.realtime", description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=500, help="socket clients, in pairs")
    parser.add_argument("--rate", type=float, default=500, help="steady messages/s in total")
    parser.add_argument("--duration", type=float, default=10, help="steady seconds measured")
    parser.add_argument("--peak-duration", type=float, default=10, help="peak seconds measured")
    parser.add_argument("--warmup", type=float, default=2, help="unmeasured seconds per phase")
    parser.add_argument("--inflight", type=int, default=1, help="peak: sends outstanding/client")
    parser.add_argument("--workers", type=int, default=2, help="load-generator processes")
    parser.add_argument(
        "--backends", default="sqlite,postgres", help="comma list of sqlite, postgres"
    )
    parser.add_argument(
        "--bare",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also measure the bare python-socketio relay (default: on)",
    )
    parser.add_argument(
        "--nice",
        type=int,
        default=0,
        help="scheduling priority of the bench's servers and generators (e.g. -10 as root, so "
        "other work on a shared machine disturbs the figures less). PostgreSQL and Redis keep "
        "theirs, so this ranks our servers above the database every send waits for: measure "
        "the postgres configuration without it, on a quiet machine",
    )
    parser.add_argument(
        "--data-dir",
        help="keep the servers' data and logs (server.log) here instead of a temporary directory",
    )
    parser.add_argument("--serve-bare", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.clients < 2 or args.clients % 2:
        parser.error("--clients must be an even number >= 2")
    unknown = set(args.backends.split(",")) - {"sqlite", "postgres", ""}
    if unknown:
        parser.error(f"unknown backends: {', '.join(sorted(unknown))}")
    return args


def main(argv: Sequence[str] | None = None) -> None:
    """Run the configurations asked for and print their figures and the summary."""
    args = _parse(argv)
    if args.serve_bare:
        serve_bare(args.serve_bare)
        return
    names = (["bare"] if args.bare else []) + [b for b in args.backends.split(",") if b]
    _renice_autogroup(args.nice)
    print(
        f"realtime bench: {args.clients} clients ({args.clients // 2} pairs), "
        f"steady {args.rate:g} msg/s for {args.duration:g} s, "
        f"peak with {args.inflight} in flight per client for {args.peak_duration:g} s "
        f"(each after {args.warmup:g} s warm-up); {args.workers} load-generator processes "
        f"(python-socketio AsyncClient, WebSocket only); {os.cpu_count()} CPUs; "
        f"nice {args.nice}; load average {os.getloadavg()[0]:.1f} at the start.\n"
        f"Rate limit lifted for the bench: OPENCHAT_MESSAGES_PER_MINUTE={RATE_LIMIT_OFF}."
    )
    outcomes = []
    with ExitStack() as stack:
        tmp = args.data_dir or stack.enter_context(
            tempfile.TemporaryDirectory(prefix="openchat-bench-")
        )
        for name in names:
            if name == "postgres" and (reason := postgres_available()):
                print(f"\n[postgres] skipped: {reason}")
                continue
            outcomes.append(run_configuration(name, args, Path(tmp)))
    summarize(outcomes, args)


if __name__ == "__main__":
    main()
