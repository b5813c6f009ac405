"""Two browsers, two users, the real server and the real app: sign in, send and receive in real
time, typing indicator, ticks to seen, reactions both ways."""

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.conftest import start_server
from tests.support.api import PASSWORD, Account, register
from tests.support.live_server import LiveServer

from .conftest import OpenPage, StartApp
from .harness import fill, screenshot, type_into


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LiveServer]:
    """A real server on SQLite for one test."""
    yield from start_server(tmp_path / "server", "sqlite")


def sign_in(page: Page, account: Account) -> None:
    """Sign in through the form (the server address comes from the app's settings)."""
    fill(page, "Username", account.username)
    fill(page, "Password", PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def bubble(page: Page, text: str) -> Locator:
    """The bubble whose accessible name contains ``text``."""
    return page.get_by_role("group", name=re.compile(re.escape(text)))


def test_two_users_chat_in_real_time(
    server: LiveServer, start_app: StartApp, open_page: OpenPage, tmp_path: Path
) -> None:
    """Alice and Bob chat: delivery, typing, seen ticks and a reaction, across two browsers."""
    alice = register(server.url, "alice_e2e", "Alice Archer")
    bob = register(server.url, "bob_e2e", "Bob Baker")
    conversation = alice.direct_with(bob)
    assert alice.send(conversation, "Hi Bob, this chat already exists").status_code in (200, 201)
    app = start_app(
        "client.app:main",
        env={"OPENCHAT_SERVER_URL": server.url, "OPENCHAT_DATA_DIR": str(tmp_path / "clients")},
    )
    alice_page = open_page(app.url)
    bob_page = open_page(app.url)
    sign_in(alice_page, alice)
    sign_in(bob_page, bob)

    bob_tile = bob_page.get_by_role("button", name=re.compile("^Alice Archer"))
    expect(bob_tile).to_contain_text("1 unread message")
    screenshot(bob_page, "two-users-bob-list")
    screenshot(alice_page, "two-users-alice-list")
    alice_page.get_by_role("button", name=re.compile("^Bob Baker")).click()
    bob_tile.click()

    type_into(alice_page.get_by_label("Message", exact=True), "Are you there?")
    expect(bob_page.get_by_text("typing…", exact=True)).to_be_visible()
    screenshot(bob_page, "two-users-bob-typing")
    alice_page.keyboard.press("Enter")
    expect(bubble(bob_page, "Are you there?")).to_be_visible()
    expect(bubble(alice_page, "Are you there?")).to_have_accessible_name(re.compile("Seen$"))
    screenshot(alice_page, "two-users-alice-seen")

    bob_page.get_by_role("button", name="Message actions: Are you there?").click()
    bob_page.get_by_role("button", name=re.compile("^React with thumbs up")).click()
    expect(alice_page.get_by_role("button", name=re.compile("👍 1, add reaction"))).to_be_visible()
    screenshot(alice_page, "two-users-alice-reaction")


def test_offline_messages_are_delivered_once(
    server: LiveServer, start_app: StartApp, open_page: OpenPage, tmp_path: Path
) -> None:
    """Server stopped: three messages wait with clock ticks and the banner counts them; server
    started: each is delivered exactly once."""
    alice = register(server.url, "alice_off", "Alice Archer")
    bob = register(server.url, "bob_off", "Bob Baker")
    conversation = alice.direct_with(bob)
    assert bob.send(conversation, "Ping me when you are back").status_code in (200, 201)
    app = start_app(
        "client.app:main",
        env={"OPENCHAT_SERVER_URL": server.url, "OPENCHAT_DATA_DIR": str(tmp_path / "clients")},
    )
    page = open_page(app.url)
    sign_in(page, alice)
    page.get_by_role("button", name=re.compile("^Bob Baker")).click()
    expect(bubble(page, "Ping me when you are back")).to_be_visible()

    server.stop()
    expect(page.get_by_text(re.compile("^(Waiting for network|Connecting)…"))).to_be_visible()
    texts = ["offline one", "offline two", "offline three"]
    for text in texts:
        type_into(page.get_by_label("Message", exact=True), text)
        page.keyboard.press("Enter")
        expect(bubble(page, text)).to_have_accessible_name(re.compile("Sending$"))
    expect(page.get_by_text(re.compile("3 messages waiting to be sent"))).to_be_visible()
    screenshot(page, "offline-queued")

    server.start()
    for text in texts:
        expect(bubble(page, text)).not_to_have_accessible_name(re.compile("Sending$"))
    expect(page.get_by_text(re.compile("waiting to be sent"))).to_have_count(0)
    screenshot(page, "offline-delivered")
    response = bob.get(f"/conversations/{conversation}/messages", params={"limit": 100})
    assert response.status_code == 200, response.text
    stored = [m["text"] for m in response.json()["items"]]
    assert [stored.count(text) for text in texts] == [1, 1, 1]
