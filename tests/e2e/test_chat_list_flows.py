"""The chat list's flows against the real server and app: new chat and new group, the
conversation settings panel (mute label, archive section), reporting, @mention autocomplete."""

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.conftest import start_server
from tests.support.api import Account, register
from tests.support.live_server import LiveServer

from .conftest import OpenPage, StartApp
from .harness import DESKTOP, PHONE, TYPING_DELAY_MS, fill, focus, screenshot
from .test_two_users import bubble, sign_in


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LiveServer]:
    """A real server on SQLite for one test."""
    yield from start_server(tmp_path / "server", "sqlite")


@pytest.fixture
def app_url(server: LiveServer, start_app: StartApp, tmp_path: Path) -> str:
    """The real app, pointed at ``server``."""
    env = {"OPENCHAT_SERVER_URL": server.url, "OPENCHAT_DATA_DIR": str(tmp_path / "clients")}
    return start_app("client.app:main", env=env).url


def tile(page: Page, title: str) -> Locator:
    """The chat-list tile whose name starts with ``title``."""
    return page.get_by_role("button", name=re.compile(f"^{re.escape(title)}"))


def member_action(page: Page, name: str, action: str) -> None:
    """Open the group info's "Actions for <name>" menu and choose ``action``."""
    page.get_by_role("button", name=f"Actions for {name}").click()
    page.get_by_role("menuitem", name=action).click()


def snack_bar(page: Page, text: str) -> Locator:
    """The snack bar saying ``text`` (not its screen-reader announcement)."""
    return page.locator("flt-semantics").get_by_text(text, exact=True)


def test_new_chat_and_new_group(server: LiveServer, app_url: str, open_page: OpenPage) -> None:
    """Find Bob and open a chat with him; then create a group with Carol."""
    alice = register(server.url, "alice_new", "Alice Archer")
    register(server.url, "bob_new", "Bob Baker")
    carol = register(server.url, "carol_new", "Carol Chen")
    page = open_page(app_url, DESKTOP)
    sign_in(page, alice)
    expect(page.get_by_text("No chats yet. Start one with the new chat button.")).to_be_visible()

    page.get_by_role("button", name="New chat").click()
    fill(page, "Find people by name or username", "bob")
    bob = page.get_by_role("button", name=re.compile("^Bob Baker @bob_new"))
    expect(bob).to_be_visible()
    screenshot(page, "flows-new-chat-dialog")
    bob.click()
    expect(page.get_by_role("button", name="Chat settings")).to_be_visible()
    expect(tile(page, "Bob Baker")).to_be_visible()

    page.get_by_role("button", name="New chat").click()
    fill(page, "Find people by name or username", "nobody_here")
    expect(page.get_by_text("No results")).to_be_visible()
    page.get_by_role("button", name="New group").click()
    fill(page, "Group name", "Book club")
    fill(page, "Find people by name or username", "carol")
    page.get_by_role("button", name=re.compile("^Carol Chen @carol_new")).click()
    expect(page.get_by_role("button", name="Remove Carol Chen (@carol_new)")).to_be_visible()
    screenshot(page, "flows-new-group-dialog")
    page.get_by_role("button", name="Create group").click()
    expect(snack_bar(page, "Group “Book club” created")).to_be_visible()
    expect(tile(page, "Book club")).to_be_visible()
    expect(page.get_by_text("2 members")).to_be_visible()
    page.get_by_role("button", name="Group info").click()
    expect(page.get_by_role("group", name="Carol Chen @carol_new · Member")).to_be_visible()
    screenshot(page, "flows-group-info")

    groups = carol.get("/conversations").json()["items"]
    assert [(g["title"], g["my_role"]) for g in groups] == [("Book club", "member")]


def _direct_with_message(server: LiveServer) -> tuple[Account, str]:
    alice = register(server.url, "alice_set", "Alice Archer")
    bob = register(server.url, "bob_set", "Bob Baker")
    conversation = alice.direct_with(bob)
    assert bob.send(conversation, "Cheap watches here").status_code == 201
    return alice, conversation


def test_mute_archive_and_report_on_a_phone(
    server: LiveServer, app_url: str, open_page: OpenPage
) -> None:
    """The settings panel mutes for a day (the tile shows the time left: 24 h) and archives the
    chat into the "Archived (1)" section; Bob's message is reported with a reason."""
    alice, _ = _direct_with_message(server)
    page = open_page(app_url, PHONE, color_scheme="dark")
    sign_in(page, alice)
    tile(page, "Bob Baker").click()
    expect(bubble(page, "Cheap watches here")).to_be_visible()

    page.get_by_role("button", name="Message actions: Cheap watches here").click()
    page.get_by_text("Report", exact=True).click()
    page.get_by_role("radio", name="Spam").click()
    screenshot(page, "flows-report-dialog-phone-dark")
    page.get_by_role("button", name="Send report").click()
    expect(snack_bar(page, "Thanks. The moderators will review this message.")).to_be_visible()

    page.get_by_role("button", name="Chat settings").click()
    page.get_by_role("radio", name="Mute for 1 day").click()
    expect(page.get_by_text("Muted for 24 h")).to_be_visible()
    screenshot(page, "flows-settings-phone-dark")
    page.get_by_role("switch", name="Archive").click()
    page.get_by_role("button", name="Close").click()
    expect(page.get_by_role("switch", name="Archive")).to_have_count(0)
    page.get_by_role("button", name="Back to chats").click()

    archived = page.get_by_role("button", name="Archived (1)")
    expect(archived).to_be_visible()
    expect(tile(page, "Bob Baker")).to_have_count(0)
    screenshot(page, "flows-archived-entry-phone-dark")
    archived.click()
    expect(tile(page, "Bob Baker Muted for 24 h")).to_be_visible()
    screenshot(page, "flows-archive-phone-dark")
    page.get_by_role("button", name="Close the archive").click()
    expect(page.get_by_role("button", name="Archived (1)")).to_be_visible()


def test_mention_autocomplete(server: LiveServer, app_url: str, open_page: OpenPage) -> None:
    """``@`` lists the group's members; arrows and Enter insert one; Esc closes the list."""
    alice = register(server.url, "alice_men", "Alice Archer")
    bob = register(server.url, "bob_men", "Bob Baker")
    carol = register(server.url, "carol_men", "Carol Chen")
    response = alice.post(
        "/conversations",
        json={
            "type": "private_group",
            "title": "Plans",
            "member_ids": [bob.user_id, carol.user_id],
        },
    )
    assert response.status_code == 201, response.text
    page = open_page(app_url, DESKTOP, color_scheme="dark")
    sign_in(page, alice)
    tile(page, "Plans").click()

    focus(page.get_by_label("Message", exact=True))
    page.keyboard.type("hi @", delay=TYPING_DELAY_MS)
    expect(page.get_by_role("button", name=re.compile("^Bob Baker @bob_men"))).to_be_visible()
    expect(page.get_by_role("button", name=re.compile("^Carol Chen @carol_men"))).to_be_visible()
    screenshot(page, "flows-mentions-desktop-dark")
    page.keyboard.press("Escape")
    expect(page.get_by_role("button", name=re.compile("^Bob Baker @bob_men"))).to_have_count(0)

    page.keyboard.type("c", delay=TYPING_DELAY_MS)
    expect(page.get_by_role("button", name=re.compile("^Carol Chen @carol_men"))).to_be_visible()
    expect(page.get_by_role("button", name=re.compile("^Bob Baker @bob_men"))).to_have_count(0)
    page.keyboard.press("Enter")
    expect(tile(page, "Plans")).to_contain_text("Draft: hi @carol_men")
    expect(page.get_by_role("button", name=re.compile("^Carol Chen @carol_men"))).to_have_count(0)


def test_group_admin_panel(server: LiveServer, app_url: str, open_page: OpenPage) -> None:
    """The owner renames the group, adds Bob, makes him an admin, removes Carol and leaves."""
    alice = register(server.url, "alice_adm", "Alice Archer")
    bob = register(server.url, "bob_adm", "Bob Baker")
    carol = register(server.url, "carol_adm", "Carol Chen")
    group = {"type": "private_group", "title": "Team", "member_ids": [carol.user_id]}
    response = alice.post("/conversations", json=group)
    assert response.status_code == 201, response.text
    group_id = response.json()["id"]
    page = open_page(app_url, DESKTOP)
    sign_in(page, alice)
    tile(page, "Team").click()
    page.get_by_role("button", name="Group info").click()
    expect(page.get_by_role("group", name="Carol Chen @carol_adm · Member")).to_be_visible()

    fill(page, "Group name", "Dream team")
    page.get_by_role("button", name="Rename").click()
    expect(page.get_by_role("alertdialog").get_by_text("Dream team", exact=True)).to_be_visible()
    fill(page, "Add people by name or username", "bob_adm")
    page.get_by_role("button", name=re.compile("^Bob Baker @bob_adm")).click()
    expect(
        page.get_by_role("group", name=re.compile("Bob Baker @bob_adm · Member"))
    ).to_be_visible()
    expect(page.get_by_label("Add people by name or username")).to_have_value("")
    expect(page.get_by_role("button", name=re.compile("^Bob Baker @bob_adm"))).to_have_count(0)
    member_action(page, "Bob Baker", "Make admin")
    expect(page.get_by_role("group", name=re.compile("Bob Baker @bob_adm · Admin"))).to_be_visible()
    member_action(page, "Carol Chen", "Remove from group")
    expect(page.get_by_text("2 members")).to_be_visible()
    screenshot(page, "flows-group-admin")
    assert bob.get(f"/conversations/{group_id}").json()["title"] == "Dream team"

    members = bob.get(f"/conversations/{group_id}/members").json()["items"]
    assert {m["user"]["username"]: m["role"] for m in members} == {
        "alice_adm": "owner",
        "bob_adm": "admin",
    }
    page.get_by_role("button", name="Leave group").click()
    page.get_by_role("button", name="Leave", exact=True).click()
    expect(snack_bar(page, "You left the group")).to_be_visible()
    expect(tile(page, "Dream team")).to_have_count(0)
    members = bob.get(f"/conversations/{group_id}/members").json()["items"]
    assert {m["user"]["username"]: m["role"] for m in members} == {"bob_adm": "owner"}


def test_group_moderation_between_two_users(
    server: LiveServer, app_url: str, open_page: OpenPage
) -> None:
    """The owner (wide, light) sees when Bob read a message, mutes and unmutes him, locks the
    group and bans him (the header then counts one member); Bob (phone, dark) sees his mute in
    the group info he has open, why he cannot post, then loses the chat."""
    alice = register(server.url, "alice_mod", "Alice Archer")
    bob = register(server.url, "bob_mod", "Bob Baker")
    response = alice.post(
        "/conversations",
        json={"type": "private_group", "title": "Crew", "member_ids": [bob.user_id]},
    )
    assert response.status_code == 201, response.text
    group_id = response.json()["id"]
    assert alice.send(group_id, "Welcome aboard").status_code == 201
    owner = open_page(app_url, DESKTOP)
    member = open_page(app_url, PHONE, color_scheme="dark")
    sign_in(owner, alice)
    sign_in(member, bob)

    tile(member, "Crew").click()
    expect(bubble(member, "Welcome aboard")).to_be_visible()
    member.get_by_role("button", name="Message actions: Welcome aboard").click()
    expect(member.get_by_role("button", name="Reply")).to_be_visible()
    member.keyboard.press("Escape")
    expect(member.get_by_role("button", name="Reply")).to_have_count(0)
    composer = member.get_by_label("Message", exact=True)
    expect(composer).to_be_visible()  # Esc closed the menu, not the chat behind it
    member.get_by_role("button", name="Group info").click()
    expect(
        member.get_by_role("group", name=re.compile("Alice Archer @alice_mod · Owner"))
    ).to_be_visible()
    expect(member.get_by_role("button", name=re.compile("^Actions for"))).to_have_count(0)
    screenshot(member, "moderation-member-group-info-phone-dark")
    member.get_by_role("button", name="Close").click()

    tile(owner, "Crew").click()
    expect(owner.get_by_text("2 members", exact=True)).to_be_visible()
    owner.get_by_role("button", name="Message actions: Welcome aboard").click()
    owner.get_by_role("button", name="Info").click()
    info = owner.get_by_role("alertdialog")
    expect(info).to_contain_text(re.compile(r"Bob Baker\s*Seen \d\d:\d\d"))
    screenshot(owner, "moderation-message-info")
    info.get_by_role("button", name="Close").click()

    owner.get_by_role("button", name="Group info").click()
    member.get_by_role("button", name="Group info").click()  # open while the owner mutes him
    member_action(owner, "Bob Baker", "Mute for 1 hour")
    expect(owner.get_by_role("group", name=re.compile("Member · muted until"))).to_be_visible()
    expect(
        member.get_by_role("group", name=re.compile("You @bob_mod · Member · muted until"))
    ).to_be_visible()
    member.get_by_role("button", name="Close").click()
    notice = member.get_by_text(re.compile("^An admin muted you until"))
    expect(notice).to_be_visible()
    expect(composer).to_have_count(0)
    screenshot(member, "moderation-muted-phone-dark")
    member_action(owner, "Bob Baker", "Unmute")
    expect(composer).to_be_visible()
    until = (datetime.now(UTC) + timedelta(seconds=10)).isoformat()
    mute = alice.post(
        f"/conversations/{group_id}/members/{bob.user_id}/mute", json={"until": until}
    )
    assert mute.status_code == 200, mute.text
    expect(notice).to_be_visible()
    expect(composer).to_be_visible()  # the mute ended by itself

    owner.get_by_role("switch", name="Only admins can send messages").click()
    expect(member.get_by_text(re.compile("^This group is locked"))).to_be_visible()
    expect(composer).to_have_count(0)
    screenshot(member, "moderation-locked-phone-dark")
    owner.get_by_role("switch", name="Only admins can send messages").click()
    expect(composer).to_be_visible()

    member_action(owner, "Bob Baker", "Ban for 1 day")
    owner.get_by_role("button", name="Ban", exact=True).click()
    unban = owner.get_by_role("button", name="Unban Bob Baker")
    expect(unban).to_be_visible()
    expect(owner.get_by_text("1 member", exact=True)).to_be_visible()
    screenshot(owner, "moderation-banned")
    expect(tile(member, "Crew")).to_have_count(0)
    expect(composer).to_have_count(0)
    assert bob.get(f"/conversations/{group_id}").status_code == 403
    unban.click()
    expect(unban).to_have_count(0)
    assert alice.get(f"/conversations/{group_id}/bans").json()["items"] == []
    owner.get_by_role("button", name="Close").click()
    expect(owner.get_by_role("alertdialog")).to_have_count(0)
    expect(owner.get_by_text("1 member", exact=True)).to_be_visible()  # the chat header
    screenshot(owner, "moderation-after-ban")


def test_the_audit_log_after_a_mute_and_a_pin(
    server: LiveServer, app_url: str, open_page: OpenPage
) -> None:
    """The owner mutes Bob from the member menu; Bob's message was pinned by Carol, an admin;
    the owner's audit log lists both, newest first, in words."""
    alice = register(server.url, "alice_log", "Alice Archer")
    bob = register(server.url, "bob_log", "Bob Baker")
    carol = register(server.url, "carol_log", "Carol Chen")
    group = {
        "type": "private_group",
        "title": "Logbook",
        "member_ids": [bob.user_id, carol.user_id],
    }
    group_id = alice.post("/conversations", json=group).json()["id"]
    role = {"role": "admin"}
    assert alice.patch(
        f"/conversations/{group_id}/members/{carol.user_id}/role", json=role
    ).is_success
    message_id = bob.send(group_id, "Pin this one").json()["id"]
    assert carol.post(f"/conversations/{group_id}/messages/{message_id}/pin").is_success
    page = open_page(app_url, DESKTOP)
    sign_in(page, alice)
    tile(page, "Logbook").click()
    page.get_by_role("button", name="Group info").click()
    member_action(page, "Bob Baker", "Mute for 1 hour")
    expect(
        page.get_by_role("group", name=re.compile("Bob Baker @bob_log · Member · muted"))
    ).to_be_visible()

    page.get_by_role("button", name="Audit log").click()
    entries = [
        page.get_by_role("group", name=re.compile(name))
        for name in (
            "^You muted Bob Baker until .*, ",
            "^Carol Chen pinned a message by Bob Baker, ",
            "^You made Carol Chen an admin, ",
        )
    ]
    for entry in entries:
        expect(entry).to_be_visible()
    tops = [entry.bounding_box() for entry in entries]
    assert all(box is not None for box in tops)
    assert [box["y"] for box in tops if box] == sorted(box["y"] for box in tops if box), (
        "newest first"
    )
    screenshot(page, "flows-audit-log")
    page.get_by_role("button", name="Close").last.click()
    expect(entries[0]).to_have_count(0)
