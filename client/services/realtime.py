"""The Socket.IO connection: handshake with the access token, reconnect with backoff, acks.

Why the threaded ``socketio.Client`` and not ``socketio.AsyncClient``: the app's named dependency
is ``python-socketio[client]``, whose transports are ``requests`` and ``websocket-client`` — both
pure Python, so ``flet build apk`` / ``flet build ipa`` package them for Android and iOS like any
other pure wheel. ``AsyncClient`` needs ``aiohttp``, which pulls in compiled extensions
(``multidict``, ``yarl``, ``frozenlist``, ``propcache``) that must exist as cross-compiled wheels
for every phone ABI. So the socket runs on the library's own threads and this module bridges it to
asyncio: events are queued onto the event loop in arrival order, acks resolve asyncio futures,
and every emit happens on the loop thread (the library's emit is not thread-safe).

The library's own reconnection is off: this module reconnects itself so that it can fetch a new
access token when the server refuses the old one (``INVALID_TOKEN`` / ``UNAUTHORIZED``), publish
online/connecting/offline, and run the catch-up hook (``/sync``) before live events flow again.
"""

import asyncio
import contextlib
import importlib
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum
from types import ModuleType
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from client.errors import AuthError, NetworkError, OpenChatError, TransientError, error_for
from client.services.api import ApiClient
from protocol.errors import HTTP_STATUS, ErrorCode
from protocol.events import ClientEvent

if TYPE_CHECKING:
    import socketio

log = logging.getLogger(__name__)


def _socketio() -> ModuleType:
    """The ``socketio`` package, imported on first connect: its ``__init__`` also loads the
    server side (seconds of start-up), which commands that never connect should not pay."""
    return importlib.import_module("socketio")


class ConnectionState(StrEnum):
    """What the connection indicator shows."""

    ONLINE = "online"
    CONNECTING = "connecting"
    OFFLINE = "offline"


EventHandler = Callable[[str, dict[str, Any]], Awaitable[None]]
"""Receives every server event in arrival order: ``(name, payload)``."""
StateListener = Callable[[ConnectionState], None]
ConnectedHook = Callable[[], Awaitable[None]]
"""Awaited after every (re)connect, before live events are handed on (the /sync catch-up)."""
AuthLostHook = Callable[[AuthError], Awaitable[None]]

_TOKEN_REFUSALS = (ErrorCode.INVALID_TOKEN, ErrorCode.UNAUTHORIZED)


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff with full jitter in the upper half: attempt ``n`` waits a random time
    in ``[d/2, d]`` where ``d = min(cap, base * 2**n)``."""

    base: float = 0.5
    cap: float = 15.0

    def delay(self, attempt: int, rng: random.Random) -> float:
        """Seconds to wait before attempt number ``attempt`` (0-based)."""
        ceiling = min(self.cap, self.base * (2 ** min(attempt, 30)))
        return ceiling * (0.5 + rng.random() / 2)


def refusal_code(data: Any) -> str | None:
    """Extract the error code from a ``connect_error`` payload, however the server shaped it
    (``{"code"}``, ``{"message", "data": {"code"}}`` or a bare message naming the code)."""
    if isinstance(data, dict):
        for key in ("code", "data", "message", "error"):
            found = refusal_code(data.get(key))
            if found:
                return found
        return None
    if isinstance(data, list | tuple):
        for item in data:
            found = refusal_code(item)
            if found:
                return found
        return None
    if isinstance(data, str):
        for code in ErrorCode:
            if code.value in data:
                return code.value
    return None


def ack_result(ack: Any) -> Any:
    """Return an ack's result, or raise the ``client.errors`` exception its ``error`` names."""
    if isinstance(ack, dict) and isinstance(ack.get("error"), dict):
        error = ack["error"]
        code = str(error.get("code") or ErrorCode.INTERNAL)
        status = next((HTTP_STATUS[c] for c in ErrorCode if c.value == code), 400)
        retry_after = error.get("retryAfter")
        raise error_for(
            status,
            code,
            str(error.get("message") or code),
            float(retry_after) if retry_after is not None else None,
        )
    return ack


class RealtimeClient:
    """One account's socket: ``start()`` keeps it connected until ``stop()``.

    ``api`` supplies the access token and refreshes it when the server refuses it. Events reach
    ``on_event`` in arrival order, but only after ``on_connected`` (the catch-up) has returned
    for the current connection, so a live event never overtakes the events /sync still has to
    deliver. ``on_auth_lost`` is awaited when the refresh token is refused: the loop then stops.
    """

    def __init__(
        self,
        url: str,
        api: ApiClient,
        *,
        on_event: EventHandler,
        on_state: StateListener | None = None,
        on_connected: ConnectedHook | None = None,
        on_auth_lost: AuthLostHook | None = None,
        backoff: Backoff | None = None,
        rng: random.Random | None = None,
        connect_timeout: float = 10.0,
    ) -> None:
        self.url = url.rstrip("/")
        self.api = api
        self.on_event = on_event
        self.on_state = on_state
        self.on_connected = on_connected
        self.on_auth_lost = on_auth_lost
        self.backoff = backoff or Backoff()
        self._rng = rng or random.Random()
        self._connect_timeout = connect_timeout
        self._state = ConnectionState.OFFLINE
        self._sio: socketio.Client | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._events: asyncio.Queue[tuple[str, dict[str, Any]]] = asyncio.Queue()
        self._live = asyncio.Event()
        self._online = asyncio.Event()
        self._pending: set[asyncio.Future[Any]] = set()
        self._tasks: list[asyncio.Task[None]] = []
        self._stopping = False

    # --- public -------------------------------------------------------------------------------

    @property
    def state(self) -> ConnectionState:
        """The current connection state."""
        return self._state

    @property
    def connected(self) -> bool:
        """True while a socket is connected (acks can be awaited)."""
        return self._sio is not None and self._state is ConnectionState.ONLINE

    async def start(self) -> None:
        """Start connecting in the background (returns at once)."""
        if self._tasks:
            return
        self._stopping = False
        self._loop = asyncio.get_running_loop()
        self._tasks = [
            asyncio.create_task(self._run(), name="realtime-connect"),
            asyncio.create_task(self._pump(), name="realtime-events"),
        ]

    async def stop(self) -> None:
        """Disconnect and stop reconnecting."""
        self._stopping = True
        sio, self._sio = self._sio, None
        if sio is not None:
            await asyncio.to_thread(sio.disconnect)
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        self._fail_pending()
        self._set_state(ConnectionState.OFFLINE)

    async def wait_online(self, within: float) -> bool:
        """Wait up to ``within`` seconds for a connection with live events flowing."""
        try:
            await asyncio.wait_for(self._live.wait(), within)
        except TimeoutError:
            return False
        return True

    async def call(
        self,
        event: ClientEvent | str,
        payload: BaseModel | dict[str, Any],
        ack_timeout: float = 15.0,
    ) -> Any:
        """Emit ``event`` and await its ack; raise the ack's error as a ``client.errors``
        exception, or ``NetworkError`` when there is no connection or it drops first."""
        return await self.start_call(event, payload, ack_timeout)

    def start_call(
        self,
        event: ClientEvent | str,
        payload: BaseModel | dict[str, Any],
        ack_timeout: float = 15.0,
    ) -> "asyncio.Future[Any]":
        """Emit ``event`` now (calls started one after another reach the server in that order)
        and return the future of its ack, resolved as ``call`` does; raises ``NetworkError``
        at once when there is no connection."""
        sio = self._sio
        if sio is None or not self._online.is_set():
            raise NetworkError("Not connected")
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        self._pending.add(future)

        def on_ack(*args: Any) -> None:
            value = args[0] if len(args) == 1 else list(args)
            loop.call_soon_threadsafe(_settle, future, value)

        try:
            sio.emit(str(event), _wire(payload), callback=on_ack)
        except _socketio().exceptions.SocketIOError as exc:
            self._pending.discard(future)
            raise NetworkError(f"{event}: {exc}") from exc
        return asyncio.ensure_future(self._answer(event, future, ack_timeout))

    async def _answer(
        self, event: ClientEvent | str, future: "asyncio.Future[Any]", ack_timeout: float
    ) -> Any:
        try:
            ack = await asyncio.wait_for(future, ack_timeout)
        except TimeoutError as exc:
            raise NetworkError(f"{event}: no answer within {ack_timeout:g} s") from exc
        finally:
            self._pending.discard(future)
        return ack_result(ack)

    def emit(self, event: ClientEvent | str, payload: BaseModel | dict[str, Any]) -> bool:
        """Fire-and-forget emit (typing indicators); False when not connected."""
        sio = self._sio
        if sio is None or not self._online.is_set():
            return False
        try:
            sio.emit(str(event), _wire(payload))
        except _socketio().exceptions.SocketIOError:
            return False
        return True

    # --- connection loop ------------------------------------------------------------------------

    async def _run(self) -> None:
        attempt = 0
        while not self._stopping:
            self._set_state(ConnectionState.CONNECTING)
            try:
                healthy = await self._connect_once()
            except AuthError as exc:
                self._set_state(ConnectionState.OFFLINE)
                self._stopping = True
                if self.on_auth_lost is not None:
                    await self.on_auth_lost(exc)
                return
            except Exception:  # a bug in a hook must not end the reconnect loop
                log.exception("connection attempt failed unexpectedly")
                healthy = False
            attempt = 0 if healthy else attempt + 1
            self._set_state(ConnectionState.CONNECTING if healthy else ConnectionState.OFFLINE)
            await asyncio.sleep(self.backoff.delay(max(attempt - 1, 0), self._rng))

    async def _connect_once(self) -> bool:
        """Connect, catch up, and stay until the socket drops. False when the connection or
        the catch-up failed (the caller backs off longer each time); ``AuthError`` when the
        session is over."""
        try:
            token = self.api.access_token or await self.api.ensure_fresh_token(None)
        except TransientError:
            return False
        refusals: list[Any] = []
        dropped = asyncio.Event()
        sio = self._new_socket(refusals, dropped)
        try:
            await asyncio.to_thread(
                sio.connect,
                self.url,
                auth={"token": token},
                transports=["websocket"],
                wait_timeout=self._connect_timeout,
            )
        except (_socketio().exceptions.ConnectionError, OSError, ValueError):
            code = refusal_code(refusals)
            if code in _TOKEN_REFUSALS:
                try:
                    await self.api.ensure_fresh_token(token)
                except TransientError:
                    return False
            return False
        self._sio = sio
        self._online.set()
        self._set_state(ConnectionState.ONLINE)
        try:
            if self.on_connected is not None:
                await self.on_connected()
        except AuthError:
            await self._drop(sio)
            raise
        except (OpenChatError, OSError) as exc:
            log.info("catch-up after connect failed: %s", exc)
            await self._drop(sio)
            return False
        except BaseException:
            await self._drop(sio)
            raise
        self._live.set()
        try:
            await dropped.wait()
        finally:
            await self._drop(sio)
        return True

    async def _drop(self, sio: "socketio.Client") -> None:
        """Forget ``sio`` (disconnecting it when still up) and fail the acks it owed."""
        self._live.clear()
        self._online.clear()
        if self._sio is sio:
            self._sio = None
        self._fail_pending()
        if sio.connected:
            await asyncio.to_thread(sio.disconnect)

    def _new_socket(self, refusals: list[Any], dropped: asyncio.Event) -> "socketio.Client":
        loop = self._loop
        assert loop is not None
        sio = _socketio().Client(reconnection=False, handle_sigint=False, logger=False)

        def on_connect_error(*data: Any) -> None:
            refusals.extend(data)

        def on_disconnect(*_reason: Any) -> None:
            loop.call_soon_threadsafe(dropped.set)

        def on_any(event: str, *args: Any) -> None:
            payload = args[0] if args and isinstance(args[0], dict) else {}
            loop.call_soon_threadsafe(self._events.put_nowait, (event, payload))

        sio.on("connect_error", on_connect_error)
        sio.on("disconnect", on_disconnect)
        sio.on("*", on_any)
        return sio

    async def _pump(self) -> None:
        """Hand queued events on, one at a time, whenever live events may flow."""
        while True:
            await self._live.wait()
            name, payload = await self._events.get()
            await self._live.wait()
            try:
                await self.on_event(name, payload)
            except Exception:
                log.exception("handling server event %s failed", name)

    def _fail_pending(self) -> None:
        for future in self._pending:
            if not future.done():
                future.set_exception(NetworkError("Connection lost before the answer"))
        self._pending.clear()

    def _set_state(self, state: ConnectionState) -> None:
        if state is self._state:
            return
        self._state = state
        if self.on_state is not None:
            self.on_state(state)


def _settle(future: asyncio.Future[Any], value: Any) -> None:
    if not future.done():
        future.set_result(value)


def _wire(payload: BaseModel | dict[str, Any]) -> dict[str, Any]:
    """Serialise a socket payload (camelCase models dump by alias)."""
    if isinstance(payload, BaseModel):
        return payload.model_dump(mode="json", by_alias=True, exclude_none=True)
    return payload
