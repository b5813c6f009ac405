"""The chat list's panels without a page: conversation settings, new group, group info, error
sentences."""

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import cast

import flet as ft
import pytest

from client.actions import ConversationsApi, ServerActions
from client.errors import ForbiddenError, NetworkError, RateLimitedError, ValidationFailedError
from client.group_rules import posting_notice
from client.offline.cache import Cache
from client.offline.records import ChatRow, MemberRow
from client.offline.sync import Changes
from client.store import Store
from client.views.chat_list import muted_left
from client.views.conversation_settings import (
    MUTE_CHOICES,
    NOT_MUTED,
    ConversationSettingsPanel,
    SettingsHandlers,
)
from client.views.group_admin import GroupAdmin
from client.views.group_info import GroupInfoPanel, sorted_members
from client.views.member_menu import BAN_CHOICES, MemberHandlers, can_moderate, member_menu
from client.views.member_menu import MUTE_CHOICES as MUTE_MEMBER_CHOICES
from client.views.message_info import MessageInfoDialog, Receipt, receipt_text
from client.views.new_group import NewGroupDialog
from client.views.server_errors import explain
from client.wording import MUTED_FOREVER, until_text
from protocol.models import ConversationType, Member, MemberRole, User
from tests.unit.offline_fixtures import BOB, CAROL, ME, T0, conversation, user


@pytest.fixture
def row(tmp_path: Path) -> ChatRow:
    cache = Cache.open(tmp_path, ME)
    cache.upsert_conversation(conversation("c1"))
    found = cache.conversation("c1")
    assert found is not None
    return found


def test_settings_panel_applies_each_choice(row: ChatRow) -> None:
    calls: list[object] = []
    handlers = SettingsHandlers(
        mute=lambda d: calls.append(("mute", d)),
        unmute=lambda: calls.append("unmute"),
        pin=lambda on: calls.append(("pin", on)),
        archive=lambda on: calls.append(("archive", on)),
        close=lambda: None,
    )
    panel = ConversationSettingsPanel("Bob", row, handlers)
    assert panel.mute.value == NOT_MUTED and panel.muted.value == NOT_MUTED
    for choice in MUTE_CHOICES:
        panel.mute.value = choice
        panel._mute_changed()
    panel.mute.value = NOT_MUTED
    panel._mute_changed()
    panel.pinned.value = True
    panel._pin_changed()
    panel.archived.value = True
    panel._archive_changed()
    assert calls == [
        ("mute", timedelta(hours=1)),
        ("mute", timedelta(hours=8)),
        ("mute", timedelta(days=1)),
        ("mute", timedelta(weeks=1)),
        ("mute", None),
        "unmute",
        ("pin", True),
        ("archive", True),
    ]


def test_settings_panel_shows_the_time_left(row: ChatRow) -> None:
    now = datetime(2026, 1, 1, 12, tzinfo=UTC)
    handlers = SettingsHandlers(
        lambda d: None, lambda: None, lambda on: None, lambda on: None, lambda: None
    )
    panel = ConversationSettingsPanel("Bob", row, handlers)
    panel.show(replace(row, is_muted=True, muted_until=now + timedelta(hours=7, minutes=30)), now)
    assert panel.muted.value == "Muted for 7 h"
    panel.show(replace(row, is_muted=True, muted_until=None, is_pinned=True), now)
    assert panel.muted.value == "Muted" and panel.mute.value == "Mute forever"
    assert panel.pinned.value is True and panel.archived.value is False


def test_new_group_dialog_collects_members_once_and_needs_a_title() -> None:
    created: list[tuple[str, list[str]]] = []

    async def find(query: str) -> list[User]:
        return []

    dialog = NewGroupDialog(find, lambda t, m: created.append((t, [u.id for u in m])), lambda: None)
    assert dialog.create.disabled
    dialog.add(user("u-bob"))
    dialog.add(user("u-bob"))
    dialog.add(user("u-carol"))
    dialog.remove(user("u-carol"))
    dialog._create()
    assert created == []
    dialog.title.value = "  Book club "
    dialog._sync()
    assert not dialog.create.disabled
    dialog._create()
    assert created == [("Book club", ["u-bob"])]


def test_group_members_sorted_by_role_then_me_then_name() -> None:
    members = [
        MemberRow("u-zed", "zed", "Zed", "member", 0, 0),
        MemberRow("u-amy", "amy", "Amy", "member", 0, 0),
        MemberRow(ME, "me", "Me", "member", 0, 0),
        MemberRow("u-own", "own", "Owner", "owner", 0, 0),
        MemberRow("u-adm", "adm", "Admin", "admin", 0, 0),
    ]
    assert [m.user_id for m in sorted_members(members, ME)] == [
        "u-own",
        "u-adm",
        ME,
        "u-amy",
        "u-zed",
    ]


def test_errors_are_explained_in_plain_words() -> None:
    assert "You are offline" in explain(NetworkError(), "Starting a chat")
    assert "blocked" in explain(ForbiddenError("no", "BLOCKED"), "Starting a chat")
    assert "Wait a moment" in explain(RateLimitedError("slow", 3), "Reporting")
    assert explain(ValidationFailedError("Title too long"), "Creating a group") == (
        "Creating a group failed: Title too long"
    )


def test_who_may_moderate_whom() -> None:
    assert can_moderate("owner", "admin") and can_moderate("owner", "member")
    assert can_moderate("admin", "member")
    assert not can_moderate("admin", "admin") and not can_moderate("admin", "owner")
    assert not can_moderate("member", "member") and not can_moderate("owner", "owner")


def test_refusals_of_group_administration_are_explained() -> None:
    assert "banned" in explain(ForbiddenError("no", "BANNED"), "Adding a member")
    assert "only the owner can act on an admin" in explain(
        ForbiddenError("only the owner can act on an admin", "FORBIDDEN"), "Muting"
    )


NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


def _menu_texts(my_role: str, member: MemberRow) -> list[str]:
    handlers = MemberHandlers(
        set_role=lambda m, r: None,
        mute=lambda m, d: None,
        unmute=lambda m: None,
        remove=lambda m: None,
        ban=lambda m, d: None,
    )
    menu = member_menu(member, "Bob", my_role, NOW, handlers)
    return [] if menu is None else [str(item.content) for item in menu.items]


def test_member_menu_offers_what_the_user_may_do() -> None:
    bob = MemberRow("u-bob", "bob", "Bob", "member", 0, 0)
    assert _menu_texts("owner", bob) == [
        "Make admin",
        *MUTE_MEMBER_CHOICES,
        "Remove from group",
        *BAN_CHOICES,
    ]
    assert _menu_texts("admin", bob)[0] == "Mute for 1 hour"
    admin = replace(bob, role="admin")
    assert _menu_texts("owner", admin)[0] == "Remove admin"
    assert _menu_texts("admin", admin) == [] and _menu_texts("member", bob) == []
    muted = replace(bob, muted_until=NOW + timedelta(minutes=5))
    assert "Unmute" in _menu_texts("admin", muted)
    assert "Mute for 1 hour" not in _menu_texts("admin", muted)
    expired = replace(bob, muted_until=NOW - timedelta(minutes=5))
    assert "Unmute" not in _menu_texts("admin", expired)


def test_member_menu_runs_the_chosen_action() -> None:
    done: list[tuple[str, object]] = []
    handlers = MemberHandlers(
        set_role=lambda m, r: done.append(("role", r)),
        mute=lambda m, d: done.append(("mute", d)),
        unmute=lambda m: done.append(("unmute", m.user_id)),
        remove=lambda m: done.append(("remove", m.user_id)),
        ban=lambda m, d: done.append(("ban", d)),
    )
    bob = MemberRow("u-bob", "bob", "Bob", "member", 0, 0)
    menu = member_menu(bob, "Bob", "owner", NOW, handlers)
    assert menu is not None
    for item in menu.items:
        assert item.on_click is not None
        cast(Callable[[], object], item.on_click)()
    assert done == [
        ("role", "admin"),
        ("mute", timedelta(hours=1)),
        ("mute", timedelta(hours=8)),
        ("mute", timedelta(days=1)),
        ("mute", None),
        ("remove", "u-bob"),
        ("ban", timedelta(days=1)),
        ("ban", timedelta(weeks=1)),
        ("ban", None),
    ]


def test_posting_notice_for_muted_members_and_locked_groups(row: ChatRow) -> None:
    group = replace(row, type="private_group", my_role="member")
    me = MemberRow(ME, "me", "Me", "member", 0, 0)
    assert posting_notice(group, me, NOW) is None
    muted = replace(me, muted_until=NOW + timedelta(hours=1))
    notice = posting_notice(group, muted, NOW, UTC)
    assert notice is not None and "muted you until 13:00" in notice
    forever = replace(me, muted_until=MUTED_FOREVER)
    assert "until lifted" in (posting_notice(group, forever, NOW) or "")
    assert posting_notice(group, replace(me, muted_until=NOW), NOW) is None
    locked = replace(group, locked=True)
    assert "locked" in (posting_notice(locked, me, NOW) or "")
    assert posting_notice(replace(locked, my_role="admin"), me, NOW) is None
    assert posting_notice(replace(locked, type="direct"), muted, NOW) is None


def test_until_text_names_the_day_when_not_today() -> None:
    assert until_text(NOW + timedelta(days=2), NOW, UTC) == "until 3 May 12:00"
    assert until_text(None, NOW) == "until lifted"


def test_receipt_text_says_what_is_known() -> None:
    at = NOW - timedelta(minutes=5)
    assert receipt_text(Receipt("Bob", False, False), NOW) == "Not delivered yet"
    assert receipt_text(Receipt("Bob", True, False), NOW) == "Delivered"
    assert receipt_text(Receipt("Bob", True, False, at), NOW, UTC) == "Delivered 11:55"
    assert receipt_text(Receipt("Bob", True, True, at, NOW), NOW, UTC) == (
        "Seen 12:00 · delivered 11:55"
    )
    assert receipt_text(Receipt("Bob", True, True, NOW, NOW), NOW, UTC) == "Seen 12:00"
    assert receipt_text(Receipt("Bob", True, True), NOW) == "Seen"
    yesterday = NOW - timedelta(days=1)
    assert receipt_text(Receipt("Bob", True, True, yesterday, yesterday), NOW, UTC) == (
        "Seen 30 Apr 12:00"
    )


def test_message_info_lists_each_receipt_under_the_sending_time() -> None:
    info = MessageInfoDialog(NOW, [Receipt("Bob", True, False)], lambda: None)
    texts = [c.value for c in info.rows.controls if isinstance(c, ft.Text)]
    assert len(texts) == 1 and texts[0].startswith("Sent ")
    tiles = [c for c in info.rows.controls if isinstance(c, ft.ListTile)]
    assert [(cast(ft.Text, t.title).value, cast(ft.Text, t.subtitle).value) for t in tiles] == [
        ("Bob", "Delivered")
    ]
    info.show([], NOW)
    assert [c.value for c in info.rows.controls if isinstance(c, ft.Text)][1:] == [
        "No other members"
    ]


class DialogPage:
    """The part of a page ``GroupAdmin`` uses: dialogs open when shown."""

    def show_dialog(self, dialog: ft.AlertDialog) -> None:
        dialog.open = True


def _listed(panel: GroupInfoPanel) -> list[str]:
    """The member count, then each member as "name: details"."""
    lines: list[str] = []
    for control in panel.members.controls:
        if isinstance(control, ft.ListTile):
            assert isinstance(control.title, ft.Text) and isinstance(control.subtitle, ft.Text)
            lines.append(f"{control.title.value}: {control.subtitle.value}")
        else:
            assert isinstance(control, ft.Text)
            lines.append(str(control.value))
    return lines


def _open_group_info(tmp_path: Path) -> tuple[Cache, Store, GroupAdmin, list[str]]:
    """Group g1 of ME (a plain member) and BOB (its owner) with its info panel open; returns
    the work the panel started."""
    cache = Cache.open(tmp_path, ME)
    cache.upsert_conversation(conversation("g1", kind=ConversationType.PRIVATE_GROUP))
    cache.replace_members(
        "g1",
        [
            Member(user=user(ME), joined_at=T0),
            Member(user=user(BOB), role=MemberRole.OWNER, joined_at=T0),
        ],
    )
    store = Store(cache)

    async def caught_up() -> None:
        return None

    server = ServerActions(cache, store, cast(ConversationsApi, None), caught_up)
    row = cache.conversation("g1")
    assert row is not None
    started: list[str] = []
    admin = GroupAdmin(
        cast(ft.Page, DialogPage()),
        server,
        row,
        "Chat g1",
        lambda doing, work: started.append(doing),
        lambda text: None,
        lambda: None,
        lambda: None,
    )
    admin.open()
    return cache, store, admin, started


def test_open_group_info_follows_what_others_change(tmp_path: Path) -> None:
    cache, store, admin, started = _open_group_info(tmp_path)
    panel = admin.panel
    assert started == ["Loading the members"]
    assert _listed(panel) == ["2 members", "U-Bob: @u_bob · Owner", "You: @u_me · Member"]

    cache.upsert_users([user(CAROL)])
    cache.set_member("g1", CAROL, "member")
    cache.remove_member("g1", BOB)
    store.on_changed(Changes(frozenset({"c9"})))  # another conversation: nothing to show
    assert _listed(panel)[0] == "2 members"
    store.on_changed(Changes(frozenset({"g1"})))
    assert _listed(panel) == ["2 members", "You: @u_me · Member", "U-Carol: @u_carol · Member"]

    until = datetime.now(UTC) + timedelta(hours=1)
    cache.set_conversation_title("g1", "Book club")
    cache.set_conversation_locked("g1", True)
    cache.update_member("g1", ME, "admin", None)
    cache.update_member("g1", CAROL, "member", until)
    store.on_changed(Changes(frozenset({"g1"})))
    heading = panel.dialog.title
    assert isinstance(heading, ft.Text) and heading.value == "Book club"
    assert panel.title.value == "Book club" and panel.lock.value
    assert panel.rename_row in panel.content.controls  # an admin now: the tools show
    assert started[-1] == "Loading the bans"
    assert _listed(panel)[-1].startswith("U-Carol: @u_carol · Member · muted until")

    cache.remove_member("g1", CAROL)
    store.on_changed(Changes(frozenset({"g1"})))
    assert _listed(panel) == ["1 member", "You: @u_me · Admin"]

    panel.dialog.open = False  # closed: it stops following
    cache.set_member("g1", CAROL, "member")
    store.on_changed(Changes(frozenset({"g1"})))
    assert _listed(panel) == ["1 member", "You: @u_me · Admin"]


def test_open_group_info_closes_when_the_user_is_removed(tmp_path: Path) -> None:
    cache, store, admin, _ = _open_group_info(tmp_path)
    cache.remove_conversation("g1")
    store.on_changed(Changes(frozenset({"g1"})))
    assert not admin.panel.dialog.open


def test_the_chat_list_shows_how_long_a_mute_has_left(row: ChatRow) -> None:
    """The tile shows the time left ("24 h") beside the muted icon; a mute for good shows none."""
    now = datetime(2026, 1, 1, 12, tzinfo=UTC)
    muted = replace(row, is_muted=True)
    assert muted_left(replace(muted, muted_until=now + timedelta(days=1)), now) == "24 h"
    assert muted_left(replace(muted, muted_until=now + timedelta(minutes=19, seconds=5)), now) == (
        "20 min"
    )
    assert muted_left(replace(muted, muted_until=now + timedelta(days=6)), now) == "6 d"
    assert muted_left(replace(muted, muted_until=None), now) == ""
    assert muted_left(replace(muted, muted_until=now - timedelta(seconds=1)), now) is None
    assert muted_left(row, now) is None
    assert "Mute for 1 day" in MUTE_CHOICES
