"""Glue for the search panel: the cache's hits at once, the server's merged in as they arrive,
and the jump to a chosen hit — after its history is fetched when the cache does not hold it.
The server work is done by ``client.history.History``; failures are told in a snack bar."""

from collections.abc import Callable

import flet as ft

from client.errors import OpenChatError
from client.history import History
from client.offline.cache import Cache
from client.search_hits import Hit, local_hit, merge_hits
from client.views.search import SearchPanel
from client.views.server_errors import explain
from client.views.widgets import close_dialog, notify, refresh

MAX_QUERY_LENGTH = 256
"""``GET /search/messages`` takes a ``q`` of 1–256 characters."""


class SearchFlow:
    """Opens the search panel and runs its searches."""

    def __init__(
        self,
        page: ft.Page,
        cache: Cache,
        history: History | None,
        title_of: Callable[[Hit], str],
        show_message: Callable[[str, str], bool],
        open_chat: Callable[[str], None],
    ) -> None:
        """``show_message(conversation_id, message_id)`` opens a chat at a cached message
        (False when the cache lacks it); ``open_chat(id)`` opens a chat at its newest page.
        Without ``history`` only the cache is searched."""
        self.page = page
        self.cache = cache
        self.history = history
        self._title_of = title_of
        self._show_message = show_message
        self._open_chat = open_chat
        self.panel: SearchPanel | None = None
        self._conversation_id: str | None = None
        self._generation = 0
        """Counts searches: the server's answer to an older query is dropped."""

    def open(
        self, query: str, conversation_id: str | None = None, scope: str | None = None
    ) -> None:
        """Show the panel searching every chat, or ``conversation_id`` (named ``scope``), and
        search ``query`` at once when given."""
        self._conversation_id = conversation_id
        self.panel = SearchPanel(scope, self._title_of, self.search, self.choose, self.close)
        self.page.show_dialog(self.panel.dialog)
        if query:
            self.search(query)

    def close(self) -> None:
        """Close the panel (a late server answer is then dropped)."""
        self._generation += 1
        self.panel = None
        close_dialog(self.page)

    def search(self, query: str) -> None:
        """List the cache's hits for ``query`` now and the server's when they come."""
        panel = self.panel
        if panel is None:
            return
        query = query[:MAX_QUERY_LENGTH]
        self._generation += 1
        generation = self._generation
        local = [local_hit(r) for r in self.cache.search(query, self._conversation_id)]
        asking = self.history is not None and bool(query.strip())
        panel.show(query, local, loading=asking)
        refresh(panel.dialog)
        if asking:
            self.page.run_task(self._ask_server, query, local, generation)

    async def _ask_server(self, query: str, local: list[Hit], generation: int) -> None:
        assert self.history is not None
        try:
            found = await self.history.search(query, self._conversation_id)
        except OpenChatError as error:
            found = []
            if generation == self._generation:
                notify(self.page, explain(error, "Searching all messages"))
        panel = self.panel
        if panel is None or generation != self._generation:
            return
        panel.show(query, merge_hits(local, found), loading=False)
        refresh(panel.dialog)

    def choose(self, hit: Hit) -> None:
        """Close the panel and show the hit's message in its chat, highlighted."""
        self.close()
        message_id = hit.message_id
        if message_id is None:
            self._open_chat(hit.conversation_id)
            return
        if self._show_message(hit.conversation_id, message_id):
            return
        self._open_chat(hit.conversation_id)
        history, seq = self.history, hit.seq
        if history is None or seq is None:
            return

        async def fetch_and_show() -> None:
            try:
                await history.load_around(hit.conversation_id, seq)
            except OpenChatError as error:
                notify(self.page, explain(error, "Loading that message"))
                return
            if not self._show_message(hit.conversation_id, message_id):
                notify(self.page, "That message is no longer there.")

        self.page.run_task(fetch_and_show)
