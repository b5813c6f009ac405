"""The store: chat list, bounded chat window with paging, typing expiry, presence, counts."""

from collections.abc import Callable
from pathlib import Path

import pytest

from client.offline.cache import Cache
from client.offline.outbox import Outbox
from client.offline.outbox_items import ActionKind
from client.offline.records import OutboxCounts
from client.offline.sync import Changes, SyncListener
from client.store import Store, Topic
from protocol.models import ConversationType, Member, MemberRole, PresenceStatus
from protocol.socket import PresenceEvent, TypingEvent
from tests.unit.offline_fixtures import BOB, CAROL, ME, T0, FakeClock, conversation, message, user


@pytest.fixture
def cache(tmp_path: Path) -> Cache:
    c = Cache.open(tmp_path, ME)
    c.upsert_conversation(conversation("c1"))
    for seq in range(1, 501):
        c.store_message(message(seq))
    return c


@pytest.fixture
def store(cache: Cache) -> Store:
    return Store(cache, Outbox(cache), clock=FakeClock(), page_size=50, window_size=120)


def seqs(store: Store) -> list[int | None]:
    assert store.window is not None
    return [m.seq for m in store.window.messages]


def test_chat_list_and_notifications(store: Store, cache: Cache) -> None:
    heard: list[Topic] = []
    unsubscribe = store.subscribe(heard.append)
    rows = store.load_chat_list()
    assert [r.id for r in rows] == ["c1"] and rows[0].unread_count == 500
    assert Topic.CHAT_LIST in heard and Topic.OUTBOX in heard
    unsubscribe()
    heard.clear()
    store.load_chat_list()
    assert heard == []


def test_window_pages_older_and_newer_within_bounds(store: Store) -> None:
    store.open_chat("c1")
    assert seqs(store) == list(range(451, 501))
    assert store.load_older() and store.load_older()
    assert seqs(store) == list(range(351, 471))
    assert store.window is not None and not store.window.at_latest
    assert store.load_newer()
    assert seqs(store) == list(range(381, 501))
    assert store.window.at_latest if store.window else False
    assert not store.load_newer()
    for _ in range(20):
        store.load_older()
    assert seqs(store)[0] == 1 and len(seqs(store)) == 120
    assert store.window is not None and not store.window.has_older
    assert not store.load_older()


def test_new_messages_extend_the_window_when_at_latest(store: Store, cache: Cache) -> None:
    store.open_chat("c1")
    cache.store_message(message(501))
    store.on_changed(Changes(frozenset({"c1"})))
    assert seqs(store)[-1] == 501 and len(seqs(store)) == 51
    for seq in range(502, 700):
        cache.store_message(message(seq))
    store.on_changed(Changes(frozenset({"c1"})))
    assert seqs(store) == list(range(580, 700))


def test_window_scrolled_up_keeps_its_range(store: Store, cache: Cache) -> None:
    store.open_chat("c1")
    store.load_older()
    store.load_older()
    before = seqs(store)
    cache.store_message(message(501))
    store.on_changed(Changes(frozenset({"c1"})))
    assert seqs(store) == before


def test_other_conversation_changes_leave_the_window(store: Store) -> None:
    store.open_chat("c1")
    heard: list[Topic] = []
    store.subscribe(heard.append)
    store.on_changed(Changes(frozenset({"c2"})))
    assert Topic.OPEN_CHAT not in heard and Topic.CHAT_LIST in heard


def test_typing_expires_after_ttl(cache: Cache) -> None:
    clock = FakeClock()
    store = Store(cache, clock=clock)
    store.on_typing(TypingEvent(conversation_id="c1", user_id=BOB, display_name="Bob"))
    assert [u.display_name for u in store.typing_users("c1")] == ["Bob"]
    clock.now += 2.9
    assert not store.expire_typing() and store.typing_users("c1")
    clock.now += 0.2
    assert store.typing_users("c1") == []
    assert store.expire_typing()
    store.on_typing(TypingEvent(conversation_id="c1", user_id=BOB, display_name="Bob"))
    store.on_typing(
        TypingEvent(conversation_id="c1", user_id=BOB, display_name="Bob", is_typing=False)
    )
    assert store.typing_users("c1") == []


def test_presence_connection_and_outbox_counts(store: Store, cache: Cache) -> None:
    heard: list[Topic] = []
    store.subscribe(heard.append)
    store.on_presence(PresenceEvent(user_id=BOB, status=PresenceStatus.ONLINE))
    assert store.presence[BOB].status == PresenceStatus.ONLINE
    store.set_connection("connecting")
    store.set_connection("connecting")
    assert store.connection == "connecting" and heard.count(Topic.CONNECTION) == 1
    assert store.outbox is not None
    store.outbox.enqueue(ActionKind.PIN, {"conversation_id": "c1", "message_id": "m1"}, "c1")
    assert store.outbox_counts == OutboxCounts(pending=1, failed=0)


def test_deferred_refreshes_are_batched(cache: Cache) -> None:
    scheduled: list[object] = []
    store = Store(cache, Outbox(cache), defer=scheduled.append)
    heard: list[Topic] = []
    store.subscribe(heard.append)
    for _ in range(5):
        store.on_changed(Changes(frozenset({"c1"})))
    assert len(scheduled) == 1 and heard == []
    store.flush()
    assert heard == [Topic.CHAT_LIST, Topic.CONVERSATIONS]


def test_store_is_the_sync_listener(store: Store) -> None:
    listener: SyncListener = store
    listener.on_changed(Changes(frozenset(), reset=True))
    assert store.chat_list[0].id == "c1"


def test_a_new_message_ends_its_senders_typing(store: Store) -> None:
    store.on_typing(TypingEvent(conversation_id="c1", user_id=BOB, display_name="Bob"))
    store.on_changed(Changes(frozenset({"c1"}), senders=frozenset({("c1", BOB)})))
    assert store.typing_users("c1") == []


def test_open_at_loads_a_window_around_an_old_message(store: Store) -> None:
    store.open_chat("c1")
    heard: list[Topic] = []
    store.subscribe(heard.append)
    window = store.open_at("c1", "mc1-100")
    assert window is store.window and heard == [Topic.OPEN_CHAT]
    assert window is not None and window.has_older and not window.at_latest
    assert seqs(store) == list(range(53, 103))
    assert store.load_newer() and seqs(store) == list(range(53, 153))
    assert store.load_older() and seqs(store) == list(range(3, 123))


def test_open_at_near_either_end_of_the_history(store: Store) -> None:
    window = store.open_at("c1", "mc1-3")
    assert window is not None and not window.has_older and not window.at_latest
    assert seqs(store) == list(range(1, 6))  # never more than two after: the target stays low
    window = store.open_at("c1", "mc1-499")
    assert window is not None and window.has_older and window.at_latest
    assert seqs(store) == list(range(452, 501))


def test_open_at_an_unknown_message_keeps_the_window(store: Store) -> None:
    store.open_chat("c1")
    before = seqs(store)
    assert store.open_at("c1", "m-missing") is None
    assert store.open_at("c2", "mc1-100") is None
    assert seqs(store) == before


def test_store_tells_which_conversations_sync_changed(cache: Cache) -> None:
    scheduled: list[Callable[[], None]] = []
    store = Store(cache, defer=scheduled.append)
    seen: list[tuple[bool, bool]] = []

    def heard(topic: Topic) -> None:
        if topic is Topic.CONVERSATIONS:
            seen.append((store.changed("c1"), store.changed("g1")))

    store.subscribe(heard)
    store.on_changed(Changes(frozenset({"g1"})))
    store.on_changed(Changes(frozenset({"c2"})))
    scheduled.pop()()
    store.on_changed(Changes(frozenset({"c1"})))
    scheduled.pop()()
    store.on_changed(Changes(frozenset(), reset=True))
    scheduled.pop()()
    assert seen == [(False, True), (True, False), (True, True)]


def test_member_count_in_the_chat_list_follows_leaves(store: Store, cache: Cache) -> None:
    group = conversation("g1", minutes=1, kind=ConversationType.PRIVATE_GROUP)
    cache.upsert_conversation(group)
    members = [Member(user=user(u), role=MemberRole.MEMBER, joined_at=T0) for u in (ME, BOB, CAROL)]
    cache.replace_members("g1", members)
    store.load_chat_list()
    assert {r.id: r.member_count for r in store.chat_list}["g1"] == 3
    cache.remove_member("g1", CAROL)  # a ban applied by sync
    store.on_changed(Changes(frozenset({"g1"})))
    assert {r.id: r.member_count for r in store.chat_list}["g1"] == 2
