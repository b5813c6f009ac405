"""The client engine: wires one signed-in account's services to the offline core and the store.

    RealtimeClient --events--> Synchronizer --changes--> Store <-- views
         |  on every (re)connect: Synchronizer.on_connected (pull /sync until caught up,
         |  then let the OutboxWorker drain)
    OutboxWorker --items--> ServerTransport --(socket ack | REST)--> server

While the socket is not live (a proxy that blocks WebSockets, a socket still connecting), the
engine does not wait for it: every ``rest_after`` seconds it catches up over HTTP and lets the
outbox drain over REST (the transport routes items there while the socket is down), until the
socket's own catch-up takes over.

A new cache first loads a snapshot (``Synchronizer.full_resync``). Live events only flow after
the catch-up of their connection (``RealtimeClient`` holds them), so
the event log is applied in order; a live event that arrives after a newer one (two server writers
emitting out of order) makes the engine replay the log from it instead of dropping it. Losing the
session (refresh token refused) stops the socket and pauses the outbox with everything kept;
``resume`` after the user signs in again.
"""

import asyncio
import collections
import contextlib
import logging
from collections.abc import Callable

from client.actions import Actions
from client.errors import AuthError, OpenChatError
from client.offline.cache import Cache
from client.offline.outbox import Outbox
from client.offline.outbox_worker import OutboxWorker, RetryPolicy
from client.offline.sync import Synchronizer
from client.services.realtime import Backoff, ConnectionState, RealtimeClient
from client.services.session import Account, Session
from client.services.transport import ServerTransport
from client.store import Store
from protocol.events import ClientEvent
from protocol.socket import TypingPayload

log = logging.getLogger(__name__)

REST_FALLBACK_AFTER = 5.0
"""Seconds without a live socket after which sync and the outbox go over REST."""
LIVE_IDS_KEPT = 4096
"""How many recent live event ids are remembered to tell a late event from a duplicate."""
SNAPSHOT_LOADED = "engine.snapshot_loaded"
"""Cache meta key: set once a new profile has loaded its first snapshot (conversations, the
members of groups and recent messages). A new device starts from that snapshot and the log's
head, not by replaying the whole event log, which may be pruned (410) or, for data made without
events, incomplete."""


class Engine:
    """Cache, outbox, sync, store, actions, socket and outbox worker of the session's active
    account. Constructing it touches no network: ``actions`` work offline at once; ``start``
    connects.

    ``defer`` batches store refreshes (see ``Store``); ``backoff`` and ``retry`` tune the
    reconnect and outbox retry delays (tests shorten them); ``rest_after`` is how long the
    socket may be down before sync and the outbox go over REST.
    """

    def __init__(
        self,
        session: Session,
        *,
        defer: Callable[[Callable[[], None]], object] | None = None,
        backoff: Backoff | None = None,
        retry: RetryPolicy | None = None,
        rest_after: float = REST_FALLBACK_AFTER,
    ) -> None:
        account = session.active
        if account is None or not account.signed_in:
            raise AuthError("Sign in first")
        self.session = session
        self.account: Account = account
        self.cache = Cache.open(session.data_dir(account), account.user_id)
        self.outbox = Outbox(self.cache)
        self.store = Store(self.cache, self.outbox, defer=defer)
        self.realtime = RealtimeClient(
            session.server_url,
            session.api,
            on_event=self._on_event,
            on_state=self._on_state,
            on_connected=self._on_connected,
            on_auth_lost=self._on_auth_lost,
            backoff=backoff,
        )
        self.transport = ServerTransport(session.api, self.realtime)
        self.worker = OutboxWorker(
            self.outbox, self.transport, policy=retry, on_auth_lost=self._worker_auth_lost
        )
        self.sync = Synchronizer(
            self.cache, self.outbox, self.transport, self.store, set_draining=self.worker.set_online
        )
        self.actions = Actions(self.cache, self.outbox, self.store, send_typing=self._send_typing)
        self.signed_out = asyncio.Event()
        """Set when the server refused the refresh token: show the login screen."""
        self.caught_up = asyncio.Event()
        """Set after each completed catch-up, cleared when the connection drops."""
        self.rest_after = rest_after
        self._socket_state = ConnectionState.OFFLINE
        self._worker_task: asyncio.Task[None] | None = None
        self._rest_task: asyncio.Task[None] | None = None
        self._live_floor = 0
        """Events at or below it were applied by a catch-up; a live copy is a duplicate."""
        self._seen_live: collections.deque[int] = collections.deque(maxlen=LIVE_IDS_KEPT)
        self._stopping_socket: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Connect (in the background) and run the outbox worker."""
        self.signed_out.clear()
        if self._worker_task is None:
            self._worker_task = asyncio.create_task(self.worker.run(), name="outbox-worker")
        if self._rest_task is None:
            self._rest_task = asyncio.create_task(self._rest_fallback(), name="rest-fallback")
        await self.realtime.start()

    async def stop(self) -> None:
        """Disconnect, stop the worker and close the cache (queued items stay queued)."""
        if self._stopping_socket is not None:
            await self._stopping_socket
            self._stopping_socket = None
        await self.realtime.stop()
        for task in (self._rest_task, self._worker_task):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self._rest_task = self._worker_task = None
        self.cache.close()

    async def resume(self) -> None:
        """After the user signed in again as the same account: reconnect and drain."""
        account = self.session.active
        if account is None or account.user_id != self.account.user_id or not account.signed_in:
            raise AuthError("Sign in as the same account to resume")
        self.account = account
        if self._stopping_socket is not None:
            await self._stopping_socket
            self._stopping_socket = None
        await self.realtime.stop()
        self.worker.resume()
        await self.start()

    async def wait_drained(self, within: float) -> bool:
        """Wait up to ``within`` seconds until the outbox has nothing pending; True if so."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        drained = asyncio.Event()

        def check() -> None:
            if self.outbox.counts().pending == 0:
                drained.set()

        unsubscribe = self.outbox.subscribe(check)
        try:
            check()
            while not drained.is_set():
                remaining = deadline - loop.time()
                if remaining <= 0 or self.signed_out.is_set():
                    return False
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(drained.wait(), min(remaining, 0.5))
                check()
            return True
        finally:
            unsubscribe()

    # --- hooks ----------------------------------------------------------------------------------

    def _send_typing(self, event: ClientEvent, conversation_id: str) -> None:
        self.realtime.emit(event, TypingPayload(conversation_id=conversation_id))

    async def _on_connected(self) -> None:
        await self._load_snapshot_once()
        await self.sync.on_connected()
        self._live_floor = self.cache.last_event_id
        self.caught_up.set()

    async def _load_snapshot_once(self) -> None:
        if self.cache.get_meta(SNAPSHOT_LOADED) is None:
            await self.sync.full_resync()
            self.cache.set_meta(SNAPSHOT_LOADED, "1")

    async def _rest_fallback(self) -> None:
        """While the socket is not live: every ``rest_after`` seconds catch up over HTTP and
        let the outbox drain (over REST, as long as the socket stays down)."""
        while True:
            await asyncio.sleep(self.rest_after)
            if self.caught_up.is_set() or self.worker.paused or self.signed_out.is_set():
                continue
            try:
                await self._load_snapshot_once()
                await self.sync.catch_up()
            except AuthError as error:
                await self.end_session(error)
                continue
            except (OpenChatError, OSError) as error:
                log.info("catch-up over REST failed: %s", error)
                continue
            if not self.worker.online:
                log.info("socket not live: the outbox drains over REST")
                self.worker.set_online(True)

    async def _on_event(self, name: str, payload: dict[str, object]) -> None:
        event_id = payload.get("eventId")
        if isinstance(event_id, int):
            if self._is_late(event_id):
                await self._replay_from(event_id)
                return
            self._seen_live.append(event_id)
        await self.sync.handle_event(name, payload)

    def _is_late(self, event_id: int) -> bool:
        """True for a live event older than one already applied that was neither applied live
        nor by the last catch-up: another server writer emitted it after a newer event."""
        return (
            self._live_floor < event_id <= self.cache.last_event_id
            and event_id not in self._seen_live
        )

    async def _replay_from(self, event_id: int) -> None:
        """Apply the log again from ``event_id`` in order (every event applies idempotently, so
        the replay only adds what the late event carried)."""
        log.info("live event %s arrived late: replaying the log from it", event_id)
        self.cache.set_last_event_id(event_id - 1)
        await self.sync.catch_up()
        self._live_floor = self.cache.last_event_id

    def _on_state(self, state: ConnectionState) -> None:
        was_online, self._socket_state = self._socket_state, state
        if was_online is ConnectionState.ONLINE and state is not ConnectionState.ONLINE:
            self.caught_up.clear()
            self.sync.on_disconnected()
        self.store.set_connection(state.value)

    async def end_session(self, error: AuthError) -> None:
        """A request outside the engine (a background fetch) found the session over: stop as
        when the socket or the outbox finds it, and show the sign-in form (``signed_out``)."""
        await self._on_auth_lost(error)
        self._worker_auth_lost(error)

    async def _on_auth_lost(self, error: AuthError) -> None:
        log.info("session ended: %s", error.code)
        self.worker.paused = True
        self.signed_out.set()

    def _worker_auth_lost(self, error: AuthError) -> None:
        log.info("outbox paused, session ended: %s", error.code)
        self.signed_out.set()
        self._stopping_socket = asyncio.get_running_loop().create_task(self.realtime.stop())
