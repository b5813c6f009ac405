"""Small Flet apps that mount one view with test doubles, for browser tests of single screens."""

import os
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import flet as ft

from client.errors import ConflictError, NetworkError
from client.offline.records import CachedMessage
from client.store import Store, Topic
from client.theme import apply_theme
from client.views.home import Home
from client.views.login import Credentials, LoginView

from .seed import ME, seed_cache


def login_screen(page: ft.Page) -> None:
    """The sign-in screen with a fake session: ``taken`` is a taken username, port 9 is down."""

    async def submit(credentials: Credentials) -> None:
        if credentials.server_url.endswith(":9"):
            raise NetworkError()
        if credentials.register and credentials.username == "taken":
            raise ConflictError("Username taken", "USERNAME_TAKEN")
        page.controls.clear()
        page.add(ft.Text(f"Signed in as {credentials.username}"))

    page.title = "OpenChat"
    page.add(LoginView("http://127.0.0.1:8000", submit).control)


class LocalActions:
    """A test double for ``client.actions``: writes the real cache and refreshes the real store,
    with no server behind it."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.cache = store.cache

    def _changed(self) -> None:
        self.store.invalidate(Topic.CHAT_LIST, Topic.OPEN_CHAT)

    def send_text(self, conversation_id: str, text: str, reply_to: CachedMessage | None) -> None:
        self.cache.add_pending_message(
            conversation_id,
            text,
            str(uuid.uuid4()),
            datetime.now(UTC),
            reply_to_id=reply_to.id if reply_to else None,
        )
        self._changed()

    def edit(self, message: CachedMessage, text: str) -> None:
        self.cache.edit_locally(message.local_id, text, datetime.now(UTC))
        self._changed()

    def delete(self, message: CachedMessage) -> None:
        self.cache.delete_locally(message.local_id, datetime.now(UTC))
        self._changed()

    def toggle_reaction(self, message: CachedMessage, emoji: str) -> None:
        mine = any(r.emoji == emoji and r.reacted_by_me for r in message.reactions)
        self.cache.toggle_reaction_locally(message.local_id, emoji, not mine)
        self._changed()

    def retry(self, message: CachedMessage) -> None:
        self._changed()

    def discard(self, message: CachedMessage) -> None:
        self.cache.remove_unsent(message.local_id)
        self._changed()

    def pin(self, message: CachedMessage) -> None:
        if message.id is not None:
            self.cache.set_pins(message.conversation_id, [message.id])
        self._changed()

    def typing(self, conversation_id: str, text: str) -> None:
        self.cache.save_draft(conversation_id, text, None, time.time())
        self.store.invalidate(Topic.CHAT_LIST)

    def forward(self, message: CachedMessage) -> None:
        self._changed()

    def copy(self, message: CachedMessage) -> None:
        self._changed()

    def show_edits(self, message: CachedMessage) -> None:
        self._changed()

    def info(self, message: CachedMessage) -> None:
        self._changed()

    def mark_read(self, conversation_id: str) -> None:
        if self.cache.latest_received(conversation_id) is not None:
            row = self.cache.conversation(conversation_id)
            if row is not None and row.unread_count:
                self.cache.mark_read_up_to(conversation_id, row.last_seq)
                self.store.invalidate(Topic.CHAT_LIST)

    def recent_emojis(self) -> list[str]:
        return self.cache.recent_emojis()

    def record_emoji(self, emoji: str) -> None:
        self.cache.record_emoji(emoji, time.time())


def home_seeded(page: ft.Page) -> None:
    """The signed-in screen over a real cache and store seeded with Alice's chats
    (``OPENCHAT_SEED_MESSAGES`` sets the length of the chat with Bob)."""
    data_dir = Path(tempfile.mkdtemp(prefix="openchat-e2e-"))
    cache = seed_cache(data_dir, int(os.environ.get("OPENCHAT_SEED_MESSAGES", "60")))
    store = Store(cache)
    home = Home(store, LocalActions(store), ME.id, on_new_chat=lambda: None)
    apply_theme(page)
    page.title = "OpenChat"
    page.padding = 0
    home.attach(page)

    def resized(event: ft.PageResizeEvent) -> None:
        home.layout(event.width)
        page.update()

    page.on_resize = resized
    page.on_keyboard_event = lambda e: home.handle_key(e.key, e.shift)
    page.add(home.control)
    store.load_chat_list()
