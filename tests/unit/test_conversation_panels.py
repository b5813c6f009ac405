"""The chat list's panels without a page: conversation settings, new group, group info, error
sentences."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from client.errors import ForbiddenError, NetworkError, RateLimitedError, ValidationFailedError
from client.offline.cache import Cache
from client.offline.records import ChatRow, MemberRow
from client.views.conversation_settings import (
    MUTE_CHOICES,
    NOT_MUTED,
    ConversationSettingsPanel,
    SettingsHandlers,
)
from client.views.group_info import can_remove, sorted_members
from client.views.new_group import NewGroupDialog
from client.views.server_errors import explain
from protocol.models import User
from tests.unit.offline_fixtures import ME, conversation, user


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


def test_who_may_remove_whom() -> None:
    assert can_remove("owner", "admin") and can_remove("owner", "member")
    assert can_remove("admin", "member")
    assert not can_remove("admin", "admin") and not can_remove("admin", "owner")
    assert not can_remove("member", "member") and not can_remove("owner", "owner")
