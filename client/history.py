"""The parts of a conversation's history the cache does not hold, fetched from the server when
the reader goes there: the page around a message a search found only on the server, and the
pages that close a hole in the cache as the reader pages older or newer (``Store.missing_before``
/ ``missing_after``), and, once each, single messages the open chat shows something of (every
pinned message its banner cycles through, a reply's quote) that are older than the cache
(``Store.missing_references``).
Also the server's side of message search.

A new device caches only each conversation's recent messages; a conversation's seqs are 1, 2,
3, … with none skipped, so a page of the history is asked for by seq (``GET
/conversations/{id}/messages?cursor=`` returns the messages before a seq, newest first). What is
fetched is written to the cache; the store reads it from there (the chat list is refreshed:
a pinned or quoted message may have come with it). These actions await the server
and raise ``client.errors`` exceptions for the caller to explain; the single messages are
fetched in the background (``watch``, until its unwatch: the screen it serves is gone), and
offline they are asked for again once the connection is back; a session found over there is
handed to ``on_auth_lost`` (the app sends the person to sign in). A single message far back
does not join the window: the store's window stops where a seq is missing.
"""

from collections.abc import Callable, Coroutine, Sequence
from typing import Any, Protocol

from client.errors import AuthError, PermanentError, TransientError
from client.offline.cache import Cache
from client.search_hits import Hit, server_hit
from client.services.realtime import AuthLostHook
from client.store import Store, Topic
from protocol.limits import MAX_PAGE_SIZE
from protocol.models import Message, Page, SearchHit

AROUND_BEFORE = 40
"""Messages before a jump's target fetched with it (the store's jump window shows up to
``page_size`` messages ending just after the target)."""
AROUND_AFTER = 20
"""Messages after a jump's target fetched with it."""
FILL_PAGE = 50
"""Messages fetched to close a hole in the cache."""
SERVER_SEARCH_LIMIT = 30


class HistoryApi(Protocol):
    """The part of ``client.services.api.ApiClient`` that ``History`` uses."""

    async def messages(
        self, conversation_id: str, *, cursor: str | None = None, limit: int | None = None
    ) -> Page[Message]:
        """``GET /conversations/{id}/messages``: newest first, before seq ``cursor``."""
        ...

    async def message(self, message_id: str) -> Message:
        """``GET /messages/{id}``: one message."""
        ...

    async def search_messages(
        self, query: str, *, conversation_id: str | None = None, limit: int | None = None
    ) -> Page[SearchHit]:
        """``GET /search/messages``."""
        ...


class Running(Protocol):
    """A coroutine started in the background (``concurrent.futures.Future``, ``asyncio.Task``)."""

    def cancel(self) -> bool:
        """Stop it if it has not finished."""
        ...

    def done(self) -> bool:
        """Whether it finished (or was cancelled)."""
        ...


Runner = Callable[[Callable[[], Coroutine[Any, Any, object]]], Running]
"""Starts a coroutine function in the background (``ft.Page.run_task``)."""


class History:
    """Fetches pages of history into the cache, and searches on the server."""

    def __init__(
        self,
        cache: Cache,
        store: Store,
        api: HistoryApi,
        on_auth_lost: AuthLostHook | None = None,
    ) -> None:
        """``on_auth_lost`` is awaited when a background fetch finds the session over."""
        self.cache = cache
        self.store = store
        self.api = api
        self.on_auth_lost = on_auth_lost
        self._asked: set[str] = set()
        """Ids of single messages fetched, being fetched, or refused (never asked again)."""

    def watch(self, run: Runner) -> Callable[[], None]:
        """Whenever the store changes while online and the open chat refers to messages not yet
        asked for, ``run`` ``fetch_references``; returns the unwatch, which unsubscribes and
        cancels the fetches still running (the screen or session they were for is gone)."""
        topics = (Topic.OPEN_CHAT, Topic.CHAT_LIST, Topic.CONNECTION)
        running: list[Running] = []

        def changed(topic: Topic) -> None:
            if topic in topics and self.store.connection == "online" and self._unasked():
                running[:] = [*(r for r in running if not r.done()), run(self.fetch_references)]

        unsubscribe = self.store.subscribe(changed)

        def unwatch() -> None:
            unsubscribe()
            for fetch in running:
                fetch.cancel()
            running.clear()

        return unwatch

    def _unasked(self) -> list[str]:
        return [i for i in self.store.missing_references() if i not in self._asked]

    async def fetch_references(self) -> int:
        """Cache the messages the open chat refers to that the cache lacks (its pinned
        messages, its replies' originals), each asked for once; returns how many came. One the
        server refuses (deleted conversation, no longer a member) is not asked for again;
        offline the rest are left for the next call, and when the session is over
        (``on_auth_lost`` is told) for the next session."""
        wanted = self._unasked()
        self._asked.update(wanted)
        found: list[Message] = []
        for index, message_id in enumerate(wanted):
            try:
                found.append(await self.api.message(message_id))
            except PermanentError:
                continue
            except TransientError:
                self._asked.difference_update(wanted[index:])
                break
            except AuthError as error:
                self._asked.difference_update(wanted[index:])
                if self.on_auth_lost is None:
                    raise
                await self.on_auth_lost(error)
                break
        if found:
            self._store(found)
            self.store.invalidate(Topic.OPEN_CHAT)  # the quotes
        return len(found)

    async def load_around(self, conversation_id: str, seq: int) -> int:
        """Cache the messages around seq ``seq`` (``AROUND_BEFORE`` before it, the message,
        ``AROUND_AFTER`` after it); returns how many the server had."""
        first = max(1, seq - AROUND_BEFORE)
        return await self._load(conversation_id, first, seq + AROUND_AFTER)

    async def fill_before(self, conversation_id: str, seq: int) -> int:
        """Cache the page just before seq ``seq``; returns how many messages came."""
        return await self._load(conversation_id, max(1, seq - FILL_PAGE), seq - 1)

    async def fill_after(self, conversation_id: str, seq: int) -> int:
        """Cache the page just after seq ``seq``; returns how many messages came."""
        return await self._load(conversation_id, seq + 1, seq + FILL_PAGE)

    async def _load(self, conversation_id: str, first: int, last: int) -> int:
        """Cache the messages with seqs ``first``…``last`` (fewer where the history ends)."""
        if last < first:
            return 0
        page = await self.api.messages(
            conversation_id, cursor=str(last + 1), limit=min(MAX_PAGE_SIZE, last - first + 1)
        )
        self._store(page.items)
        return len(page.items)

    def _store(self, messages: Sequence[Message]) -> None:
        if not messages:
            return
        with self.cache.transaction():
            for message in sorted(messages, key=lambda m: m.seq):
                self.cache.store_message(message)
        self.store.invalidate(Topic.CHAT_LIST)

    async def search(self, query: str, conversation_id: str | None = None) -> list[Hit]:
        """The server's best matches for ``query`` (in one conversation when given)."""
        if not query.strip():
            return []
        page = await self.api.search_messages(
            query, conversation_id=conversation_id, limit=SERVER_SEARCH_LIMIT
        )
        return [server_hit(hit) for hit in page.items]
