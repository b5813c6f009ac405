"""Observable in-memory view state: the only thing views read (no Flet, no network).

Views subscribe to topics and re-read the attributes they show when a topic is notified. The
store reads the cache; it never holds the whole history of a chat, only a bounded window that
pages older or newer on demand.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from client.offline.cache import Cache
from client.offline.records import CachedMessage, ChatRow, OutboxCounts

if TYPE_CHECKING:
    # Types only: the outbox, sync and the socket payloads import pydantic and asyncio, which
    # a cold start to the chat list does not need (tests/unit/test_cold_start.py).
    from client.offline.outbox import Outbox
    from client.offline.sync import Changes
    from protocol.socket import PresenceEvent, TypingEvent


class Topic(StrEnum):
    """What changed."""

    CHAT_LIST = "chat_list"
    OPEN_CHAT = "open_chat"
    TYPING = "typing"
    PRESENCE = "presence"
    CONNECTION = "connection"
    OUTBOX = "outbox"
    CONVERSATIONS = "conversations"
    """Sync changed conversations (their rows, members or settings): ``Store.changed`` tells
    which."""


Listener = Callable[[Topic], None]
JUMP_CONTEXT_AFTER = 2
"""Messages after the one ``Store.open_at`` jumps to that its window includes."""


def contiguous_head(
    messages: Sequence[CachedMessage], after: int | None = None
) -> list[CachedMessage]:
    """The leading run of ``messages`` (oldest first) with no seq missing, starting just
    after seq ``after`` when given (empty when the first one is not ``after + 1``). A
    conversation's seqs are 1, 2, 3, … with none skipped, so a jump in seq is a part of the
    history the cache does not hold. Unsent messages (no seq) follow the last sent one."""
    kept: list[CachedMessage] = []
    expected = None if after is None else after + 1
    for message in messages:
        if message.seq is not None:
            if expected is not None and message.seq != expected:
                break
            expected = message.seq + 1
        kept.append(message)
    return kept


def contiguous_tail(
    messages: Sequence[CachedMessage], before: int | None = None
) -> list[CachedMessage]:
    """The trailing run of ``messages`` (oldest first) with no seq missing, ending just
    before seq ``before`` when given (see ``contiguous_head``)."""
    kept: list[CachedMessage] = []
    expected = None if before is None else before - 1
    for message in reversed(messages):
        if message.seq is not None:
            if expected is not None and message.seq != expected:
                break
            expected = message.seq - 1
        kept.append(message)
    return kept[::-1]


@dataclass(frozen=True, slots=True)
class ChatWindow:
    """The loaded part of the open chat, oldest first."""

    conversation_id: str
    messages: tuple[CachedMessage, ...]
    has_older: bool
    """More messages exist before the first one (``Store.load_older``)."""
    at_latest: bool
    """The window ends with the newest message; else ``Store.load_newer`` pages forward."""


@dataclass(frozen=True, slots=True)
class TypingUser:
    """Someone typing in a conversation, until ``expires_at`` (store clock)."""

    user_id: str
    display_name: str
    expires_at: float


class Store:
    """View state over a cache. ``clock`` (monotonic seconds) drives typing expiry; ``defer``
    batches refreshes (e.g. ``lambda f: loop.call_later(0.05, f)``), else they run at once."""

    def __init__(
        self,
        cache: Cache,
        outbox: Outbox | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        defer: Callable[[Callable[[], None]], object] | None = None,
        page_size: int = 50,
        window_size: int = 200,
    ) -> None:
        self.cache = cache
        self.outbox = outbox
        self.clock = clock
        self.defer = defer
        self.page_size = page_size
        self.window_size = window_size
        self.archived = False
        self.chat_list: list[ChatRow] = []
        self.archived_count = 0
        """How many conversations are archived (the chat list's "Archived (N)" entry)."""
        self.window: ChatWindow | None = None
        self.typing: dict[str, dict[str, TypingUser]] = {}
        self.presence: dict[str, PresenceEvent] = {}
        self.connection = "offline"
        self.outbox_counts = OutboxCounts(0, 0)
        self._listeners: list[Listener] = []
        self._dirty: set[Topic] = set()
        self._touched: set[str] = set()
        self._touched_all = False
        self._changed: frozenset[str] = frozenset()
        self._changed_all = False
        self._scheduled = False
        if outbox is not None:
            outbox.subscribe(self._outbox_changed)

    # --- observing ----------------------------------------------------------------------------

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call ``listener(topic)`` after each change; returns the unsubscribe."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def _notify(self, topic: Topic) -> None:
        for listener in list(self._listeners):
            listener(topic)

    def invalidate(self, *topics: Topic) -> None:
        """Re-read the chat list / open chat / outbox counts from the cache (now, or batched
        through ``defer``) and notify."""
        self._dirty.update(topics)
        if self.defer is None:
            self.flush()
        elif not self._scheduled:
            self._scheduled = True
            self.defer(self.flush)

    def flush(self) -> None:
        """Apply pending refreshes."""
        self._scheduled = False
        dirty, self._dirty = self._dirty, set()
        if Topic.OUTBOX in dirty and self.outbox is not None:
            self.outbox_counts = self.outbox.counts()
            self._notify(Topic.OUTBOX)
        if Topic.CHAT_LIST in dirty:
            self.chat_list = self.cache.chat_list(self.archived)
            self.archived_count = (
                len(self.chat_list) if self.archived else len(self.cache.chat_list(True))
            )
            self._notify(Topic.CHAT_LIST)
        if Topic.OPEN_CHAT in dirty and self.window is not None:
            self._reload_window()
            self._notify(Topic.OPEN_CHAT)
        if Topic.CONVERSATIONS in dirty:
            self._changed, self._touched = frozenset(self._touched), set()
            self._changed_all, self._touched_all = self._touched_all, False
            self._notify(Topic.CONVERSATIONS)

    def changed(self, conversation_id: str) -> bool:
        """While ``Topic.CONVERSATIONS`` is told: whether sync changed ``conversation_id``
        (everything changed after a full resync)."""
        return self._changed_all or conversation_id in self._changed

    # --- chat list ----------------------------------------------------------------------------

    def load_chat_list(self, archived: bool = False) -> list[ChatRow]:
        """Show the chat list (or the archive)."""
        self.archived = archived
        self.invalidate(Topic.CHAT_LIST, Topic.OUTBOX)
        return self.chat_list

    # --- open chat window ---------------------------------------------------------------------

    def open_chat(self, conversation_id: str) -> ChatWindow:
        """Open a chat at its newest messages (one page)."""
        page = contiguous_tail(self.cache.messages_before(conversation_id, None, self.page_size))
        self.window = ChatWindow(
            conversation_id, tuple(page), self._has_older(page), at_latest=True
        )
        self._notify(Topic.OPEN_CHAT)
        return self.window

    def open_at(self, conversation_id: str, message_id: str) -> ChatWindow | None:
        """Open a chat at one message (a search hit, a pinned message, a quoted original),
        however old it is: the cached messages before it (up to a page) and
        ``JUMP_CONTEXT_AFTER`` after it, so a list showing the window's newest end shows the
        message. None (and the window unchanged) when the message is not in the cache."""
        target = self.cache.message_by_id(message_id)
        if target is None or target.conversation_id != conversation_id:
            return None
        older = contiguous_tail(
            self.cache.messages_before(
                conversation_id, target.position, self.page_size - 1 - JUMP_CONTEXT_AFTER
            ),
            before=target.seq,
        )
        wanted = 1 + JUMP_CONTEXT_AFTER
        found = self.cache.messages_after(conversation_id, target.position - 1, wanted + 1)
        newer = contiguous_head(found)[:wanted]
        messages = older + newer
        self.window = ChatWindow(
            conversation_id,
            tuple(messages),
            has_older=self._has_older(messages),
            at_latest=len(newer) == len(found),
        )
        self._notify(Topic.OPEN_CHAT)
        return self.window

    def close_chat(self) -> None:
        """Leave the open chat."""
        self.window = None
        self._notify(Topic.OPEN_CHAT)

    def load_older(self) -> bool:
        """Prepend the cached page before the window (dropping the newest beyond
        ``window_size``); False when there is nothing older in the cache, or the cache misses
        the messages just before the window (``missing_before``)."""
        w = self.window
        if w is None or not w.has_older or not w.messages:
            return False
        first = w.messages[0]
        found = self.cache.messages_before(w.conversation_id, first.position, self.page_size)
        page = contiguous_tail(found, before=first.seq)
        if not page:
            return False
        merged = tuple(page) + w.messages
        trimmed = merged[: self.window_size]
        self.window = ChatWindow(
            w.conversation_id,
            trimmed,
            has_older=self._has_older(page),
            at_latest=w.at_latest and len(trimmed) == len(merged),
        )
        self._notify(Topic.OPEN_CHAT)
        return True

    def load_newer(self) -> bool:
        """Append the cached page after the window (dropping the oldest beyond
        ``window_size``); False when the window already ends at the newest message, or the
        cache misses the messages just after it (``missing_after``)."""
        w = self.window
        if w is None or w.at_latest or not w.messages:
            return False
        last = w.messages[-1]
        found = self.cache.messages_after(w.conversation_id, last.position, self.page_size)
        page = contiguous_head(found, after=last.seq)
        if not page:
            return False
        merged = w.messages + tuple(page)
        trimmed = merged[-self.window_size :]
        self.window = ChatWindow(
            w.conversation_id,
            trimmed,
            has_older=w.has_older or len(trimmed) < len(merged),
            at_latest=len(page) == len(found) < self.page_size,
        )
        self._notify(Topic.OPEN_CHAT)
        return True

    def missing_before(self) -> int | None:
        """The seq of the window's first message when older messages exist on the server but
        the cache does not hold the one just before it (a page to fetch before that seq)."""
        w = self.window
        if w is None or not w.messages or not w.has_older:
            return None
        first = w.messages[0].seq
        if first is None or self.cache.has_seq(w.conversation_id, first - 1):
            return None
        return first

    def missing_after(self) -> int | None:
        """The seq of the window's last message when newer messages are cached but the one
        just after it is not (the server has the messages in between)."""
        w = self.window
        if w is None or not w.messages or w.at_latest:
            return None
        last = w.messages[-1].seq
        if last is None or self.cache.has_seq(w.conversation_id, last + 1):
            return None
        return last

    def missing_references(self) -> list[str]:
        """The ids of the messages the open chat shows something of but the cache lacks (a new
        device caches only recent ones): its pinned messages, newest pin first (the banner
        cycles through them all), and the originals of the window's replies (their quotes)."""
        w = self.window
        if w is None:
            return []
        wanted = self.cache.pinned_ids(w.conversation_id)[::-1]
        wanted += [m.reply_to_id for m in w.messages if m.reply_to_id is not None]
        unique = list(dict.fromkeys(wanted))
        cached = self.cache.cached_ids(unique)
        return [i for i in unique if i not in cached]

    def _has_older(self, messages: Sequence[CachedMessage]) -> bool:
        """Whether a conversation has messages before ``messages`` (its seqs start at 1)."""
        if not messages:
            return False
        first = messages[0]
        if first.seq is not None:
            return first.seq > 1
        return bool(self.cache.messages_before(first.conversation_id, first.position, 1))

    def _reload_window(self) -> None:
        w = self.window
        assert w is not None
        if not w.messages:
            self.open_chat(w.conversation_id)
            return
        start = w.messages[0].position - 1
        if not w.at_latest:
            found = self.cache.messages_after(w.conversation_id, start, len(w.messages))
            page = contiguous_head(found)
            self.window = ChatWindow(w.conversation_id, tuple(page), w.has_older, False)
            return
        found = self.cache.messages_after(w.conversation_id, start, self.window_size + 1)
        page = contiguous_head(found)
        if len(page) > self.window_size:
            latest = contiguous_tail(
                self.cache.messages_before(w.conversation_id, None, self.window_size)
            )
            self.window = ChatWindow(w.conversation_id, tuple(latest), True, True)
        else:
            self.window = ChatWindow(
                w.conversation_id, tuple(page), w.has_older, at_latest=len(page) == len(found)
            )

    # --- typing, presence, connection, outbox -------------------------------------------------

    def on_typing(self, event: TypingEvent) -> None:
        """A ``typing_indicator`` arrived (``SyncListener``)."""
        users = self.typing.setdefault(event.conversation_id, {})
        if event.is_typing:
            users[event.user_id] = TypingUser(
                event.user_id, event.display_name, self.clock() + event.ttl
            )
        else:
            users.pop(event.user_id, None)
        self._notify(Topic.TYPING)

    def typing_users(self, conversation_id: str) -> list[TypingUser]:
        """Who is typing in a conversation right now."""
        now = self.clock()
        users = self.typing.get(conversation_id, {})
        return [u for u in users.values() if u.expires_at > now]

    def expire_typing(self) -> bool:
        """Drop expired typing indicators (call it on a timer); True and notifies when any
        expired."""
        now = self.clock()
        expired = False
        for users in self.typing.values():
            for user_id in [u for u, t in users.items() if t.expires_at <= now]:
                del users[user_id]
                expired = True
        if expired:
            self._notify(Topic.TYPING)
        return expired

    def on_presence(self, event: PresenceEvent) -> None:
        """A ``presence_update`` arrived (``SyncListener``)."""
        self.presence[event.user_id] = event
        self._notify(Topic.PRESENCE)

    def on_changed(self, changes: Changes) -> None:
        """Sync changed the cache (``SyncListener``): refresh the list and, when touched, the
        open chat, and tell which conversations changed; whoever just sent a message stops
        typing there."""
        stopped = False
        for conversation_id, user_id in changes.senders:
            if self.typing.get(conversation_id, {}).pop(user_id, None) is not None:
                stopped = True
        if stopped:
            self._notify(Topic.TYPING)
        self._touched |= changes.conversation_ids
        self._touched_all |= changes.reset
        topics = [Topic.CHAT_LIST, Topic.CONVERSATIONS]
        w = self.window
        if w is not None and (changes.reset or w.conversation_id in changes.conversation_ids):
            topics.append(Topic.OPEN_CHAT)
        self.invalidate(*topics)

    def set_connection(self, state: str) -> None:
        """Publish the connection state: ``online``, ``connecting`` or ``offline``."""
        if state != self.connection:
            self.connection = str(state)
            self._notify(Topic.CONNECTION)

    def _outbox_changed(self) -> None:
        self.invalidate(Topic.OUTBOX, Topic.CHAT_LIST, Topic.OPEN_CHAT)
