"""The send queue's memory of what its batches read (PostgreSQL): which batches it lets skip
their read, and how what it knows of a conversation is kept, merged, replaced and dropped."""

from datetime import timedelta

from server.db.types import utcnow
from server.services.access_cache import AccessCache
from server.services.send_batch import ACCEPTED, DEFERRED, Facts, Membership, SendRequest

ALICE, BOB, CAROL = "alice", "bob", "carol"
GROUP, CHAT = "group", "chat"
MEMBER = Membership("member", None)


def _facts(
    conversation: str = GROUP,
    members: dict[str, Membership] | None = None,
    version: int = 1,
    locked: bool = False,
    blocks: set[tuple[str, str]] | None = None,
) -> Facts:
    """What a read found about one conversation."""
    return Facts(
        room_types={conversation: "direct" if conversation == CHAT else "private_group"},
        access_versions={conversation: version},
        locked={conversation} if locked else set(),
        members={conversation: members if members is not None else {BOB: MEMBER}},
        earlier={},
        blocked_pairs=blocks or set(),
        reply_targets={},
    )


def _send(sender: str = BOB, conversation: str = GROUP, client_id: str = "c1") -> SendRequest:
    return SendRequest(sender, conversation, "hi", client_id)


def test_only_sends_whose_facts_are_all_known_skip_the_read() -> None:
    cache = AccessCache()
    assert cache.check([_send()]) is None, "nothing known yet"
    cache.remember(_facts(version=7))
    checked = cache.check([_send(), _send(client_id="c2"), _send(client_id="c1")])
    assert checked is not None
    assert checked.verdicts == [ACCEPTED, ACCEPTED, DEFERRED]
    assert checked.facts.access_versions == {GROUP: 7}, "the write keeps to the version read"
    assert cache.check([_send(), _send(ALICE)]) is None, "alice was not read"
    assert cache.check([_send(), _send(conversation=CHAT)]) is None, "the chat was not read"
    reply = SendRequest(BOB, GROUP, "hi", "c3", reply_to_id="m1")
    assert cache.check([reply]) is None, "reply targets are always read"


def test_a_send_the_known_facts_would_refuse_is_read_again() -> None:
    muted = Membership("member", utcnow() + timedelta(hours=1))
    cache = AccessCache()
    cache.remember(_facts(members={BOB: muted}))
    assert cache.check([_send()]) is None
    cache.remember(_facts(members={BOB: MEMBER}, version=2, locked=True))
    assert cache.check([_send()]) is None, "a locked group, to a member"
    cache.remember(_facts(CHAT, {ALICE: MEMBER, BOB: MEMBER}, blocks={(ALICE, BOB)}))
    assert cache.check([_send(conversation=CHAT)]) is None, "a block in the chat"


def test_a_mute_that_ran_out_lets_the_send_through() -> None:
    cache = AccessCache()
    cache.remember(_facts(members={BOB: Membership("member", utcnow() - timedelta(minutes=1))}))
    checked = cache.check([_send()])
    assert checked is not None and checked.verdicts == [ACCEPTED]


def test_members_read_at_the_same_version_join_and_a_new_version_replaces_them() -> None:
    cache = AccessCache()
    cache.remember(_facts(members={BOB: MEMBER}))
    cache.remember(_facts(members={ALICE: MEMBER}))
    assert cache.check([_send(BOB), _send(ALICE)]) is not None
    cache.remember(_facts(members={CAROL: MEMBER}, version=2))
    assert cache.check([_send(CAROL)]) is not None
    assert cache.check([_send(BOB)]) is None, "bob was read at version 1 only"


def test_only_a_chats_own_blocks_are_kept_with_it() -> None:
    cache = AccessCache()
    facts = _facts(CHAT, {ALICE: MEMBER, BOB: MEMBER}, blocks={(ALICE, CAROL)})
    cache.remember(facts)
    checked = cache.check([_send(conversation=CHAT)])
    assert checked is not None and checked.facts.blocked_pairs == set()


def test_forgotten_and_least_recently_used_conversations_are_read_again() -> None:
    cache = AccessCache(capacity=2)
    for conversation in ("a", "b"):
        cache.remember(_facts(conversation))
    assert cache.check([_send(conversation="a")]) is not None  # "a" is now the most recent
    cache.remember(_facts("c"))
    assert cache.check([_send(conversation="b")]) is None, "the least recently used went"
    assert cache.check([_send(conversation="a")]) is not None
    cache.forget("a")
    assert cache.check([_send(conversation="a")]) is None
