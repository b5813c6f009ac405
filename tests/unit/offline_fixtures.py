"""Builders of protocol records for the client-core unit tests."""

from datetime import UTC, datetime, timedelta

from protocol.models import Conversation, ConversationType, Message, ReactionSummary, User

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
