"""Demo data for ``openchat-server --seed-demo``: four people, a direct chat and a group, with
their history written to the event log like real sends (so /sync replays it)."""

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from protocol.events import ServerEvent
from protocol.models import MessageType
from protocol.socket import ConversationEvent, MessageNewEvent
from protocol.text import find_mentions
from server.db import models
from server.db.models import new_id
from server.services.passwords import hash_password
from server.services.serializers import message_record
from server.services.unit_of_work import Database, UnitOfWork, conversation_room

DEMO_PASSWORD = "demo-pass-123"
DEMO_USERS = (
    ("alice", "Alice Martin"),
    ("bob", "Bob Okafor"),
    ("carol", "Carol Nguyen"),
    ("dave", "Dave Schmidt"),
)
_DIRECT_HISTORY = (
    ("alice", "Hi Bob! Did you get the slides for Thursday?"),
    ("bob", "Yes, thanks. I'll add the budget numbers tonight."),
    ("alice", "Great. Can you also check the timeline on slide 4?"),
    ("bob", "Sure, looks like the launch moved to May 12."),
    ("alice", "Perfect, that matches what marketing said 👍"),
)
_GROUP_HISTORY = (
    ("alice", "Welcome to the Team chat, everyone!"),
    ("bob", "Hello all 👋"),
    ("carol", "Hi! Glad to be here."),
    ("alice", "@carol could you share the design mockups when they're ready?"),
    ("carol", "Will do, probably by Friday."),
)


async def _add_history(
    uow: UnitOfWork,
    conversation: models.Conversation,
    history: tuple[tuple[str, str], ...],
    users: dict[str, models.User],
    start: datetime,
) -> None:
    """Store the messages and log each as ``message_new``, as a real send would, so /sync and
    the clients' caches see the seeded history like any other."""
    room = conversation_room(conversation.id)
    await uow.log(
        ServerEvent.CONVERSATION_UPDATED,
        ConversationEvent(conversation_id=conversation.id, title=conversation.title),
        rooms=[room],
        conversation_id=conversation.id,
    )
    for index, (username, text) in enumerate(history, start=1):
        message = models.Message(
            id=new_id(),
            conversation_id=conversation.id,
            sender_id=users[username].id,
            seq=index,
            client_id=f"seed-{conversation.id[:8]}-{index}",
            message_type=MessageType.TEXT.value,
            text=text,
            mentions=find_mentions(text),
            created_at=start + timedelta(minutes=3 * index),
        )
        uow.session.add(message)
        conversation.last_seq = index
        conversation.last_message_id = message.id
        conversation.updated_at = message.created_at
        record = message_record(message)
        await uow.log(
            ServerEvent.MESSAGE_NEW,
            MessageNewEvent.model_validate(record.model_dump()),
            rooms=[room],
            conversation_id=conversation.id,
        )


async def seed_demo(db: Database) -> bool:
    """Create the demo accounts and chats unless they exist; True when something was created."""
    async with db.read() as session:
        if await session.scalar(select(models.User.id).where(models.User.username == "alice")):
            return False
    password_hash = await hash_password(DEMO_PASSWORD)
    start = datetime.now(UTC) - timedelta(hours=2)
    async with db.write() as uow:
        users = {
            name: models.User(username=name, display_name=display, password_hash=password_hash)
            for name, display in DEMO_USERS
        }
        uow.session.add_all(users.values())
        await uow.session.flush()
        alice, bob = users["alice"], users["bob"]
        direct = models.Conversation(
            room_type="direct",
            direct_key=":".join(sorted((alice.id, bob.id))),
            created_by=alice.id,
            created_at=start,
        )
        team = models.Conversation(
            room_type="private_group", title="Team", created_by=alice.id, created_at=start
        )
        uow.session.add_all([direct, team])
        await uow.session.flush()
        rows: list[models.ConversationMember] = []
        for user in (alice, bob):
            rows.append(
                models.ConversationMember(
                    conversation_id=direct.id, user_id=user.id, joined_at=start
                )
            )
        for name, role in (("alice", "owner"), ("bob", "admin"), ("carol", "member")):
            rows.append(
                models.ConversationMember(
                    conversation_id=team.id, user_id=users[name].id, role=role, joined_at=start
                )
            )
        uow.session.add_all(rows)
        await _add_history(uow, direct, _DIRECT_HISTORY, users, start)
        await _add_history(uow, team, _GROUP_HISTORY, users, start + timedelta(minutes=30))
    return True
