"""Builders of protocol records for the client-core unit tests."""

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from client.errors import NetworkError
from client.offline.outbox_items import ActionKind, OutboxItem
from client.offline.transport import Route
from protocol.models import (
    Conversation,
    ConversationType,
    ForwardOrigin,
    Message,
    ReactionSummary,
    User,
)
from protocol.socket import ForwardMessagePayload, SendMessagePayload

ME = "u-me"
BOB = "u-bob"
CAROL = "u-carol"
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def user(user_id: str) -> User:
    """A user named after its id."""
    return User(id=user_id, username=user_id.replace("-", "_"), display_name=user_id.title())


def conversation(
    conversation_id: str = "c1",
    minutes: int = 0,
    kind: ConversationType = ConversationType.DIRECT,
    unread: int = 0,
    last_seq: int = 0,
) -> Conversation:
    """A conversation updated ``minutes`` after T0."""
    return Conversation(
        id=conversation_id,
        type=kind,
        title=f"Chat {conversation_id}",
        peer=user(BOB) if kind == ConversationType.DIRECT else None,
        created_at=T0,
        updated_at=T0 + timedelta(minutes=minutes),
        unread_count=unread,
        last_seq=last_seq,
    )


def message(
    seq: int,
    conversation_id: str = "c1",
    sender: str = BOB,
    text: str | None = None,
    client_id: str | None = None,
    reactions: list[ReactionSummary] | None = None,
    edited: bool = False,
) -> Message:
    """A stored message with id ``m<conversation>-<seq>``."""
    return Message(
        id=f"m{conversation_id}-{seq}",
        conversation_id=conversation_id,
        sender_id=sender,
        seq=seq,
        text=text if text is not None else f"message number {seq}",
        client_id=client_id,
        created_at=T0 + timedelta(seconds=seq),
        edited_at=T0 + timedelta(hours=1) if edited else None,
        reactions=reactions or [],
    )


class Killed(BaseException):
    """Stands for SIGKILL: nothing after the point it is raised runs."""


class FakeClock:
    """A wall clock the tests move by hand; ``sleep`` advances it instantly."""

    def __init__(self, now: float = 1_000.0) -> None:
        self.now = now
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        """Advance the clock instead of waiting."""
        self.sleeps.append(seconds)
        self.now += seconds


class LostAck(NetworkError):
    """A failure the server raises *after* storing (the connection dropped before the ack)."""


class FakeServer:
    """An in-memory server behind the outbox ``Transport`` interface: dedupes sends by client
    id, numbers messages per conversation, and fails or "kills" on demand. ``route_as`` is how
    it carries items (``PIPELINED`` like the socket by default, ``ALONE`` like REST); pipelined
    items are handled in the order they were started, as the server does a socket's events."""

    REST_ONLY = frozenset({ActionKind.PIN, ActionKind.UNPIN, ActionKind.SETTINGS})

    def __init__(self, route_as: Route = Route.PIPELINED) -> None:
        self.route_as = route_as
        self.not_now: set[ActionKind] = set()
        """Kinds routed ``LATER`` (like delivered receipts without the socket)."""
        self.max_in_flight = 0
        self.in_flight_when_alone: list[int] = []
        """For each ``ALONE`` call, how many started items had no answer yet."""
        self._in_flight = 0
        self.sent: dict[str, Message] = {}
        self.order: list[str] = []
        self.actions: list[tuple[str, dict[str, object]]] = []
        self.failures: list[Exception | None] = []
        self.kill_at_call: int | None = None
        self.calls = 0
        self.during_call: list[object] = []

    def _copy(self, message_id: str, conversation_id: str) -> Message:
        """Store a forwarded copy, with a client id the server derives (as the server does
        for a forward that has one)."""
        seq = 1 + sum(1 for m in self.sent.values() if m.conversation_id == conversation_id)
        copy = Message(
            id=f"fwd-{len(self.sent)}",
            conversation_id=conversation_id,
            sender_id=ME,
            seq=seq,
            text=f"copy of {message_id}",
            client_id=f"fwd-server-{len(self.sent)}",
            forwarded_from=ForwardOrigin(message_id=message_id, sender_name="Bob"),
            created_at=T0 + timedelta(seconds=seq),
        )
        self.sent[copy.id] = copy
        return copy

    def route(self, item: OutboxItem) -> Route:
        """Pins and settings go alone (REST only), ``not_now`` kinds later, the rest the way
        ``route_as`` says."""
        if item.kind in self.not_now:
            return Route.LATER
        return Route.ALONE if item.kind in self.REST_ONLY else self.route_as

    def start(self, item: OutboxItem) -> "asyncio.Future[Sequence[Message]]":
        """Start handling ``item`` (tasks run in the order they are started)."""
        self._in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self._in_flight)
        task: asyncio.Future[Sequence[Message]] = asyncio.ensure_future(self.perform(item))
        task.add_done_callback(self._answered)
        return task

    def _answered(self, _task: "asyncio.Future[Sequence[Message]]") -> None:
        self._in_flight -= 1

    async def perform(self, item: OutboxItem) -> list[Message]:
        """Apply one outbox item the way the real server would."""
        self.calls += 1
        if self.route(item) is Route.ALONE:
            self.in_flight_when_alone.append(self._in_flight)
        for hook in self.during_call:
            hook()  # type: ignore[operator]
        failure = self.failures.pop(0) if self.failures else None
        if failure is not None and not isinstance(failure, LostAck):
            raise failure
        request = item.request()
        answer: list[Message] = []
        if isinstance(request, SendMessagePayload):
            stored = self.sent.get(request.client_id)
            if stored is None:
                seq = 1 + sum(
                    1 for m in self.sent.values() if m.conversation_id == request.conversation_id
                )
                stored = Message(
                    id=f"srv-{request.client_id}",
                    conversation_id=request.conversation_id,
                    sender_id=ME,
                    seq=seq,
                    text=request.text,
                    client_id=request.client_id,
                    created_at=T0 + timedelta(seconds=seq),
                )
                self.sent[request.client_id] = stored
                self.order.append(request.text)
            answer = [stored]
        else:
            self.actions.append((item.kind.value, request.model_dump(by_alias=False)))
            if isinstance(request, ForwardMessagePayload):
                answer = [
                    self._copy(message_id, target)
                    for target in request.target_conversation_ids
                    for message_id in request.message_ids
                ]
        if self.kill_at_call == self.calls:
            raise Killed
        if failure is not None:
            raise failure
        return answer
