"""Jumping to a message far back in a long chat, in two browsers: the pinned banner, a reply
quote and a search hit each bring their message into view (highlighted), and paging on from
there reaches the newest messages again.

The chat holds ``HISTORY`` messages. Alice is signed in while they are sent, so her device
caches every one of them, but a chat opens with one page of the newest. Bob signs in only
afterwards: a new device caches just the recent messages of each chat, so an old message is
found only by the server's search, and jumping to it fetches its part of the history.
"""

import contextlib
import re
import sqlite3
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.conftest import start_server
from tests.support.api import Account, register

from .harness import DESKTOP, FletServer, open_app, screenshot, type_into
from .test_message_actions import open_chat, search_and_choose, tile
from .test_two_users import bubble, sign_in

WHEEL_PIXELS = 400
MAX_WHEEL_STEPS = 300
HISTORY = 160
"""Messages in the chat: more than three pages of the list, and more than a new device caches."""
PINNED = "Pinned plan: the ferry leaves at nine"
QUESTION = "Question: who brings the tent?"
ANSWER = "Answer: I bring the tent"
KAYAK = "Kayak rental closes at noon"
PINNED_SEQ, QUESTION_SEQ, KAYAK_SEQ, SEARCHED_SEQ, ANSWER_SEQ = 10, 20, 40, 70, 151


@dataclass(frozen=True)
class World:
    """The server's accounts, the chat, the word only an old message holds, Alice's page and
    the app's address (Bob's devices sign in later, each in a test of its own)."""

    alice: Account
    bob: Account
    chat: str
    word: str
    clients: Path
    alice_page: Page
    app_url: str


def filler(seq: int) -> str:
    """The text of an ordinary message of the chat."""
    return f"Note number {seq}"


@pytest.fixture(scope="module")
def world(browser: Browser, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """Alice signed in, then the long chat sent through the API."""
    root = tmp_path_factory.mktemp("jump")
    word = f"walrus{uuid.uuid4().hex[:6]}"
    with contextlib.ExitStack() as stack:
        running = contextlib.contextmanager(start_server)(
            root / "server", "sqlite", env={"OPENCHAT_MESSAGES_PER_MINUTE": "1000"}
        )
        server = stack.enter_context(running)
        alice = register(server.url, "alice_jump", "Alice Archer")
        bob = register(server.url, "bob_jump", "Bob Baker")
        chat = alice.direct_with(bob)
        clients = root / "clients"
        env = {"OPENCHAT_SERVER_URL": server.url, "OPENCHAT_DATA_DIR": str(clients)}
        app = FletServer("client.app:main", env).start()
        stack.callback(app.stop)
        alice_page = open_app(browser, app.url)
        stack.callback(alice_page.context.close)
        sign_in(alice_page, alice)
        ids = _seed(alice, bob, chat, word, alice_page)
        response = bob.post(f"/conversations/{chat}/messages/{ids[PINNED_SEQ]}/pin")
        assert response.status_code in (200, 204), response.text
        expect(tile(alice_page, "Bob Baker")).to_contain_text(filler(HISTORY))
        yield World(alice, bob, chat, word, clients, alice_page, app.url)


def _seed(alice: Account, bob: Account, chat: str, word: str, alice_page: Page) -> dict[int, str]:
    """Send the chat's ``HISTORY`` messages; returns their ids by seq. Once the first one
    reached Alice's device (its first snapshot is loaded) the others come to it as events."""
    special = {
        PINNED_SEQ: (bob, PINNED),
        QUESTION_SEQ: (alice, QUESTION),
        KAYAK_SEQ: (bob, KAYAK),
        SEARCHED_SEQ: (alice, f"The {word} was seen at the pier"),
    }
    ids: dict[int, str] = {}
    for seq in range(1, HISTORY + 1):
        sender, text = special.get(seq, (bob if seq % 2 else alice, filler(seq)))
        extra = {"reply_to_id": ids[QUESTION_SEQ]} if seq == ANSWER_SEQ else {}
        if seq == ANSWER_SEQ:
            sender, text = bob, ANSWER
        response = sender.send(chat, text, **extra)
        assert response.status_code == 201, response.text
        assert response.json()["seq"] == seq
        ids[seq] = response.json()["id"]
        if seq == 1:
            expect(tile(alice_page, "Bob Baker")).to_contain_text(text)
    return ids


def cached_texts(device: Path, account: Account) -> set[str]:
    """The message texts one account has cached on one device (a browser profile's folder)."""
    path = device / "accounts" / account.user_id / "cache.sqlite3"
    with contextlib.closing(sqlite3.connect(path)) as db:
        return {row[0] for row in db.execute("SELECT text FROM messages") if row[0]}


def wheel_until(page: Page, text: str, direction: int) -> None:
    """Turn the mouse wheel over the message list (``direction`` -1: older, 1: newer) until
    the bubble with ``text`` is in view; fails after ``MAX_WHEEL_STEPS``."""
    page.mouse.move(DESKTOP["width"] * 0.65, DESKTOP["height"] * 0.5)
    target = bubble(page, text)
    for _ in range(MAX_WHEEL_STEPS):
        page.mouse.wheel(0, direction * WHEEL_PIXELS)
        page.wait_for_timeout(100)  # one wheel step at a time, as a reader would
        box = target.bounding_box() if target.count() > 0 else None
        if box is not None and box["y"] >= 0 and box["y"] + box["height"] <= DESKTOP["height"]:
            return
    raise AssertionError(f"{text!r} never came into view")


def back_to_newest(page: Page) -> None:
    """The scroll-to-bottom button returns to the newest message."""
    page.get_by_role("button", name=re.compile("^Scroll to the newest messages")).click()
    expect(bubble(page, filler(HISTORY))).to_be_in_viewport()


def test_pinned_banner_jumps_to_the_pinned_message(world: World) -> None:
    """The pinned message is 150 messages back: the banner brings it into view, and the
    scroll-to-bottom button leads back to the newest."""
    alice = world.alice_page
    open_chat(alice, "Bob Baker")
    expect(bubble(alice, filler(HISTORY))).to_be_in_viewport()
    expect(bubble(alice, PINNED)).to_have_count(0)
    banner = alice.get_by_role("button", name=re.compile("^Go to the pinned message"))
    expect(banner).to_contain_text(PINNED)
    banner.click()
    expect(bubble(alice, PINNED)).to_be_in_viewport()
    screenshot(alice, "jump-pinned")
    back_to_newest(alice)


def test_reply_quote_jumps_to_the_original(world: World) -> None:
    """The quote in Bob's answer brings Alice's question, 130 messages back, into view."""
    alice = world.alice_page
    open_chat(alice, "Bob Baker")
    answer = bubble(alice, ANSWER)
    expect(answer).to_be_visible()
    answer.scroll_into_view_if_needed()
    alice.get_by_role("button", name="Go to the message from You").click()
    expect(bubble(alice, QUESTION)).to_be_in_viewport()
    screenshot(alice, "jump-reply-quote")
    back_to_newest(alice)


def test_search_in_one_chat_lists_each_message_once(world: World) -> None:
    """Searching in the open chat: Alice's device and the server both find the old message; it
    is listed once, and choosing it brings it into view."""
    alice = world.alice_page
    open_chat(alice, "Bob Baker")
    alice.get_by_role("button", name="Search in this chat").click()
    expect(alice.get_by_text("Search in Bob Baker")).to_be_visible()
    type_into(alice.get_by_label("Search messages", exact=True), "kayak")
    alice.keyboard.press("Enter")
    hit = alice.get_by_text(re.compile("rental closes at noon"))
    expect(hit).to_be_visible()
    expect(alice.get_by_label("Searching the server")).to_have_count(0)  # the server answered
    expect(hit).to_have_count(1)
    screenshot(alice, "jump-search-in-chat")
    hit.click()
    expect(alice.get_by_text("Search in Bob Baker")).to_have_count(0)
    expect(bubble(alice, KAYAK)).to_be_in_viewport()
    back_to_newest(alice)


def test_search_hit_found_only_on_the_server_opens_in_context(
    world: World, browser: Browser
) -> None:
    """Bob's new device does not hold the old message: the server's search finds it, and
    choosing it loads its part of the history and shows it. Paging from there fetches what
    the device still lacks: older down to the first message, newer across the hole up to the
    recent messages it cached at sign-in. (A device of this test's own: a rerun starts from
    what a new device caches, not from what the first attempt fetched.)"""
    earlier_devices = set(world.clients.glob("web-profiles/*"))
    bob = open_app(browser, world.app_url)
    try:
        sign_in(bob, world.bob)
        expect(tile(bob, "Alice Archer")).to_contain_text(filler(HISTORY))  # snapshot in
        (device,) = set(world.clients.glob("web-profiles/*")) - earlier_devices
        text = f"The {world.word} was seen at the pier"
        assert text not in cached_texts(device, world.bob)
        assert filler(HISTORY) in cached_texts(device, world.bob)
        search_and_choose(bob, world.word, "was seen at the pier", "jump-search-results")
        expect(tile(bob, "Alice Archer")).to_have_attribute("aria-current", "true")
        expect(bubble(bob, text)).to_be_in_viewport()
        screenshot(bob, "jump-search-opened")
        assert text in cached_texts(device, world.bob)
        assert filler(2) not in cached_texts(device, world.bob)
        wheel_until(bob, f"{filler(2)} ", -1)  # the space: not "Note number 2x"
        screenshot(bob, "jump-paged-to-the-first")
        assert filler(100) not in cached_texts(device, world.bob)
        wheel_until(bob, f"{filler(100)} ", 1)
        screenshot(bob, "jump-paged-across-the-hole")
        back_to_newest(bob)
    finally:
        bob.context.close()


def test_a_new_device_fetches_the_pinned_and_the_quoted_message(
    world: World, browser: Browser
) -> None:
    """Bob signs in on another new device, which caches only the newest page: the pinned
    message and the question his answer quotes are fetched alone, so the banner and the quote
    show them; the banner then jumps to the pinned message among its neighbours."""
    bob = open_app(browser, world.app_url)
    try:
        sign_in(bob, world.bob)
        open_chat(bob, "Alice Archer")
        banner = bob.get_by_role("button", name=re.compile("^Go to the pinned message"))
        expect(banner).to_contain_text(PINNED)
        bubble(bob, ANSWER).scroll_into_view_if_needed()
        quote = bob.get_by_role("button", name="Go to the message from Alice Archer")
        expect(quote).to_be_visible()
        screenshot(bob, "jump-new-device-banner-and-quote")
        banner.click()
        expect(bubble(bob, PINNED)).to_be_in_viewport()
        expect(bubble(bob, f"{filler(PINNED_SEQ - 1)} ")).to_be_visible()  # its neighbours
        screenshot(bob, "jump-new-device-pinned")
        back_to_newest(bob)
    finally:
        bob.context.close()
