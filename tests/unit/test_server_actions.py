"""Actions that need the server: finding people, opening or creating conversations, reporting,
members and refresh; what the server answers lands in the cache and the store."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from client.actions import ServerActions
from client.errors import NetworkError
from client.offline.cache import Cache
from client.offline.records import CachedMessage
from client.store import Store
from client.wording import MUTED_FOREVER
from protocol.models import (
    AuditEntry,
    Conversation,
    ConversationType,
    GroupBan,
    Member,
    MemberRole,
    MessageReceipt,
    Page,
    User,
)
from protocol.rest import ReportRequest
from tests.unit.offline_fixtures import BOB, CAROL, ME, T0, conversation, message, user

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


class FakeApi:
    """Answers like the server and records what it was asked."""

    def __init__(self) -> None:
        self.people = [user(ME), user(BOB), user(CAROL)]
        self.created: list[tuple[str, object]] = []
        self.reports: list[ReportRequest] = []
        self.offline = False
        self.banned: dict[str, datetime | None] = {}

    def _check(self) -> None:
        if self.offline:
            raise NetworkError()

    async def find_users(self, query: str, limit: int | None = None) -> list[User]:
        self._check()
        return [u for u in self.people if query.lower() in u.username]

    async def create_direct(self, user_id: str) -> Conversation:
        self._check()
        self.created.append(("direct", user_id))
        return conversation(f"d-{user_id}")

    async def create_group(self, title: str, member_ids: list[str]) -> Conversation:
        self._check()
        self.created.append((title, member_ids))
        group = conversation("g1", kind=ConversationType.PRIVATE_GROUP)
        return group.model_copy(update={"title": title, "my_role": MemberRole.OWNER})

    async def members(self, conversation_id: str) -> list[Member]:
        self._check()
        return [
            Member(user=user(ME), role=MemberRole.OWNER, joined_at=T0),
            Member(user=user(CAROL), role=MemberRole.MEMBER, joined_at=T0),
        ]

    async def report(self, report: ReportRequest) -> None:
        self._check()
        self.reports.append(report)

    async def rename_group(self, conversation_id: str, title: str) -> Conversation:
        self._check()
        self.created.append(("rename", title))
        return conversation(conversation_id, kind=ConversationType.PRIVATE_GROUP)

    async def add_members(self, conversation_id: str, user_ids: list[str]) -> list[Member]:
        self._check()
        return [Member(user=user(u), role=MemberRole.MEMBER, joined_at=T0) for u in user_ids]

    async def remove_member(self, conversation_id: str, user_id: str) -> None:
        self._check()
        self.created.append(("remove", user_id))

    async def leave_group(self, conversation_id: str) -> None:
        self._check()
        self.created.append(("leave", conversation_id))

    async def set_role(self, conversation_id: str, user_id: str, role: str) -> Member:
        self._check()
        return Member(user=user(user_id), role=MemberRole(role), joined_at=T0)

    async def mute_member(
        self, conversation_id: str, user_id: str, until: datetime | None
    ) -> Member:
        self._check()
        return Member(user=user(user_id), joined_at=T0, muted_until=until)

    async def ban_member(self, conversation_id: str, user_id: str, until: datetime | None) -> None:
        self._check()
        self.banned[user_id] = until

    async def unban_member(self, conversation_id: str, user_id: str) -> None:
        self._check()
        self.banned.pop(user_id, None)

    async def audit_log(
        self, conversation_id: str, cursor: str | None = None, limit: int = 50
    ) -> Page[AuditEntry]:
        """The log in pages of two, the cursor being the index of the next entry."""
        self._check()
        start = int(cursor or 0)
        entries = [
            AuditEntry(id=f"a{n}", actor_id=ME, action="rename", created_at=T0) for n in range(3)
        ]
        more = start + 2 < len(entries)
        return Page[AuditEntry](
            items=entries[start : start + 2],
            next_cursor=str(start + 2) if more else None,
            has_more=more,
        )

    async def bans(self, conversation_id: str) -> list[GroupBan]:
        self._check()
        return [
            GroupBan(user=user(u), banned_until=until, banned_at=T0)
            for u, until in self.banned.items()
        ]

    async def set_locked(self, conversation_id: str, locked: bool) -> Conversation:
        self._check()
        group = conversation(conversation_id, kind=ConversationType.PRIVATE_GROUP)
        return group.model_copy(update={"locked": locked})

    async def message_receipts(self, message_id: str) -> list[MessageReceipt]:
        self._check()
        self.created.append(("receipts", message_id))
        return [MessageReceipt(user=user(CAROL), delivered=True, read=True, read_at=T0)]


class Rig:
    def __init__(self, path: Path) -> None:
        self.cache = Cache.open(path, ME)
        self.store = Store(self.cache)
        self.api = FakeApi()
        self.catch_ups = 0
        self.server = ServerActions(
            self.cache, self.store, self.api, self._catch_up, clock=NOW.timestamp
        )

    async def _catch_up(self) -> None:
        self.catch_ups += 1


@pytest.fixture
def rig(tmp_path: Path) -> Rig:
    return Rig(tmp_path)


async def test_find_people_never_lists_the_user_and_ignores_blank_queries(rig: Rig) -> None:
    assert [u.id for u in await rig.server.find_people(" u_ ")] == [BOB, CAROL]
    assert await rig.server.find_people("   ") == []


async def test_open_direct_reuses_the_cached_chat_without_the_server(rig: Rig) -> None:
    rig.cache.upsert_conversation(conversation("c1"))
    rig.api.offline = True
    assert await rig.server.open_direct(user(BOB)) == "c1"
    assert rig.api.created == []


async def test_open_direct_creates_and_caches_a_new_chat(rig: Rig) -> None:
    rig.store.load_chat_list()
    conversation_id = await rig.server.open_direct(user(CAROL))
    assert conversation_id == f"d-{CAROL}"
    assert rig.api.created == [("direct", CAROL)]
    assert [row.id for row in rig.store.chat_list] == [conversation_id]


async def test_open_direct_offline_raises_the_network_error(rig: Rig) -> None:
    rig.api.offline = True
    with pytest.raises(NetworkError):
        await rig.server.open_direct(user(CAROL))
    assert rig.cache.chat_list() == []


async def test_create_group_caches_the_group_and_its_members(rig: Rig) -> None:
    rig.store.load_chat_list()
    conversation_id = await rig.server.create_group("  Book club ", [CAROL])
    assert rig.api.created == [("Book club", [CAROL])]
    row = rig.cache.conversation(conversation_id)
    assert row is not None and row.title == "Book club" and row.my_role == "owner"
    assert {m.user_id: m.role for m in rig.cache.members(conversation_id)} == {
        ME: "owner",
        CAROL: "member",
    }
    assert [r.id for r in rig.store.chat_list] == [conversation_id]


async def test_create_group_refuses_an_empty_title_before_asking_the_server(rig: Rig) -> None:
    with pytest.raises(ValueError):
        await rig.server.create_group("   ", [CAROL])
    assert rig.api.created == []


def _cached(rig: Rig, seq: int = 1) -> CachedMessage:
    rig.cache.upsert_conversation(conversation("c1"))
    rig.cache.store_message(message(seq))
    found = rig.cache.message_by_id(f"mc1-{seq}")
    assert found is not None
    return found


async def test_report_sends_reason_and_note(rig: Rig) -> None:
    await rig.server.report(_cached(rig), "SPAM", "  buy now links  ")
    assert rig.api.reports == [
        ReportRequest(message_id="mc1-1", reason="SPAM", detail="buy now links")
    ]
    await rig.server.report(_cached(rig, 2), "OTHER")
    assert rig.api.reports[-1].detail is None


async def test_report_refuses_unsent_messages_and_unknown_reasons(rig: Rig) -> None:
    rig.cache.upsert_conversation(conversation("c1"))
    pending = rig.cache.add_pending_message("c1", "hi", "client-1", datetime.now(UTC))
    with pytest.raises(ValueError):
        await rig.server.report(pending, "SPAM")
    with pytest.raises(ValueError):
        await rig.server.report(_cached(rig), "BORING")
    assert rig.api.reports == []


async def test_message_receipts_come_from_the_server_for_sent_messages_only(rig: Rig) -> None:
    sent = _cached(rig)
    receipts = await rig.server.message_receipts(sent)
    assert [(r.user.id, r.read_at) for r in receipts] == [(CAROL, T0)]
    assert rig.api.created == [("receipts", sent.id)]
    pending = rig.cache.add_pending_message("c1", "hi", "client-1", datetime.now(UTC))
    with pytest.raises(ValueError):
        await rig.server.message_receipts(pending)


async def test_load_members_caches_them(rig: Rig) -> None:
    rig.cache.upsert_conversation(conversation("g1", kind=ConversationType.PRIVATE_GROUP))
    members = await rig.server.load_members("g1")
    assert sorted(m.user_id for m in members) == sorted([ME, CAROL])
    assert rig.cache.members("g1") == members


async def test_refresh_catches_up_and_reloads_the_list(rig: Rig) -> None:
    rig.store.load_chat_list()
    rig.cache.upsert_conversation(conversation("c9"))
    await rig.server.refresh()
    assert rig.catch_ups == 1
    assert [r.id for r in rig.store.chat_list] == ["c9"]


def test_store_counts_archived_chats(rig: Rig) -> None:
    for cid in ("c1", "c2", "c3"):
        rig.cache.upsert_conversation(conversation(cid))
    settings = rig.cache.settings("c2")
    assert settings is not None
    rig.cache.apply_settings("c2", settings.model_copy(update={"is_archived": True}))
    rig.store.load_chat_list()
    assert sorted(r.id for r in rig.store.chat_list) == ["c1", "c3"]
    assert rig.store.archived_count == 1
    rig.store.load_chat_list(archived=True)
    assert [r.id for r in rig.store.chat_list] == ["c2"] and rig.store.archived_count == 1


async def _group(rig: Rig) -> str:
    rig.store.load_chat_list()
    return await rig.server.create_group("Book club", [CAROL])


async def test_admin_actions_update_the_cached_group(rig: Rig) -> None:
    group = await _group(rig)
    await rig.server.rename_group(group, "  Reading circle ")
    row = rig.cache.conversation(group)
    assert row is not None and row.title == "Reading circle"
    assert rig.store.chat_list[0].title == "Reading circle"
    members = await rig.server.add_members(group, [BOB])
    assert {m.user_id: m.role for m in members} == {ME: "owner", CAROL: "member", BOB: "member"}
    members = await rig.server.set_role(group, BOB, "admin")
    assert {m.user_id: m.role for m in members}[BOB] == "admin"
    members = await rig.server.remove_member(group, CAROL)
    assert sorted(m.user_id for m in members) == sorted([ME, BOB])
    assert ("remove", CAROL) in rig.api.created


async def test_muting_a_member_for_a_while_forever_and_unmuting(rig: Rig) -> None:
    group = await _group(rig)
    members = await rig.server.mute_member(group, CAROL, timedelta(hours=8))
    assert {m.user_id: m.muted_until for m in members}[CAROL] == NOW + timedelta(hours=8)
    members = await rig.server.mute_member(group, CAROL, None)
    assert {m.user_id: m.muted_until for m in members}[CAROL] == MUTED_FOREVER
    members = await rig.server.unmute_member(group, CAROL)
    assert {m.user_id: m.muted_until for m in members}[CAROL] is None


async def test_banning_removes_the_member_and_lists_the_ban_until_lifted(rig: Rig) -> None:
    group = await _group(rig)
    members = await rig.server.ban_member(group, CAROL, timedelta(days=1))
    assert [m.user_id for m in members] == [ME]
    assert rig.api.banned == {CAROL: NOW + timedelta(days=1)}
    await rig.server.ban_member(group, BOB, None)
    assert [(b.user.id, b.banned_until) for b in await rig.server.bans(group)] == [
        (CAROL, NOW + timedelta(days=1)),
        (BOB, None),
    ]
    assert [b.user.id for b in await rig.server.unban_member(group, CAROL)] == [BOB]


async def test_locking_a_group_marks_its_chat_row(rig: Rig) -> None:
    group = await _group(rig)
    await rig.server.set_locked(group, True)
    assert rig.store.chat_list[0].locked
    await rig.server.set_locked(group, False)
    row = rig.cache.conversation(group)
    assert row is not None and not row.locked


async def test_admin_actions_refuse_bad_input_before_the_server(rig: Rig) -> None:
    group = await _group(rig)
    with pytest.raises(ValueError):
        await rig.server.rename_group(group, "   ")
    with pytest.raises(ValueError):
        await rig.server.set_role(group, BOB, "owner")
    with pytest.raises(ValueError):
        await rig.server.add_members(group, [])


async def test_leaving_a_group_forgets_it(rig: Rig) -> None:
    group = await _group(rig)
    await rig.server.leave_group(group)
    assert rig.cache.conversation(group) is None and rig.store.chat_list == []


async def test_leaving_offline_keeps_the_group(rig: Rig) -> None:
    group = await _group(rig)
    rig.api.offline = True
    with pytest.raises(NetworkError):
        await rig.server.leave_group(group)
    assert rig.cache.conversation(group) is not None


async def test_the_audit_log_pages_on_with_the_servers_cursor(rig: Rig) -> None:
    first = await rig.server.audit_log("g1", None)
    assert [e.id for e in first.items] == ["a0", "a1"] and first.has_more
    rest = await rig.server.audit_log("g1", first.next_cursor)
    assert [e.id for e in rest.items] == ["a2"] and not rest.has_more
