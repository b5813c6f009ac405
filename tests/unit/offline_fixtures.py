"""Builders of protocol records for the client-core unit tests."""

from datetime import UTC, datetime, timedelta

from client.offline.outbox_items import OutboxItem
from protocol.models import Conversation, ConversationType, Message, ReactionSummary, User
from protocol.socket import SendMessagePayload

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


class FakeServer:
    """An in-memory server behind the outbox ``Transport`` interface: dedupes sends by client
    id, numbers messages per conversation, and fails or "kills" on demand."""

    def __init__(self) -> None:
        self.sent: dict[str, Message] = {}
        self.order: list[str] = []
        self.actions: list[tuple[str, dict[str, object]]] = []
        self.failures: list[Exception | None] = []
        self.kill_at_call: int | None = None
        self.calls = 0
        self.during_call: list[object] = []

    async def perform(self, item: OutboxItem) -> list[Message]:
        """Apply one outbox item the way the real server would."""
        self.calls += 1
        for hook in self.during_call:
            hook()  # type: ignore[operator]
        if self.failures:
            failure = self.failures.pop(0)
            if failure is not None:
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
        if self.kill_at_call == self.calls:
            raise Killed
        return answer
