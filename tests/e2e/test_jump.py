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

from .harness import FletServer, open_app, screenshot
from .test_message_actions import open_chat, search_and_choose, tile
from .test_two_users import bubble, sign_in

HISTORY = 160
"""Messages in the chat: more than three pages of the list, and more than a new device caches."""
PINNED = "Pinned plan: the ferry leaves at nine"
QUESTION = "Question: who brings the tent?"
ANSWER = "Answer: I bring the tent"
PINNED_SEQ, QUESTION_SEQ, SEARCHED_SEQ, ANSWER_SEQ = 10, 20, 30, 151


@dataclass(frozen=True)
class World:
    """The server's accounts, the chat, the word only an old message holds, and the pages."""

    alice: Account
    bob: Account
    chat: str
    word: str
    clients: Path
    alice_page: Page
    bob_page: Page


def filler(seq: int) -> str:
    """The text of an ordinary message of the chat."""
    return f"Note number {seq}"


@pytest.fixture(scope="module")
def world(browser: Browser, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """Alice signed in, then the long chat sent through the API, then Bob signed in."""
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
        bob_page = open_app(browser, app.url)
        stack.callback(bob_page.context.close)
        sign_in(bob_page, bob)
        yield World(alice, bob, chat, word, clients, alice_page, bob_page)


def _seed(alice: Account, bob: Account, chat: str, word: str, alice_page: Page) -> dict[int, str]:
    """Send the chat's ``HISTORY`` messages; returns their ids by seq. Once the first one
    reached Alice's device (its first snapshot is loaded) the others come to it as events."""
    special = {
        PINNED_SEQ: (bob, PINNED),
        QUESTION_SEQ: (alice, QUESTION),
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


def cached_texts(clients: Path, account: Account) -> set[str]:
    """The message texts one account's device has cached (every browser profile of it)."""
    texts: set[str] = set()
    for path in clients.glob(f"web-profiles/*/accounts/{account.user_id}/cache.sqlite3"):
        with contextlib.closing(sqlite3.connect(path)) as db:
            texts.update(row[0] for row in db.execute("SELECT text FROM messages") if row[0])
    return texts


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


def test_search_hit_found_only_on_the_server_opens_in_context(world: World) -> None:
    """Bob's new device does not hold the old message: the server's search finds it, and
    choosing it loads its part of the history and shows it; paging newer from there works."""
    bob = world.bob_page
    text = f"The {world.word} was seen at the pier"
    assert text not in cached_texts(world.clients, world.bob)
    assert filler(HISTORY) in cached_texts(world.clients, world.bob)
    search_and_choose(bob, world.word, "was seen at the pier", "jump-search-results")
    expect(tile(bob, "Alice Archer")).to_have_attribute("aria-current", "true")
    expect(bubble(bob, text)).to_be_in_viewport()
    screenshot(bob, "jump-search-opened")
    assert text in cached_texts(world.clients, world.bob)
    back_to_newest(bob)
