"""Applies server events to the cache idempotently and in order, and catches up after connects.

Every logged event carries an id from the server's global event log; the cache remembers the last
one applied and ignores anything at or below it, so an event seen live and again in ``/sync`` is
applied once. On every (re)connect ``on_connected`` pulls ``/sync?since=`` until the server has
nothing more, and only then lets the outbox drain; a 410 (``SyncExpiredError``) replaces the
cached server state with a fresh snapshot. Ephemeral events (typing, presence) only reach the
listener. New messages from others are acknowledged with one delivered receipt per conversation
(the highest message), queued in the outbox where a newer receipt replaces an unsent older one.
"""

import asyncio
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Protocol

import pydantic

from client.errors import ForbiddenError, NotFoundError, SyncExpiredError, TransientError
from client.offline.cache import Cache
from client.offline.outbox import Outbox
from client.offline.outbox_items import ActionKind
from client.offline.transport import SyncFetcher
from protocol import limits
from protocol.enums import ConversationType
from protocol.events import ServerEvent
from protocol.models import Conversation, ConversationSettings, Member, Message, SyncPage
from protocol.socket import (
    ConversationEvent,
    MemberEvent,
    MessageDeletedEvent,
    MessageNewEvent,
    PinEvent,
    PresenceEvent,
    ReactionEvent,
    ReceiptEvent,
    SettingsEvent,
    TypingEvent,
)

log = logging.getLogger(__name__)

RESYNC_MESSAGES_PER_CONVERSATION: Final = 50


@dataclass(frozen=True, slots=True)
class Changes:
    """What a batch of events changed, for the store to refresh: the conversations touched
    (their rows and, when open, their message window), whether everything was replaced, and
    who just sent a message where (their typing indicator ends)."""

    conversation_ids: frozenset[str]
    reset: bool = False
    senders: frozenset[tuple[str, str]] = frozenset()
    """``(conversation_id, user_id)`` of each new message from someone else."""


class SyncListener(Protocol):
    """Receives what the view state needs from sync (the store implements it)."""

    def on_typing(self, event: TypingEvent) -> None:
        """Someone started or stopped typing."""
        ...

    def on_presence(self, event: PresenceEvent) -> None:
        """Someone's presence changed."""
        ...

    def on_changed(self, changes: Changes) -> None:
        """The cache changed."""
        ...


@dataclass(frozen=True, slots=True)
class _Snapshot:
    """A conversation as the server has it, with every member of a group (none for a direct
    conversation)."""

    conversation: Conversation
    members: Sequence[Member] = ()


@dataclass
class _Batch:
    """What applying a run of events collected."""

    touched: set[str] = field(default_factory=set)
    senders: set[tuple[str, str]] = field(default_factory=set)
    delivered: dict[str, Message] = field(default_factory=dict)
    left: set[str] = field(default_factory=set)
    applied: int = 0


@dataclass(frozen=True, slots=True)
class CatchUpReport:
    """What a catch-up did: events applied, pages pulled, whether it had to fully resync."""

    applied: int
    pages: int
    resynced: bool


class Synchronizer:
    """The sync state machine over a cache, an outbox (for receipts) and a fetcher."""

    def __init__(
        self,
        cache: Cache,
        outbox: Outbox,
        fetcher: SyncFetcher,
        listener: SyncListener | None = None,
        *,
        set_draining: Callable[[bool], None] | None = None,
        page_size: int = limits.DEFAULT_SYNC_PAGE_SIZE,
    ) -> None:
        """``set_draining``, when given, is called with True after each catch-up (the outbox
        may drain) and with False on disconnect."""
        self.cache = cache
        self.outbox = outbox
        self.fetcher = fetcher
        self.listener = listener
        self._set_draining = set_draining
        self.page_size = page_size
        self._catching_up = asyncio.Lock()
        self._handlers: dict[str, Callable[[dict[str, Any], _Batch], None]] = {
            ServerEvent.MESSAGE_NEW: self._message,
            ServerEvent.MESSAGE_EDITED: self._message,
            ServerEvent.MESSAGE_DELETED: self._deleted,
            ServerEvent.REACTION_ADDED: self._reactions,
            ServerEvent.REACTION_REMOVED: self._reactions,
            ServerEvent.MESSAGE_READ: self._read,
            ServerEvent.MESSAGE_DELIVERED: self._delivered,
            ServerEvent.MESSAGE_PINNED: self._pins,
            ServerEvent.MESSAGE_UNPINNED: self._pins,
            ServerEvent.SETTINGS_UPDATED: self._settings,
            ServerEvent.CONVERSATION_UPDATED: self._conversation,
            ServerEvent.MEMBER_JOINED: self._member_joined,
            ServerEvent.MEMBER_LEFT: self._member_left,
            ServerEvent.MEMBER_UPDATED: self._member_updated,
        }

    # --- connection hooks ---------------------------------------------------------------------

    async def on_connected(self) -> CatchUpReport:
        """The hook for every (re)connect: catch up from ``/sync``, then let the outbox drain."""
        report = await self.catch_up()
        if self._set_draining is not None:
            self._set_draining(True)
        return report

    def on_disconnected(self) -> None:
        """Stop draining the outbox until the next catch-up."""
        if self._set_draining is not None:
            self._set_draining(False)

    # --- live events --------------------------------------------------------------------------

    async def handle_event(self, name: str, payload: Mapping[str, Any]) -> None:
        """Apply one event received on the socket (``eventId`` inside the payload)."""
        if name == ServerEvent.TYPING_INDICATOR:
            if self.listener is not None:
                self.listener.on_typing(TypingEvent.model_validate(payload))
            return
        if name == ServerEvent.PRESENCE_UPDATE:
            if self.listener is not None:
                self.listener.on_presence(PresenceEvent.model_validate(payload))
            return
        event_id = payload.get("eventId")
        if not isinstance(event_id, int):
            log.warning("server event %s without an eventId ignored", name)
            return
        unknown = await self._fetch_unknown([_conversation_id(payload)])
        batch = _Batch()
        with self.cache.transaction():
            self._apply(event_id, name, dict(payload), batch)
            self._store_unknown(unknown, batch)
            self._queue_receipts(batch)
        self._notify(batch, reset=False)

    # --- catch-up -----------------------------------------------------------------------------

    async def _apply_page(self, page: SyncPage) -> _Batch:
        """Apply one ``/sync`` page in one transaction and move the cursor to ``page.next``."""
        unknown = await self._fetch_unknown(_conversation_id(e.data) for e in page.events)
        batch = _Batch()
        with self.cache.transaction():
            for event in page.events:
                self._apply(event.id, event.type, dict(event.data), batch)
            if page.next > self.cache.last_event_id:
                self.cache.set_last_event_id(page.next)
            self._store_unknown(unknown, batch)
            self._queue_receipts(batch)
        return batch

    async def catch_up(self) -> CatchUpReport:
        """Pull ``/sync?since=<last applied>`` until ``has_more`` is false; on 410 do a full
        resync (once) and continue from the snapshot's event id. One catch-up at a time (the
        socket's and the REST fallback's may overlap)."""
        async with self._catching_up:
            return await self._catch_up()

    async def _catch_up(self) -> CatchUpReport:
        applied = pages = 0
        resynced = False
        while True:
            try:
                page = await self.fetcher.sync_page(self.cache.last_event_id, self.page_size)
            except SyncExpiredError:
                if resynced:
                    raise
                await self.full_resync()
                resynced = True
                continue
            pages += 1
            batch = await self._apply_page(page)
            applied += batch.applied
            self._notify(batch, reset=False)
            if not page.has_more:
                return CatchUpReport(applied, pages, resynced)

    async def full_resync(self) -> None:
        """Replace the cached server state with a fresh snapshot (conversations, the members of
        groups and recent messages), keeping unsent messages and the outbox; resume from the
        server's newest event id, read before the snapshot so nothing after it is missed."""
        head = await self.fetcher.sync_head()
        snapshots: list[_Snapshot] = []
        messages: list[Message] = []
        for conversation in await self.fetcher.conversations():
            snapshots.append(await self._snapshot(conversation))
            messages.extend(
                await self.fetcher.recent_messages(
                    conversation.id, RESYNC_MESSAGES_PER_CONVERSATION
                )
            )
        with self.cache.transaction():
            self.cache.reset_server_state()
            for snapshot in snapshots:
                self._store_snapshot(snapshot)
            for message in sorted(messages, key=lambda m: m.seq):
                self.cache.store_message(message)
            self.cache.set_last_event_id(head)
        self._notify(_Batch(touched={s.conversation.id for s in snapshots}), reset=True)

    async def _snapshot(self, conversation: Conversation) -> _Snapshot:
        """``conversation`` with, for a group, its members fetched."""
        if conversation.type is ConversationType.DIRECT:
            return _Snapshot(conversation)
        return _Snapshot(conversation, await self.fetcher.members(conversation.id))

    def _store_snapshot(self, snapshot: _Snapshot) -> None:
        """Store a conversation and make the fetched members its members (their count and the
        user's own mute then match the server's)."""
        self.cache.upsert_conversation(snapshot.conversation)
        if snapshot.conversation.type is not ConversationType.DIRECT:
            self.cache.replace_members(snapshot.conversation.id, snapshot.members)

    # --- applying -----------------------------------------------------------------------------

    def _apply(self, event_id: int, name: str, data: dict[str, Any], batch: _Batch) -> None:
        if event_id <= self.cache.last_event_id:
            return
        handler = self._handlers.get(name)
        if handler is not None:
            try:
                handler(data, batch)
            except pydantic.ValidationError:
                log.warning("malformed %s event %s skipped", name, event_id)
        self.cache.set_last_event_id(event_id)
        batch.applied += 1

    def _message(self, data: dict[str, Any], batch: _Batch) -> None:
        message = MessageNewEvent.model_validate(data)
        outcome = self.cache.store_message(message)
        batch.touched.add(message.conversation_id)
        if outcome.is_new and message.sender_id != self.cache.me:
            batch.senders.add((message.conversation_id, message.sender_id))
            current = batch.delivered.get(message.conversation_id)
            if current is None or current.seq < message.seq:
                batch.delivered[message.conversation_id] = message

    def _deleted(self, data: dict[str, Any], batch: _Batch) -> None:
        event = MessageDeletedEvent.model_validate(data)
        self.cache.mark_deleted(event.message_id, event.deleted_at)
        batch.touched.add(event.conversation_id)

    def _reactions(self, data: dict[str, Any], batch: _Batch) -> None:
        event = ReactionEvent.model_validate(data)
        self.cache.set_reactions(event.message_id, event.reactions)
        batch.touched.add(event.conversation_id)

    def _read(self, data: dict[str, Any], batch: _Batch) -> None:
        event = ReceiptEvent.model_validate(data)
        self.cache.apply_receipt(event.conversation_id, event.user_id, event.seq, read=True)
        batch.touched.add(event.conversation_id)

    def _delivered(self, data: dict[str, Any], batch: _Batch) -> None:
        event = ReceiptEvent.model_validate(data)
        self.cache.apply_receipt(event.conversation_id, event.user_id, event.seq, read=False)
        batch.touched.add(event.conversation_id)

    def _pins(self, data: dict[str, Any], batch: _Batch) -> None:
        event = PinEvent.model_validate(data)
        self.cache.set_pins(event.conversation_id, event.pinned_message_ids)
        batch.touched.add(event.conversation_id)

    def _settings(self, data: dict[str, Any], batch: _Batch) -> None:
        event = SettingsEvent.model_validate(data)
        self.cache.apply_settings(
            event.conversation_id,
            ConversationSettings(
                is_pinned=event.is_pinned,
                pin_rank=event.pin_rank,
                is_archived=event.is_archived,
                muted_until=event.muted_until,
                is_muted=event.is_muted,
                notifications_on=event.notifications_on,
            ),
        )
        batch.touched.add(event.conversation_id)

    def _conversation(self, data: dict[str, Any], batch: _Batch) -> None:
        event = ConversationEvent.model_validate(data)
        if event.title is not None:
            self.cache.set_conversation_title(event.conversation_id, event.title)
        if event.locked is not None:
            self.cache.set_conversation_locked(event.conversation_id, event.locked)
        if event.user_id is not None and event.role is not None:  # a role change, no join
            self.cache.set_member_role(event.conversation_id, event.user_id, event.role.value)
        batch.touched.add(event.conversation_id)

    def _member_joined(self, data: dict[str, Any], batch: _Batch) -> None:
        event = ConversationEvent.model_validate(data)
        if event.user_id is not None:
            role = event.role.value if event.role is not None else "member"
            self.cache.set_member(event.conversation_id, event.user_id, role)
        batch.touched.add(event.conversation_id)

    def _member_updated(self, data: dict[str, Any], batch: _Batch) -> None:
        event = MemberEvent.model_validate(data)
        if event.role is not None:
            self.cache.update_member(
                event.conversation_id, event.user_id, event.role.value, event.muted_until
            )
        batch.touched.add(event.conversation_id)

    def _member_left(self, data: dict[str, Any], batch: _Batch) -> None:
        event = ConversationEvent.model_validate(data)
        if event.user_id == self.cache.me:
            self.cache.remove_conversation(event.conversation_id)
            batch.left.add(event.conversation_id)
        elif event.user_id is not None:
            self.cache.remove_member(event.conversation_id, event.user_id)
        batch.touched.add(event.conversation_id)

    def _queue_receipts(self, batch: _Batch) -> None:
        for conversation_id, message in batch.delivered.items():
            self.outbox.enqueue(
                ActionKind.MARK_DELIVERED,
                {"conversation_id": conversation_id, "message_id": message.id},
                conversation_id,
            )

    async def _fetch_unknown(self, conversation_ids: Iterable[str | None]) -> list[_Snapshot]:
        """Fetch the conversations among ``conversation_ids`` that the cache lacks (with a
        group's members), before the events naming them are applied, so a conversation's
        messages and its chat-list row appear together. One the caller may no longer see is
        skipped (its events say so); one that cannot be fetched now is fetched by the next
        event that names it."""
        fetched: list[_Snapshot] = []
        for conversation_id in sorted({cid for cid in conversation_ids if cid}):
            if self.cache.has_conversation(conversation_id):
                continue
            try:
                fetched.append(
                    await self._snapshot(await self.fetcher.conversation(conversation_id))
                )
            except (ForbiddenError, NotFoundError):
                continue
            except TransientError as error:
                log.info("conversation %s not fetched yet: %s", conversation_id, error)
        return fetched

    def _store_unknown(self, snapshots: list[_Snapshot], batch: _Batch) -> None:
        """Store the fetched conversations after the batch's events (their snapshot, unread
        count and members included, is newer than the events), except those the batch left."""
        for snapshot in snapshots:
            conversation_id = snapshot.conversation.id
            if conversation_id not in batch.left and not self.cache.has_conversation(
                conversation_id
            ):
                self._store_snapshot(snapshot)
                batch.touched.add(conversation_id)

    def _notify(self, batch: _Batch, reset: bool) -> None:
        if self.listener is not None and (batch.touched or reset):
            self.listener.on_changed(
                Changes(frozenset(batch.touched), reset, frozenset(batch.senders))
            )


def _conversation_id(payload: Mapping[str, Any]) -> str | None:
    """The conversation an event payload names, if any."""
    value = payload.get("conversationId")
    return value if isinstance(value, str) else None
