"""Fill a real client cache with conversations for view tests and the UI benchmark."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

from client.offline.cache import Cache
from protocol.models import (
    Conversation,
    ConversationSettings,
    ConversationType,
    ForwardOrigin,
    Member,
    MemberRole,
    Message,
    ReactionSummary,
    User,
)

ME = User(id="u-alice", username="alice", display_name="Alice Archer")
BOB = User(id="u-bob", username="bob", display_name="Bob Baker")
CAROL = User(id="u-carol", username="carol", display_name="Carol Chen")
DAVE = User(id="u-dave", username="dave", display_name="Dave Diaz")
BIG_CHAT = "c-bob"
GROUP_CHAT = "c-group"
CAROL_CHAT = "c-carol"


def _conversation(
    cid: str,
    kind: ConversationType,
    members: list[User],
    now: datetime,
    title: str | None = None,
    settings: ConversationSettings | None = None,
) -> Conversation:
    peer = next((u for u in members if u.id != ME.id), None) if kind == "direct" else None
    return Conversation(
        id=cid,
        type=kind,
        title=title,
        peer=peer,
        created_at=now - timedelta(days=30),
        updated_at=now,
        member_count=len(members),
        my_role=MemberRole.OWNER if kind != "direct" else MemberRole.MEMBER,
        settings=settings or ConversationSettings(),
    )


def _message(cid: str, seq: int, sender: User, text: str, at: datetime, **extra: object) -> Message:
    return Message.model_validate(
        {
            "id": f"{cid}-m{seq}",
            "conversation_id": cid,
            "sender_id": sender.id,
            "seq": seq,
            "text": text,
            "created_at": at,
            **extra,
        }
    )


def seed_cache(data_dir: Path, big_chat_messages: int = 60) -> Cache:
    """A cache for Alice: a long chat with Bob, a group with reactions, replies, a forward, a
    mention, an edit and a deletion, and a pinned, muted chat with Carol holding unread
    messages."""
    cache = Cache.open(data_dir, ME.id)
    now = datetime.now(UTC)
    members = [ME, BOB, CAROL, DAVE]
    with cache.transaction():
        cache.upsert_users(members)
        cache.upsert_conversation(_conversation(BIG_CHAT, ConversationType.DIRECT, [ME, BOB], now))
        cache.upsert_conversation(
            _conversation(
                GROUP_CHAT, ConversationType.PRIVATE_GROUP, members, now, title="Weekend trip"
            )
        )
        cache.upsert_conversation(
            _conversation(
                CAROL_CHAT,
                ConversationType.DIRECT,
                [ME, CAROL],
                now,
                settings=ConversationSettings(
                    is_pinned=True,
                    pin_rank=1,
                    is_muted=True,
                    muted_until=now + timedelta(hours=3),
                ),
            )
        )
        for cid, people in (
            (BIG_CHAT, [ME, BOB]),
            (GROUP_CHAT, members),
            (CAROL_CHAT, [ME, CAROL]),
        ):
            cache.replace_members(
                cid,
                [
                    Member(user=u, role=MemberRole.MEMBER, joined_at=now - timedelta(days=30))
                    for u in people
                ],
            )
        start = now - timedelta(minutes=big_chat_messages + 10)
        for seq in range(1, big_chat_messages + 1):
            sender = ME if seq % 3 == 0 else BOB
            text = f"Message number {seq}" + (" with a longer line of text" * (seq % 4))
            cache.store_message(
                _message(BIG_CHAT, seq, sender, text, start + timedelta(minutes=seq))
            )
        group: list[tuple[User, str, dict[str, object]]] = [
            (BOB, "Who is coming on Saturday?", {}),
            (CAROL, "Me! @alice are you in?", {"mentions": [ME.id]}),
            (
                ME,
                "Yes, count me in 🎉",
                {
                    "reply_to_id": f"{GROUP_CHAT}-m1",
                    "reactions": [
                        ReactionSummary(emoji="👍", count=2, user_ids=[BOB.id, CAROL.id]),
                        ReactionSummary(emoji="❤️", count=1, user_ids=[ME.id]),
                        ReactionSummary(emoji="😂", count=1, user_ids=[DAVE.id]),
                        ReactionSummary(emoji="🎉", count=1, user_ids=[CAROL.id]),
                        ReactionSummary(emoji="🔥", count=2, user_ids=[BOB.id, DAVE.id]),
                    ],
                },
            ),
            (
                DAVE,
                "Train times are on the website",
                {"forwarded_from": ForwardOrigin(sender_name="Rail Info")},
            ),
            (BOB, "Typo fixed", {"edited_at": now - timedelta(minutes=3)}),
            (CAROL, "", {"deleted_at": now - timedelta(minutes=2)}),
        ]
        for seq, (sender, text, extra) in enumerate(group, start=1):
            cache.store_message(
                _message(GROUP_CHAT, seq, sender, text, now - timedelta(minutes=10 - seq), **extra)
            )
        for seq, text in enumerate(["Are you free tomorrow?", "Call me when you can"], start=1):
            cache.store_message(
                _message(CAROL_CHAT, seq, CAROL, text, now - timedelta(minutes=5 - seq))
            )
    return cache
