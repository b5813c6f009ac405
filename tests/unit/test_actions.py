"""User actions: cache + outbox in one transaction, optimistic state, typing pacing."""

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from client.actions import Actions
from client.offline.cache import Cache
from client.offline.outbox import Outbox
from client.offline.outbox_items import ActionKind, OutboxState
from client.offline.records import MessageStatus
from client.store import Store
from protocol.events import ClientEvent
from protocol.models import ReactionSummary
from tests.unit.offline_fixtures import BOB, ME, FakeClock, conversation, message


class Rig:
    def __init__(self, path: Path) -> None:
        self.cache = Cache.open(path, ME)
        self.cache.upsert_conversation(conversation("c1"))
        self.cache.upsert_conversation(conversation("c2", minutes=5))
        self.outbox = Outbox(self.cache)
        self.store = Store(self.cache, self.outbox)
        self.wall = FakeClock(1_800_000_000.0)
        self.mono = FakeClock()
        self.typing: list[tuple[ClientEvent, str]] = []
        self.actions = Actions(
            self.cache,
            self.outbox,
            self.store,
            send_typing=lambda event, cid: self.typing.append((event, cid)),
            clock=self.wall,
            monotonic=self.mono,
        )

    def queued(self) -> list[tuple[ActionKind, dict[str, Any]]]:
        return [(i.kind, i.payload) for i in self.outbox.items()]


@pytest.fixture
def rig(tmp_path: Path) -> Rig:
    return Rig(tmp_path)


def test_send_text_is_optimistic_and_queued_together(rig: Rig) -> None:
    rig.actions.save_draft("c1", "draft")
    rig.store.open_chat("c1")
    sent = rig.actions.send_text("c1", "  <b>hi</b> there ", reply_to_id="mc1-1")
    assert sent.status == MessageStatus.PENDING and sent.text == "hi there"
    assert rig.queued() == [
        (
            ActionKind.SEND,
            {
                "conversation_id": "c1",
                "text": "hi there",
                "client_id": sent.client_id,
                "reply_to_id": "mc1-1",
            },
        )
    ]
    assert rig.cache.draft("c1") is None
    assert rig.store.window is not None and rig.store.window.messages[-1].text == "hi there"
    assert rig.store.chat_list[0].id == "c1"
    assert rig.store.outbox_counts.pending == 1


def test_invalid_text_writes_nothing(rig: Rig) -> None:
    with pytest.raises(ValueError):
        rig.actions.send_text("c1", " \x00 ")
    assert rig.cache.messages_before("c1") == [] and rig.outbox.items() == []


def test_failed_outbox_write_rolls_back_the_message(
    rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(rig.outbox, "enqueue", broken)
    with pytest.raises(OSError):
        rig.actions.send_text("c1", "lost?")
    assert rig.cache.messages_before("c1") == []


def test_edit_and_delete_sent_and_unsent_messages(rig: Rig) -> None:
    sent = rig.cache.store_message(message(1, sender=ME, text="old"))
    rig.actions.edit(sent.local_id, "new")
    assert rig.cache.message(sent.local_id).text == "new"  # type: ignore[union-attr]
    assert [e.text for e in rig.cache.edits("mc1-1")] == ["old"]
    unsent = rig.actions.send_text("c1", "draft-ish")
    rig.actions.edit(unsent.local_id, "better")
    rig.actions.delete(sent.local_id)
    kinds = [(i.kind, i.target_client_id) for i in rig.outbox.items()]
    assert kinds == [
        (ActionKind.EDIT, None),
        (ActionKind.SEND, None),
        (ActionKind.EDIT, unsent.client_id),
        (ActionKind.DELETE, None),
    ]
    assert rig.cache.message(sent.local_id).deleted  # type: ignore[union-attr]
    other = rig.cache.store_message(message(2))
    with pytest.raises(ValueError):
        rig.actions.edit(other.local_id, "not mine")


def test_deleting_a_failed_message_just_drops_it(rig: Rig) -> None:
    unsent = rig.actions.send_text("c1", "nope")
    item = rig.outbox.items()[0]
    assert unsent.client_id is not None
    rig.outbox.fail(item, "BLOCKED", "blocked")
    rig.actions.delete(unsent.local_id)
    assert rig.cache.message(unsent.local_id) is None and rig.outbox.items() == []


def test_reaction_toggles_and_records_recent_emoji(rig: Rig) -> None:
    m = rig.cache.store_message(
        message(1, reactions=[ReactionSummary(emoji="👍", count=1, user_ids=[BOB])])
    )
    assert rig.actions.toggle_reaction(m.local_id, "👍")
    assert not rig.actions.toggle_reaction(m.local_id, "👍")
    got = rig.cache.message(m.local_id)
    assert got is not None and got.reactions[0].count == 1
    assert [k for k, _ in rig.queued()] == [ActionKind.REACT, ActionKind.UNREACT]
    assert rig.cache.recent_emojis() == ["👍"]
    with pytest.raises(ValueError):
        rig.actions.toggle_reaction(m.local_id, "not-an-emoji")


def test_forward_pin_and_limits(rig: Rig) -> None:
    m = rig.cache.store_message(message(1))
    rig.actions.forward([m.local_id], ["c2"])
    with pytest.raises(ValueError):
        rig.actions.forward([m.local_id], [f"c{i}" for i in range(6)])
    pending = rig.actions.send_text("c1", "unsent")
    with pytest.raises(ValueError):
        rig.actions.forward([pending.local_id], ["c2"])
    rig.actions.pin_message(m.local_id)
    assert rig.cache.pinned_ids("c1") == ["mc1-1"]
    rig.actions.pin_message(m.local_id, pinned=False)
    assert rig.cache.pinned_ids("c1") == []
    kinds = [k for k, _ in rig.queued()]
    assert kinds == [ActionKind.FORWARD, ActionKind.SEND, ActionKind.PIN, ActionKind.UNPIN]


def test_mark_read_sends_one_coalesced_receipt(rig: Rig) -> None:
    for seq in (1, 2, 3):
        rig.cache.store_message(message(seq))
    assert rig.actions.mark_read("c1")
    assert not rig.actions.mark_read("c1")
    rig.cache.store_message(message(4))
    assert rig.actions.mark_read("c1")
    assert rig.queued() == [
        (ActionKind.MARK_READ, {"conversation_id": "c1", "message_id": "mc1-4"})
    ]
    assert rig.cache.conversation("c1").unread_count == 0  # type: ignore[union-attr]


def test_settings_are_optimistic(rig: Rig) -> None:
    rig.actions.pin_conversation("c1")
    assert rig.store.chat_list[0].id == "c1"
    rig.actions.mute("c1", timedelta(hours=8))
    settings = rig.cache.settings("c1")
    assert settings is not None and settings.is_muted and settings.muted_until is not None
    rig.actions.unmute("c1")
    rig.actions.archive_conversation("c2")
    assert [r.id for r in rig.store.chat_list] == ["c1"]
    patches = [p["patch"] for _, p in rig.queued()]
    assert patches[0] == {"is_pinned": True}
    assert patches[1]["is_muted"] is True and "muted_until" in patches[1]
    assert patches[2] == {"is_muted": False}
    assert patches[3] == {"is_archived": True}


def test_retry_and_discard_failed_message(rig: Rig) -> None:
    m = rig.actions.send_text("c1", "again")
    rig.outbox.fail(rig.outbox.items()[0], "BLOCKED", "blocked")
    rig.actions.retry_message(m.local_id)
    assert rig.outbox.items()[0].state == OutboxState.QUEUED
    assert rig.cache.message(m.local_id).status == MessageStatus.PENDING  # type: ignore[union-attr]
    rig.actions.discard_message(m.local_id)
    assert rig.cache.message(m.local_id) is None


def test_typing_start_at_most_every_two_seconds_and_stop_when_idle(rig: Rig) -> None:
    for _ in range(4):
        rig.actions.composer_changed("c1", "h")
        rig.mono.now += 0.5
    assert rig.typing == [(ClientEvent.TYPING_START, "c1")]
    rig.actions.composer_changed("c1", "hello")
    assert rig.typing[-1] == (ClientEvent.TYPING_START, "c1") and len(rig.typing) == 2
    rig.mono.now += 1.9
    rig.actions.typing_tick()
    assert len(rig.typing) == 2
    rig.mono.now += 0.2
    rig.actions.typing_tick()
    assert rig.typing[-1] == (ClientEvent.TYPING_STOP, "c1")
    rig.actions.typing_tick()
    assert len(rig.typing) == 3


def test_sending_stops_typing(rig: Rig) -> None:
    rig.actions.composer_changed("c1", "x")
    rig.actions.send_text("c1", "x")
    assert rig.typing == [(ClientEvent.TYPING_START, "c1"), (ClientEvent.TYPING_STOP, "c1")]


def fail_all(rig: Rig) -> None:
    """Fail every queued item for good, as the worker does on a permanent error."""
    for item in rig.outbox.items(OutboxState.QUEUED):
        rig.outbox.fail(item, "FORBIDDEN", "not allowed")


def test_permanent_failures_roll_back_optimistic_changes(rig: Rig) -> None:
    mine = rig.cache.store_message(message(1, sender=ME, text="original"))
    theirs = rig.cache.store_message(message(2, text="keep me"))
    rig.actions.edit(mine.local_id, "edited")
    rig.actions.delete(theirs.local_id)
    rig.actions.toggle_reaction(mine.local_id, "👍")
    rig.actions.pin_message(mine.local_id)
    rig.actions.mute("c1")
    fail_all(rig)
    restored = rig.cache.message(mine.local_id)
    assert restored is not None
    assert restored.text == "original" and restored.edited_at is None
    assert rig.cache.edits("mc1-1") == []
    assert restored.reactions == []
    back = rig.cache.message(theirs.local_id)
    assert back is not None and not back.deleted and back.text == "keep me"
    assert [h.message.local_id for h in rig.cache.search("keep")] == [theirs.local_id]
    assert rig.cache.conversation("c1").unread_count == 1  # type: ignore[union-attr]
    assert rig.cache.pinned_ids("c1") == []
    settings = rig.cache.settings("c1")
    assert settings is not None and not settings.is_muted
    assert rig.outbox.counts().failed == 5


def test_failed_unreact_puts_the_reaction_back(rig: Rig) -> None:
    m = rig.cache.store_message(
        message(1, reactions=[ReactionSummary(emoji="🔥", count=2, user_ids=[BOB, ME])])
    )
    assert not rig.actions.toggle_reaction(m.local_id, "🔥")
    fail_all(rig)
    got = rig.cache.message(m.local_id)
    assert got is not None and got.reactions[0].count == 2 and got.reactions[0].reacted_by_me
