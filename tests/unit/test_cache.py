"""The local cache: schema, idempotent writes, ordering, badges, chat list, search, plans."""

from datetime import timedelta
from pathlib import Path

import pytest

from client.offline.cache import Cache
from client.offline.highlight import highlight
from client.offline.records import MessageStatus
from client.offline.schema import SCHEMA_VERSION, schema_version
from protocol.models import ConversationSettings, Member, MemberRole, ReactionSummary
from protocol.socket import MessageNewEvent
from tests.unit.offline_fixtures import BOB, CAROL, ME, T0, conversation, message, user


@pytest.fixture
def cache(tmp_path: Path) -> Cache:
    """A fresh cache with one direct conversation ``c1``."""
    c = Cache.open(tmp_path, ME)
    c.upsert_conversation(conversation("c1"))
    return c


def test_schema_is_migrated_in_wal_mode(tmp_path: Path) -> None:
    c = Cache.open(tmp_path, ME)
    assert schema_version(c.conn) == SCHEMA_VERSION
    assert c.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    c.close()
    again = Cache.open(tmp_path, ME)
    assert schema_version(again.conn) == SCHEMA_VERSION


def test_store_message_is_idempotent(cache: Cache) -> None:
    first = cache.store_message(message(1))
    second = cache.store_message(message(1))
    assert first.is_new and not second.is_new
    assert first.local_id == second.local_id
    assert len(cache.messages_before("c1")) == 1


def test_pending_sorts_last_and_becomes_sent(cache: Cache) -> None:
    pending = cache.add_pending_message("c1", "hello", "cid-1", T0)
    cache.store_message(message(1))
    cache.store_message(message(2))
    page = cache.messages_before("c1")
    assert [m.text for m in page][-1] == "hello"
    assert page[-1].status == MessageStatus.PENDING and page[-1].id is None
    cache.store_message(message(3, sender=ME, text="hello", client_id="cid-1"))
    page = cache.messages_before("c1")
    assert [m.seq for m in page] == [1, 2, 3]
    assert page[-1].local_id == pending.local_id
    assert page[-1].status == MessageStatus.SENT and page[-1].id == "mc1-3"


def test_keyset_paging(cache: Cache) -> None:
    for seq in range(1, 121):
        cache.store_message(message(seq))
    first = cache.messages_before("c1", limit=50)
    assert [m.seq for m in first] == list(range(71, 121))
    older = cache.messages_before("c1", before=first[0].position, limit=50)
    assert [m.seq for m in older] == list(range(21, 71))
    newer = cache.messages_after("c1", after=older[-1].position, limit=10)
    assert [m.seq for m in newer] == list(range(71, 81))


def test_unread_badge_counts_others_and_clears_on_read(cache: Cache) -> None:
    cache.store_message(message(1))
    cache.store_message(message(2, sender=ME))
    cache.store_message(message(3))
    cache.store_message(message(3))
    row = cache.conversation("c1")
    assert row is not None and row.unread_count == 2
    assert cache.mark_read_up_to("c1", 1)
    assert cache.conversation("c1").unread_count == 1  # type: ignore[union-attr]
    cache.mark_deleted("mc1-3", T0)
    assert cache.conversation("c1").unread_count == 0  # type: ignore[union-attr]
    assert not cache.mark_read_up_to("c1", 1)


def test_receipts_move_ticks(cache: Cache) -> None:
    cache.store_message(message(1, sender=ME))
    cache.store_message(message(2, sender=ME))
    cache.apply_receipt("c1", BOB, 1, read=False)
    statuses = [m.status for m in cache.messages_before("c1")]
    assert statuses == [MessageStatus.DELIVERED, MessageStatus.SENT]
    cache.apply_receipt("c1", BOB, 2, read=True)
    statuses = [m.status for m in cache.messages_before("c1")]
    assert statuses == [MessageStatus.READ, MessageStatus.READ]
    cache.store_message(message(2, sender=ME))
    assert cache.messages_before("c1")[-1].status == MessageStatus.READ


def test_group_read_needs_every_member(cache: Cache) -> None:
    for member in (ME, BOB, CAROL):
        cache.set_member("c1", member, "member")
    cache.store_message(message(1, sender=ME))
    cache.apply_receipt("c1", BOB, 1, read=True)
    assert cache.messages_before("c1")[0].status == MessageStatus.SENT
    cache.apply_receipt("c1", CAROL, 1, read=False)
    assert cache.messages_before("c1")[0].status == MessageStatus.DELIVERED
    cache.apply_receipt("c1", CAROL, 1, read=True)
    assert cache.messages_before("c1")[0].status == MessageStatus.READ


def test_edit_keeps_history_and_reindexes(cache: Cache) -> None:
    cache.store_message(message(1, text="original words"))
    outcome = cache.store_message(message(1, text="replacement text", edited=True))
    assert outcome.previous_text == "original words"
    assert [e.text for e in cache.edits("mc1-1")] == ["original words"]
    assert cache.search("original") == []
    assert len(cache.search("replace")) == 1


def test_forward_origin_from_a_socket_event_reads_back(cache: Cache) -> None:
    event = message(1).model_dump(mode="json") | {
        "forwarded_from": {"senderName": "Bob Baker", "messageId": "m0"}
    }
    cache.store_message(MessageNewEvent.model_validate(event))
    origin = cache.messages_before("c1")[0].forwarded_from
    assert origin is not None and (origin.sender_name, origin.message_id) == ("Bob Baker", "m0")


def test_search_prefix_ranked_snippet_and_no_deleted(cache: Cache) -> None:
    cache.upsert_conversation(conversation("c2"))
    cache.store_message(message(1, text="the quick brown fox"))
    cache.store_message(message(2, text="a quick quick quick fox"))
    cache.store_message(message(1, conversation_id="c2", text="slow turtle"))
    hits = cache.search("qui fo")
    assert [h.message.seq for h in hits] == [2, 1]
    assert "[[quick]]" in hits[1].snippet
    assert hits[0].conversation_title == "Chat c1"
    assert cache.search("turtle", conversation_id="c1") == []
    cache.mark_deleted("mc1-2", T0)
    assert [h.message.seq for h in cache.search("quick")] == [1]
    assert cache.search("  ?! ") == []


def test_query_syntax_is_searched_as_words(cache: Cache) -> None:
    cache.store_message(message(1, text='say "NEAR" OR x, Café'))
    hits = cache.search('say "near" OR cafe')
    assert len(hits) == 1
    assert hits[0].match_offsets == [(0, 3), (5, 9), (11, 13), (17, 21)]
    assert hits[0].snippet == '[[say]] "[[NEAR]]" [[OR]] x, [[Café]]'
    assert cache.search("...") == []


def test_long_text_snippet_is_cut_around_the_first_match() -> None:
    text = " ".join(f"w{i}" for i in range(40)) + " target " + " ".join("tail" for _ in range(9))
    found = highlight(text, ["targ"])
    assert found.snippet == "…w34 w35 w36 w37 w38 w39 [[target]] tail tail tail tail tail tail…"


def test_chat_list_order_and_preview(cache: Cache) -> None:
    cache.upsert_conversation(conversation("c2", minutes=5))
    cache.upsert_conversation(conversation("c3", minutes=1))
    cache.store_message(message(1, conversation_id="c1", text="latest"))  # T0 + 1 s
    cache.apply_settings("c3", ConversationSettings(is_pinned=True, pin_rank=1))
    cache.upsert_conversation(conversation("c4"))
    cache.apply_settings("c4", ConversationSettings(is_pinned=True, pin_rank=0))
    cache.upsert_conversation(conversation("c5"))
    cache.apply_settings("c5", ConversationSettings(is_archived=True))
    rows = cache.chat_list()
    assert [r.id for r in rows] == ["c4", "c3", "c2", "c1"]
    assert rows[3].last_message is not None and rows[3].last_message.text == "latest"
    assert [r.id for r in cache.chat_list(archived=True)] == ["c5"]


def test_pending_message_updates_activity_and_preview(cache: Cache) -> None:
    cache.upsert_conversation(conversation("c2", minutes=5))
    cache.add_pending_message("c1", "typed offline", "cid-9", T0 + timedelta(hours=2))
    rows = cache.chat_list()
    assert rows[0].id == "c1"
    assert rows[0].last_message is not None
    assert rows[0].last_message.status == MessageStatus.PENDING


def test_reactions_local_toggle_and_server_summary(cache: Cache) -> None:
    outcome = cache.store_message(
        message(1, reactions=[ReactionSummary(emoji="👍", count=1, user_ids=[BOB])])
    )
    cache.toggle_reaction_locally(outcome.local_id, "👍", add=True)
    got = cache.message(outcome.local_id)
    assert got is not None
    assert got.reactions[0].count == 2 and got.reactions[0].reacted_by_me
    cache.toggle_reaction_locally(outcome.local_id, "👍", add=False)
    got = cache.message(outcome.local_id)
    assert got is not None and got.reactions[0].count == 1 and not got.reactions[0].reacted_by_me
    cache.set_reactions("mc1-1", [ReactionSummary(emoji="🔥", count=2, user_ids=[BOB, ME])])
    got = cache.message(outcome.local_id)
    assert got is not None and [(r.emoji, r.reacted_by_me) for r in got.reactions] == [("🔥", True)]


def test_failed_retry_discard(cache: Cache) -> None:
    pending = cache.add_pending_message("c1", "x", "cid-2", T0)
    cache.set_unsent_status("cid-2", MessageStatus.FAILED, "BLOCKED", "You blocked this user")
    failed = cache.message(pending.local_id)
    assert failed is not None and failed.status == MessageStatus.FAILED
    assert failed.failure_reason == "You blocked this user"
    cache.remove_unsent(pending.local_id)
    assert cache.message(pending.local_id) is None
    assert cache.conversation("c1").last_message is None  # type: ignore[union-attr]


def test_transaction_rolls_back_everything(cache: Cache) -> None:
    with pytest.raises(RuntimeError), cache.transaction():
        cache.store_message(message(1))
        cache.save_draft("c1", "draft", None, 1.0)
        raise RuntimeError("boom")
    assert cache.messages_before("c1") == []
    assert cache.draft("c1") is None


def test_pins_drafts_emojis_meta(cache: Cache) -> None:
    cache.store_message(message(1))
    cache.store_message(message(2))
    cache.set_pins("c1", ["mc1-2", "mc1-1"])
    assert [m.seq for m in cache.pinned_messages("c1")] == [2, 1]
    cache.save_draft("c1", "half a thought", "mc1-1", 1.0)
    assert cache.conversation("c1").draft == "half a thought"  # type: ignore[union-attr]
    cache.save_draft("c1", "  ", None, 2.0)
    assert cache.draft("c1") is None
    for i, e in enumerate(["😀", "🔥", "😀"]):
        cache.record_emoji(e, float(i))
    assert cache.recent_emojis() == ["😀", "🔥"]
    cache.set_last_event_id(42)
    assert cache.last_event_id == 42


def test_reset_keeps_unsent(cache: Cache) -> None:
    cache.store_message(message(1))
    cache.add_pending_message("c1", "keep me", "cid-3", T0)
    cache.set_last_event_id(9)
    cache.reset_server_state()
    assert cache.last_event_id == 0
    assert [m.text for m in cache.messages_before("c1")] == ["keep me"]


@pytest.mark.parametrize(
    ("sql", "index"),
    [
        (
            "SELECT * FROM messages WHERE conversation_id = 'c1' AND position < 5 "
            "ORDER BY position DESC LIMIT 50",
            "messages_position",
        ),
        (
            "SELECT * FROM conversations WHERE is_archived = 0 "
            "ORDER BY is_pinned DESC, pin_rank, last_activity_at DESC",
            "conversations_list",
        ),
    ],
)
def test_screen_queries_use_an_index_without_sorting(cache: Cache, sql: str, index: str) -> None:
    plan = " ".join(str(r[-1]) for r in cache.db.execute("EXPLAIN QUERY PLAN " + sql))
    assert index in plan
    assert "TEMP B-TREE" not in plan


def test_search_ranks_only_the_newest_candidates(
    cache: Cache, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("client.offline.cache.SEARCH_CANDIDATES", 3)
    for seq in range(1, 11):
        cache.store_message(message(seq, text=f"alpha {'alpha ' * (10 - seq)}"))
    hits = cache.search("alpha")
    assert sorted(h.message.seq or 0 for h in hits) == [8, 9, 10]
    assert hits[0].message.seq == 8  # most matches ranks first among the candidates


def test_deletion_is_final_even_when_a_late_ack_arrives(cache: Cache) -> None:
    pending = cache.add_pending_message("c1", "oops", "cid-7", T0)
    cache.delete_locally(pending.local_id, T0)
    cache.store_message(message(1, sender=ME, text="oops", client_id="cid-7"))
    got = cache.message(pending.local_id)
    assert got is not None and got.deleted and got.text is None and got.seq == 1
    assert cache.search("oops") == []


def test_migrations_run_in_order_from_an_older_version(tmp_path: Path) -> None:
    c = Cache.open(tmp_path, ME)
    c.db.execute("ALTER TABLE outbox DROP COLUMN undo")
    c.db.execute("ALTER TABLE conversations DROP COLUMN locked")
    c.db.execute("ALTER TABLE members DROP COLUMN muted_until")
    c.db.execute("PRAGMA user_version = 1")
    c.close()
    again = Cache.open(tmp_path, ME)
    assert schema_version(again.conn) == SCHEMA_VERSION == 3
    assert "undo" in again.db["outbox"].columns_dict
    assert "locked" in again.db["conversations"].columns_dict
    assert "muted_until" in again.db["members"].columns_dict


def test_members_with_names_and_receipt_positions(cache: Cache) -> None:
    cache.upsert_members(
        "c1",
        [
            Member(user=user(BOB), role=MemberRole.ADMIN, joined_at=T0, last_read_seq=4),
            Member(user=user(CAROL), joined_at=T0),
        ],
    )
    cache.apply_receipt("c1", CAROL, 2, read=False)
    rows = {m.user_id: m for m in cache.members("c1")}
    assert rows[BOB].role == "admin" and rows[BOB].last_read_seq == 4
    assert rows[BOB].display_name == "U-Bob"
    assert rows[CAROL].last_delivered_seq == 2
    cache.remove_member("c1", CAROL)
    assert [m.user_id for m in cache.members("c1")] == [BOB]


def test_badge_never_counts_a_message_twice(tmp_path: Path) -> None:
    c = Cache.open(tmp_path, ME)
    c.store_message(message(1))  # an event before the conversation was known
    c.upsert_conversation(conversation("c1", unread=3, last_seq=3))  # the server's snapshot
    c.store_message(message(2))  # later events the snapshot already counted
    c.store_message(message(3))
    assert c.conversation("c1").unread_count == 3  # type: ignore[union-attr]
    c.store_message(message(4))
    assert c.conversation("c1").unread_count == 4  # type: ignore[union-attr]
    c.store_message(message(0))  # older history paged in
    assert c.conversation("c1").unread_count == 4  # type: ignore[union-attr]
