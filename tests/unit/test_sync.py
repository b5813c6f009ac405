"""Sync: idempotent, ordered application of server events; catch-up; 410 full resync."""

import random
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from client.errors import NetworkError, SyncExpiredError
from client.offline.cache import Cache
from client.offline.outbox import Outbox
from client.offline.outbox_items import ActionKind
from client.offline.outbox_worker import OutboxWorker
from client.offline.records import MessageStatus
from client.offline.sync import Changes, Synchronizer
from protocol.enums import MemberRole
from protocol.events import ServerEvent
from protocol.models import (
    Conversation,
    ConversationType,
    Member,
    Message,
    SyncEvent,
    SyncPage,
)
from protocol.socket import MessageNewEvent, PresenceEvent, TypingEvent
from tests.unit.offline_fixtures import (
    BOB,
    CAROL,
    ME,
    T0,
    FakeClock,
    FakeServer,
    conversation,
    message,
    user,
)


def new_event(m: Message, event_id: int) -> dict[str, Any]:
    """The camelCase ``message_new`` payload of ``m``."""
    return MessageNewEvent.model_validate({**m.model_dump(), "event_id": event_id}).model_dump(
        mode="json"
    )


def logged(event_id: int, **fields: Any) -> dict[str, Any]:
    """A camelCase payload with an eventId."""
    return {"eventId": event_id, **fields}


def group(conversation_id: str, member_count: int) -> Conversation:
    """A private group with ``member_count`` members."""
    return conversation(conversation_id, kind=ConversationType.PRIVATE_GROUP).model_copy(
        update={"member_count": member_count}
    )


def member(user_id: str, role: MemberRole = MemberRole.MEMBER, **fields: Any) -> Member:
    """A membership of ``user_id`` since T0."""
    return Member(user=user(user_id), role=role, joined_at=T0, **fields)


class FakeFetcher:
    """Serves /sync pages from a list of events, or 410 when told to."""

    def __init__(self) -> None:
        self.events: list[SyncEvent] = []
        self.expired = False
        self.head = 0
        self.snapshot: list[Conversation] = []
        self.recent: dict[str, list[Message]] = {}
        self.groups: dict[str, list[Member]] = {}
        """The members of each group it serves (a conversation not listed is direct)."""
        self.member_calls: list[str] = []
        self.calls: list[int] = []
        self.before_page: list[Any] = []

    def add(self, name: str, data: dict[str, Any]) -> None:
        event_id = len(self.events) + 1
        data = {**data, "eventId": event_id}
        self.events.append(SyncEvent(id=event_id, type=name, data=data))

    async def sync_page(self, since: int, limit: int) -> SyncPage:
        for hook in self.before_page:
            hook()
        self.calls.append(since)
        if self.expired:
            self.expired = False
            raise SyncExpiredError("too old", "SYNC_EXPIRED")
        rest = [e for e in self.events if e.id > since]
        page = rest[:limit]
        return SyncPage(
            events=page, next=page[-1].id if page else since, has_more=len(rest) > limit
        )

    async def sync_head(self) -> int:
        return self.head

    async def conversations(self) -> Sequence[Conversation]:
        return self.snapshot

    async def conversation(self, conversation_id: str) -> Conversation:
        if conversation_id in self.groups:
            return group(conversation_id, len(self.groups[conversation_id]))
        return conversation(conversation_id)

    async def members(self, conversation_id: str) -> Sequence[Member]:
        self.member_calls.append(conversation_id)
        return self.groups[conversation_id]

    async def recent_messages(self, conversation_id: str, limit: int) -> Sequence[Message]:
        return self.recent.get(conversation_id, [])[-limit:]


class Recorder:
    """A ``SyncListener`` that remembers what it heard."""

    def __init__(self) -> None:
        self.typing: list[TypingEvent] = []
        self.presence: list[PresenceEvent] = []
        self.changes: list[Changes] = []

    def on_typing(self, event: TypingEvent) -> None:
        self.typing.append(event)

    def on_presence(self, event: PresenceEvent) -> None:
        self.presence.append(event)

    def on_changed(self, changes: Changes) -> None:
        self.changes.append(changes)


class Rig:
    def __init__(self, path: Path) -> None:
        self.cache = Cache.open(path, ME)
        self.cache.upsert_conversation(conversation("c1"))
        self.outbox = Outbox(self.cache)
        self.fetcher = FakeFetcher()
        self.listener = Recorder()
        self.clock = FakeClock()
        self.worker = OutboxWorker(
            self.outbox,
            FakeServer(),
            clock=self.clock,
            sleep=self.clock.sleep,
            rng=random.Random(1),
        )
        self.sync = Synchronizer(
            self.cache,
            self.outbox,
            self.fetcher,
            self.listener,
            set_draining=self.worker.set_online,
            page_size=3,
        )

    def receipts(self) -> list[tuple[str | None, str]]:
        return [
            (i.conversation_id, i.payload["message_id"])
            for i in self.outbox.items()
            if i.kind == ActionKind.MARK_DELIVERED
        ]


@pytest.fixture
def rig(tmp_path: Path) -> Rig:
    return Rig(tmp_path)


async def test_live_events_apply_once_and_in_order(rig: Rig) -> None:
    await rig.sync.handle_event(ServerEvent.MESSAGE_NEW, new_event(message(1), 10))
    await rig.sync.handle_event(ServerEvent.MESSAGE_NEW, new_event(message(1, text="dup"), 10))
    await rig.sync.handle_event(ServerEvent.MESSAGE_NEW, new_event(message(2), 9))
    assert [m.text for m in rig.cache.messages_before("c1")] == ["message number 1"]
    assert rig.cache.last_event_id == 10
    assert rig.listener.changes[-1] == Changes(frozenset({"c1"}), senders=frozenset({("c1", BOB)}))


async def test_echo_of_own_pending_message_replaces_it(rig: Rig) -> None:
    pending = rig.cache.add_pending_message("c1", "hi", "cid-1", T0)
    echo = message(7, sender=ME, text="hi", client_id="cid-1")
    await rig.sync.handle_event(ServerEvent.MESSAGE_NEW, new_event(echo, 1))
    page = rig.cache.messages_before("c1")
    assert len(page) == 1 and page[0].local_id == pending.local_id
    assert page[0].status == MessageStatus.SENT and page[0].seq == 7
    assert rig.receipts() == []


async def test_edits_deletes_reactions_pins_settings(rig: Rig) -> None:
    await rig.sync.handle_event(ServerEvent.MESSAGE_NEW, new_event(message(1, text="old"), 1))
    edited = message(1, text="new", edited=True)
    await rig.sync.handle_event(ServerEvent.MESSAGE_EDITED, new_event(edited, 2))
    assert [e.text for e in rig.cache.edits("mc1-1")] == ["old"]
    reaction = {"emoji": "🔥", "count": 1, "userIds": [ME], "reactedByMe": False}
    await rig.sync.handle_event(
        ServerEvent.REACTION_ADDED,
        logged(
            3, messageId="mc1-1", conversationId="c1", emoji="🔥", userId=ME, reactions=[reaction]
        ),
    )
    got = rig.cache.message_by_id("mc1-1")
    assert got is not None and got.text == "new" and got.reactions[0].reacted_by_me
    await rig.sync.handle_event(
        ServerEvent.MESSAGE_PINNED,
        logged(4, conversationId="c1", messageId="mc1-1", pinnedBy=BOB, pinnedMessageIds=["mc1-1"]),
    )
    assert rig.cache.pinned_ids("c1") == ["mc1-1"]
    await rig.sync.handle_event(
        ServerEvent.SETTINGS_UPDATED,
        logged(
            5,
            conversationId="c1",
            isPinned=True,
            pinRank=0,
            isArchived=False,
            isMuted=True,
            notificationsOn=True,
        ),
    )
    settings = rig.cache.settings("c1")
    assert settings is not None and settings.is_pinned and settings.is_muted
    await rig.sync.handle_event(
        ServerEvent.MESSAGE_DELETED,
        logged(6, messageId="mc1-1", conversationId="c1", deletedAt=T0.isoformat(), deletedBy=BOB),
    )
    got = rig.cache.message_by_id("mc1-1")
    assert got is not None and got.deleted and got.text is None
    assert rig.cache.search("new") == []
    assert rig.cache.last_event_id == 6


async def test_receipts_from_others_and_from_my_other_device(rig: Rig) -> None:
    rig.cache.store_message(message(1, sender=ME))
    rig.cache.store_message(message(2))
    assert rig.cache.conversation("c1").unread_count == 1  # type: ignore[union-attr]
    at = T0.isoformat()
    await rig.sync.handle_event(
        ServerEvent.MESSAGE_READ,
        logged(1, conversationId="c1", userId=BOB, messageId="mc1-1", seq=1, at=at),
    )
    assert rig.cache.message_by_id("mc1-1").status == MessageStatus.READ  # type: ignore[union-attr]
    await rig.sync.handle_event(
        ServerEvent.MESSAGE_READ,
        logged(2, conversationId="c1", userId=ME, messageId="mc1-2", seq=2, at=at),
    )
    assert rig.cache.conversation("c1").unread_count == 0  # type: ignore[union-attr]


async def test_one_delivered_receipt_per_conversation_for_the_highest(rig: Rig) -> None:
    rig.cache.upsert_conversation(conversation("c2"))
    for seq in (1, 2, 3):
        rig.fetcher.add(ServerEvent.MESSAGE_NEW, new_event(message(seq), 0))
    rig.fetcher.add(ServerEvent.MESSAGE_NEW, new_event(message(1, conversation_id="c2"), 0))
    rig.fetcher.add(ServerEvent.MESSAGE_NEW, new_event(message(4, sender=ME), 0))
    report = await rig.sync.catch_up()
    assert report.pages == 2 and report.applied == 5
    assert sorted(rig.receipts()) == [("c1", "mc1-3"), ("c2", "mc2-1")]


async def test_catch_up_pulls_every_page_then_the_outbox_drains(rig: Rig) -> None:
    for seq in range(1, 9):
        rig.fetcher.add(ServerEvent.MESSAGE_NEW, new_event(message(seq), 0))
    online_during_fetch: list[bool] = []
    rig.fetcher.before_page.append(lambda: online_during_fetch.append(rig.worker.online))
    report = await rig.sync.on_connected()
    assert report.pages == 3 and rig.fetcher.calls == [0, 3, 6]
    assert online_during_fetch == [False, False, False]
    assert rig.worker.online
    assert [m.seq for m in rig.cache.messages_before("c1")] == list(range(1, 9))
    assert rig.cache.last_event_id == 8
    await rig.sync.handle_event(ServerEvent.MESSAGE_NEW, new_event(message(5), 5))
    assert len(rig.cache.messages_before("c1")) == 8
    rig.sync.on_disconnected()
    assert not rig.worker.online


async def test_live_events_then_sync_overlap_applies_once(rig: Rig) -> None:
    for seq in (1, 2):
        rig.fetcher.add(ServerEvent.MESSAGE_NEW, new_event(message(seq), 0))
    await rig.sync.handle_event(ServerEvent.MESSAGE_NEW, rig.fetcher.events[0].data)
    report = await rig.sync.catch_up()
    assert report.applied == 1
    assert [m.seq for m in rig.cache.messages_before("c1")] == [1, 2]


async def test_expired_cursor_does_a_full_resync(rig: Rig) -> None:
    rig.cache.store_message(message(1, text="stale"))
    rig.cache.add_pending_message("c1", "unsent", "cid-5", T0 + timedelta(days=1))
    rig.cache.set_last_event_id(3)
    rig.fetcher.expired = True
    rig.fetcher.head = 500
    rig.fetcher.snapshot = [conversation("c1", unread=1, last_seq=2), conversation("c9")]
    # the messages are read after the conversation list: one more arrived in between
    rig.fetcher.recent = {"c1": [message(2, text="fresh"), message(3, text="newer")]}
    report = await rig.sync.catch_up()
    assert report.resynced
    assert rig.fetcher.calls == [3, 500]
    assert [m.text for m in rig.cache.messages_before("c1")] == ["fresh", "newer", "unsent"]
    assert {r.id for r in rig.cache.chat_list()} == {"c1", "c9"}
    assert rig.cache.conversation("c1").unread_count == 2  # type: ignore[union-attr]
    assert rig.listener.changes[0].reset


async def test_unknown_conversation_is_fetched(rig: Rig) -> None:
    await rig.sync.handle_event(
        ServerEvent.MESSAGE_NEW, new_event(message(1, conversation_id="new"), 1)
    )
    assert rig.cache.has_conversation("new")
    assert [m.seq for m in rig.cache.messages_before("new")] == [1]


async def test_messages_of_an_unknown_conversation_appear_with_its_row(rig: Rig) -> None:
    seen_while_fetching: list[int] = []
    fetch = rig.fetcher.conversation

    async def watching_fetch(conversation_id: str) -> Conversation:
        seen_while_fetching.append(len(rig.cache.messages_before(conversation_id)))
        return await fetch(conversation_id)

    rig.fetcher.conversation = watching_fetch  # type: ignore[method-assign]
    rig.fetcher.add(ServerEvent.MESSAGE_NEW, new_event(message(1, conversation_id="new"), 1))
    await rig.sync.handle_event(
        ServerEvent.MESSAGE_NEW, new_event(message(1, conversation_id="live"), 2)
    )
    rig.cache.set_last_event_id(0)
    await rig.sync.catch_up()
    assert seen_while_fetching == [0, 0]
    assert rig.cache.has_conversation("new") and rig.cache.has_conversation("live")
    assert {"new", "live"} <= set().union(*(c.conversation_ids for c in rig.listener.changes))


async def test_unreachable_conversation_does_not_hold_back_its_events(rig: Rig) -> None:
    async def offline(conversation_id: str) -> Conversation:
        raise NetworkError("down")

    rig.fetcher.conversation = offline  # type: ignore[method-assign]
    await rig.sync.handle_event(
        ServerEvent.MESSAGE_NEW, new_event(message(1, conversation_id="new"), 1)
    )
    assert rig.cache.last_event_id == 1
    assert [m.seq for m in rig.cache.messages_before("new")] == [1]
    assert not rig.cache.has_conversation("new")

    rig.fetcher.conversation = FakeFetcher().conversation  # type: ignore[method-assign]
    await rig.sync.handle_event(
        ServerEvent.MESSAGE_NEW, new_event(message(2, conversation_id="new"), 2)
    )
    assert rig.cache.has_conversation("new")


async def test_leaving_a_conversation_forgets_it(rig: Rig) -> None:
    rig.cache.store_message(message(1))
    await rig.sync.handle_event(ServerEvent.MEMBER_LEFT, logged(1, conversationId="c1", userId=ME))
    assert not rig.cache.has_conversation("c1")
    assert rig.cache.messages_before("c1") == []


async def test_group_lock_and_member_updates_reach_the_cache(rig: Rig) -> None:
    rig.cache.upsert_conversation(group("g1", 2))
    rig.cache.replace_members("g1", [member(ME), member(BOB, MemberRole.ADMIN)])
    until = T0 + timedelta(hours=1)
    await rig.sync.handle_event(
        ServerEvent.CONVERSATION_UPDATED, logged(1, conversationId="g1", locked=True)
    )
    await rig.sync.handle_event(
        ServerEvent.MEMBER_UPDATED,
        logged(2, conversationId="g1", userId=ME, role="admin", mutedUntil=until.isoformat()),
    )
    await rig.sync.handle_event(
        ServerEvent.MEMBER_UPDATED, logged(3, conversationId="g1", userId=BOB, role="member")
    )
    row = rig.cache.conversation("g1")
    assert row is not None and row.locked and row.my_role == "admin"
    assert {m.user_id: m.muted_until for m in rig.cache.members("g1")} == {ME: until, BOB: None}
    await rig.sync.handle_event(
        ServerEvent.MEMBER_UPDATED, logged(4, conversationId="g1", userId=ME, role="admin")
    )
    assert [m.muted_until for m in rig.cache.members("g1") if m.user_id == ME] == [None]
    assert rig.cache.conversation("g1").member_count == 2  # type: ignore[union-attr]


async def test_ephemeral_events_only_reach_the_listener(rig: Rig) -> None:
    await rig.sync.handle_event(
        ServerEvent.TYPING_INDICATOR,
        {"conversationId": "c1", "userId": BOB, "displayName": "Bob", "isTyping": True},
    )
    await rig.sync.handle_event(ServerEvent.PRESENCE_UPDATE, {"userId": BOB, "status": "online"})
    assert rig.listener.typing[0].user_id == BOB
    assert rig.listener.presence[0].status == "online"
    assert rig.cache.last_event_id == 0


async def test_malformed_event_is_skipped_but_not_blocking(rig: Rig) -> None:
    await rig.sync.handle_event(ServerEvent.MESSAGE_DELETED, logged(1, messageId="x"))
    await rig.sync.handle_event(ServerEvent.MESSAGE_NEW, new_event(message(1), 2))
    assert rig.cache.last_event_id == 2
    assert len(rig.cache.messages_before("c1")) == 1


async def test_member_count_follows_joins_and_leaves_even_when_replayed(rig: Rig) -> None:
    rig.cache.upsert_conversation(group("g1", 2))
    rig.cache.replace_members("g1", [member(ME, MemberRole.OWNER), member(BOB)])
    rig.fetcher.add(ServerEvent.MEMBER_JOINED, {"conversationId": "g1", "userId": CAROL})
    rig.fetcher.add(ServerEvent.MEMBER_LEFT, {"conversationId": "g1", "userId": BOB})
    rig.fetcher.add(ServerEvent.MEMBER_JOINED, {"conversationId": "g1", "userId": BOB})
    rig.fetcher.add(ServerEvent.MEMBER_LEFT, {"conversationId": "g1", "userId": CAROL})
    await rig.sync.catch_up()
    assert rig.cache.conversation("g1").member_count == 2  # type: ignore[union-attr]
    assert {m.user_id for m in rig.cache.members("g1")} == {ME, BOB}
    assert any("g1" in c.conversation_ids for c in rig.listener.changes)

    rig.cache.set_last_event_id(1)  # the engine replays the log from a late event
    await rig.sync.catch_up()
    await rig.sync.handle_event(ServerEvent.MEMBER_LEFT, rig.fetcher.events[1].data)
    assert rig.cache.conversation("g1").member_count == 2  # type: ignore[union-attr]

    await rig.sync.handle_event(
        ServerEvent.MEMBER_LEFT, logged(9, conversationId="g1", userId=BOB, reason="banned")
    )
    assert rig.cache.conversation("g1").member_count == 1  # type: ignore[union-attr]


async def test_a_role_change_is_no_join_even_when_replayed(rig: Rig) -> None:
    """A member's new role (``conversation_updated`` or ``member_updated`` with a user and a
    role) changes the role, and the user's own ``my_role``, never the member count; replayed
    after the member left, or arriving for a member the cache does not hold, it adds no one."""
    rig.cache.upsert_conversation(group("g1", 3))
    rig.cache.replace_members("g1", [member(ME), member(BOB, MemberRole.OWNER), member(CAROL)])
    updated = ServerEvent.CONVERSATION_UPDATED
    rig.fetcher.add(updated, {"conversationId": "g1", "userId": ME, "role": "admin"})
    rig.fetcher.add(updated, {"conversationId": "g1", "userId": CAROL, "role": "admin"})
    rig.fetcher.add(
        ServerEvent.MEMBER_UPDATED, {"conversationId": "g1", "userId": CAROL, "role": "member"}
    )
    rig.fetcher.add(ServerEvent.MEMBER_LEFT, {"conversationId": "g1", "userId": CAROL})

    def group_state() -> tuple[int, str | None, dict[str, str]]:
        row = rig.cache.conversation("g1")
        assert row is not None
        return row.member_count, row.my_role, {m.user_id: m.role for m in rig.cache.members("g1")}

    expected = (2, "admin", {ME: "admin", BOB: "owner"})
    await rig.sync.catch_up()
    assert group_state() == expected
    for replay_from in (3, 2, 1):  # the engine replays the log from a late event
        rig.cache.set_last_event_id(replay_from - 1)
        await rig.sync.catch_up()
        assert group_state() == expected

    await rig.sync.handle_event(updated, logged(9, conversationId="g1", userId=CAROL, role="admin"))
    await rig.sync.handle_event(updated, logged(9, conversationId="g1", userId=CAROL, role="admin"))
    assert group_state() == expected


async def test_full_resync_reloads_the_members_of_groups(rig: Rig) -> None:
    rig.cache.upsert_conversation(group("g1", 3))
    rig.cache.replace_members("g1", [member(ME), member(BOB), member(CAROL)])
    until = T0 + timedelta(days=1)
    rig.fetcher.expired = True
    rig.fetcher.head = 40
    rig.fetcher.snapshot = [conversation("c1"), group("g1", 2)]
    rig.fetcher.groups = {"g1": [member(ME, muted_until=until), member(BOB, MemberRole.OWNER)]}
    await rig.sync.catch_up()
    assert rig.fetcher.member_calls == ["g1"]
    assert {m.user_id: (m.role, m.muted_until) for m in rig.cache.members("g1")} == {
        ME: ("member", until),
        BOB: ("owner", None),
    }
    assert rig.cache.conversation("g1").member_count == 2  # type: ignore[union-attr]
    assert rig.cache.members("c1") == []


async def test_a_group_first_named_by_an_event_comes_with_its_members(rig: Rig) -> None:
    rig.fetcher.groups = {"g2": [member(ME), member(BOB, MemberRole.OWNER)]}
    await rig.sync.handle_event(
        ServerEvent.MEMBER_JOINED, logged(1, conversationId="g2", userId=ME, role="member")
    )
    assert {m.user_id for m in rig.cache.members("g2")} == {ME, BOB}
    assert rig.cache.conversation("g2").member_count == 2  # type: ignore[union-attr]
    await rig.sync.handle_event(ServerEvent.MEMBER_LEFT, logged(2, conversationId="g2", userId=BOB))
    assert rig.cache.conversation("g2").member_count == 1  # type: ignore[union-attr]
