"""Two browsers, two users, one real server for the whole module: edit with history, delete,
forward, the pinned banner, search, and the chat list's badges and ordering.

Alice and Bob stay signed in across the tests (signing in is the slow part); each test works in
its own messages, and Carol only talks through the REST API.
"""

import contextlib
import re
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from tests.conftest import start_server
from tests.support.api import Account, register

from .harness import FletServer, open_app, screenshot, type_into
from .test_two_users import bubble, sign_in

FILLER_MESSAGES = 60
"""Messages sent after a search target: more than a page, so it is far out of view."""


@dataclass(frozen=True)
class World:
    """The module's server, accounts, conversations and signed-in pages."""

    alice: Account
    bob: Account
    carol: Account
    alice_bob: str
    alice_carol: str
    alice_page: Page
    bob_page: Page


@pytest.fixture(scope="module")
def world(browser: Browser, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """A server on SQLite (the send rate limit raised for the fillers), Alice, Bob and Carol, and
    the app signed in as Alice and as Bob."""
    root = tmp_path_factory.mktemp("message-actions")
    with contextlib.ExitStack() as stack:
        running = contextlib.contextmanager(start_server)(
            root / "server", "sqlite", env={"OPENCHAT_MESSAGES_PER_MINUTE": "1000"}
        )
        server = stack.enter_context(running)
        alice = register(server.url, "alice_act", "Alice Archer")
        bob = register(server.url, "bob_act", "Bob Baker")
        carol = register(server.url, "carol_act", "Carol Chen")
        alice_bob = alice.direct_with(bob)
        alice_carol = alice.direct_with(carol)
        _send(bob, alice_bob, "Hello Alice")
        _send(carol, alice_carol, "Hi from Carol")
        env = {"OPENCHAT_SERVER_URL": server.url, "OPENCHAT_DATA_DIR": str(root / "clients")}
        app = FletServer("client.app:main", env).start()
        stack.callback(app.stop)
        pages: list[Page] = []
        for account in (alice, bob):
            page = open_app(browser, app.url)
            stack.callback(page.context.close)
            sign_in(page, account)
            pages.append(page)
        yield World(alice, bob, carol, alice_bob, alice_carol, pages[0], pages[1])


def _send(account: Account, conversation_id: str, text: str) -> None:
    response = account.send(conversation_id, text)
    assert response.status_code in (200, 201), response.text


def tile(page: Page, title: str) -> Locator:
    """The chat-list tile of the chat named ``title``."""
    return page.get_by_role("button", name=re.compile(f"^{re.escape(title)}"))


def open_chat(page: Page, title: str, attempts: int = 3) -> None:
    """Open a chat from the list and wait until its tile is the selected one (the list
    re-renders as messages arrive: a click on a tile being replaced can be lost, so it is
    clicked again)."""
    for attempt in range(attempts):
        tile(page, title).click()
        try:
            expect(tile(page, title)).to_have_attribute("aria-current", "true", timeout=10_000)
            expect(page.get_by_label("Message", exact=True)).to_be_visible()
            return
        except AssertionError:
            if attempt == attempts - 1:
                raise


def send(page: Page, text: str) -> None:
    """Type ``text`` into the open chat's composer and press Enter."""
    type_into(page.get_by_label("Message", exact=True), text)
    expect(page.get_by_role("button", name="Send")).to_be_enabled()  # the app has the text
    page.keyboard.press("Enter")
    expect(bubble(page, text)).to_be_visible()


def message_action(page: Page, text: str, action: str) -> None:
    """Open the action menu of the bubble with ``text`` and choose ``action``."""
    page.get_by_role("button", name=f"Message actions: {text}").click()
    page.get_by_text(action, exact=True).click()


def search_and_choose(page: Page, query: str, hit_text: str, shot: str) -> None:
    """Search every chat for ``query`` from the chat list, screenshot the results as ``shot``
    and choose the hit showing ``hit_text``."""
    type_into(page.get_by_label("Search chats and messages", exact=True), query)
    page.keyboard.press("Enter")
    expect(page.get_by_text("Search all chats")).to_be_visible()
    hit = page.get_by_text(re.compile(re.escape(hit_text)))
    expect(hit).to_be_visible()
    screenshot(page, shot)
    hit.click()
    expect(page.get_by_text("Search all chats")).to_have_count(0)


def wait_until(condition: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    """Poll ``condition`` until it holds (the page updates asynchronously)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting until {what}")
        time.sleep(0.2)


def above(page: Page, upper: str, lower: str) -> bool:
    """True when the tile of chat ``upper`` is above the tile of chat ``lower`` right now."""
    first, second = tile(page, upper).bounding_box(), tile(page, lower).bounding_box()
    return first is not None and second is not None and first["y"] < second["y"]


def test_edit_shows_history_and_delete_leaves_a_placeholder(world: World) -> None:
    """Alice edits a message: Bob sees the new text, "edited", and the old text in its history;
    Alice deletes it: Bob sees "This message was deleted"."""
    alice, bob = world.alice_page, world.bob_page
    open_chat(alice, "Bob Baker")
    open_chat(bob, "Alice Archer")
    send(alice, "Lunch at noon?")
    expect(bubble(bob, "Lunch at noon?")).to_be_visible()

    message_action(alice, "Lunch at noon?", "Edit")
    expect(alice.get_by_text("Editing message")).to_be_visible()
    type_into(alice.get_by_label("Message", exact=True), "Lunch at one?")
    alice.keyboard.press("Enter")
    expect(bubble(bob, "Lunch at one?")).to_be_visible()
    bob.get_by_role("button", name="Show edit history edited").click()
    expect(bob.get_by_text("Edit history", exact=True)).to_be_visible()
    expect(bob.get_by_text(re.compile(r"^Lunch at noon\?"))).to_be_visible()
    screenshot(bob, "actions-edit-history")
    bob.get_by_role("button", name="Close", exact=True).click()
    expect(bob.get_by_text("Edit history", exact=True)).to_have_count(0)

    message_action(alice, "Lunch at one?", "Delete")
    alice.get_by_role("button", name="Delete", exact=True).click()
    expect(bubble(bob, "This message was deleted")).to_be_visible()
    expect(bubble(bob, "Lunch at one?")).to_have_count(0)
    screenshot(bob, "actions-deleted")


def test_pinned_messages_show_a_banner_to_the_other_user(world: World) -> None:
    """Alice pins a message: Bob's chat header shows the pinned banner with its text. She pins
    a second: the banner shows it as "2 of 2", her menu offers "Unpin" on both, and Bob's click
    goes to the shown pin and moves the banner to the older one, then round again."""
    alice, bob = world.alice_page, world.bob_page
    plan, tickets = "Plan: meet at the station at six", "Tickets: platform four"
    open_chat(alice, "Bob Baker")
    open_chat(bob, "Alice Archer")
    send(alice, plan)
    message_action(alice, plan, "Pin")
    banner = bob.get_by_role("button", name=re.compile("^Go to the pinned message"))
    expect(banner).to_contain_text(f"Pinned: {plan}")
    screenshot(bob, "actions-pinned-banner")

    send(alice, tickets)
    message_action(alice, tickets, "Pin")
    expect(banner).to_contain_text(f"Pinned message 2 of 2: {tickets}")
    alice.get_by_role("button", name=f"Message actions: {plan}").click()
    expect(alice.get_by_text("Unpin", exact=True)).to_be_visible()
    expect(alice.get_by_text("Pin", exact=True)).to_have_count(0)
    alice.keyboard.press("Escape")
    expect(alice.get_by_text("Unpin", exact=True)).to_have_count(0)

    banner.click()
    expect(banner).to_contain_text(f"Pinned message 1 of 2: {plan}")
    screenshot(bob, "actions-pinned-banner-older")
    banner.click()
    expect(banner).to_contain_text(f"Pinned message 2 of 2: {tickets}")


def test_forward_to_another_chat(world: World) -> None:
    """Alice forwards Bob's message to Carol: the copy says whom it came from, and the composer
    takes keys again once the menu and the dialog are gone."""
    alice, bob = world.alice_page, world.bob_page
    open_chat(alice, "Bob Baker")
    open_chat(bob, "Alice Archer")
    send(bob, "Recipe: two eggs, one cup of flour")
    message_action(alice, "Recipe: two eggs, one cup of flour", "Forward")
    expect(alice.get_by_text("Forward to…")).to_be_visible()
    alice.get_by_role("checkbox", name="Carol Chen").click()
    expect(alice.get_by_text("1 of 5 chosen")).to_be_visible()
    screenshot(alice, "actions-forward-dialog")
    alice.get_by_role("button", name="Forward", exact=True).click()
    expect(alice.get_by_text("Forwarded to 1 chat").first).to_be_visible()

    open_chat(alice, "Carol Chen")
    copy = bubble(alice, "Forwarded from Bob Baker")
    expect(copy).to_contain_text("Recipe: two eggs, one cup of flour")
    screenshot(alice, "actions-forwarded")
    send(alice, "Forwarded you the recipe")  # every dialog and menu is closed: the composer works
    response = world.carol.get(f"/conversations/{world.alice_carol}/messages")
    assert response.status_code == 200, response.text
    forwarded = [m for m in response.json()["items"] if m.get("forwarded_from")]
    assert [m["text"] for m in forwarded] == ["Recipe: two eggs, one cup of flour"]


def test_search_finds_a_message_and_opens_its_chat(world: World) -> None:
    """Search lists matching messages with their chat, even one with many newer messages after
    it; choosing one opens that chat at the message."""
    alice = world.alice_page
    word = f"zebra{uuid.uuid4().hex[:6]}"
    open_chat(alice, "Carol Chen")
    _send(world.bob, world.alice_bob, f"The {word} crossing is on Elm Street")
    for number in range(1, FILLER_MESSAGES + 1):
        _send(world.bob, world.alice_bob, f"Later note {number}")
    expect(tile(alice, "Bob Baker")).to_contain_text(f"Later note {FILLER_MESSAGES}")

    search_and_choose(alice, word, "crossing is on Elm Street", "search-results")
    expect(tile(alice, "Bob Baker")).to_have_attribute("aria-current", "true")
    expect(bubble(alice, f"The {word} crossing is on Elm Street")).to_be_in_viewport()
    screenshot(alice, "search-opened")


def test_chat_list_badges_and_ordering(world: World) -> None:
    """A new message moves its chat to the top and counts up its badge; opening the chat clears
    the badge; a pinned chat stays on top."""
    alice = world.alice_page
    open_chat(alice, "Carol Chen")  # read what Carol sent before
    open_chat(alice, "Bob Baker")
    _send(world.carol, world.alice_carol, "Are you coming tonight?")
    _send(world.carol, world.alice_carol, "Let me know")
    carol_tile = tile(alice, "Carol Chen")
    expect(carol_tile).to_contain_text("2 unread messages")
    wait_until(lambda: above(alice, "Carol Chen", "Bob Baker"), "Carol is first")
    screenshot(alice, "list-unread-carol-first")

    open_chat(alice, "Carol Chen")
    expect(carol_tile).not_to_contain_text("unread")
    _send(world.bob, world.alice_bob, "Ping from Bob")
    expect(tile(alice, "Bob Baker")).to_contain_text("1 unread message")
    wait_until(lambda: above(alice, "Bob Baker", "Carol Chen"), "Bob is first")

    response = world.alice.post(f"/conversations/{world.alice_carol}/pin")
    assert response.status_code == 200, response.text
    expect(tile(alice, "Carol Chen Pinned")).to_be_visible()
    wait_until(lambda: above(alice, "Carol Chen", "Bob Baker"), "the pinned chat is first")
    _send(world.bob, world.alice_bob, "Another ping")
    expect(tile(alice, "Bob Baker")).to_contain_text("2 unread messages")
    wait_until(lambda: above(alice, "Carol Chen", "Bob Baker"), "the pinned chat stays first")
    screenshot(alice, "list-pinned-stays-on-top")
