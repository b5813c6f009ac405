"""Everything a user can do. Each action writes the cache and the outbox in one transaction and
refreshes the store; none awaits the network (the outbox worker sends later, in order).

Invalid input raises ``ValueError`` (pydantic's ``ValidationError`` is one) before anything is
written. Typing notifications are ephemeral: they go straight to ``send_typing`` (never queued).
"""

import time
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import TypeAdapter

from client.offline.cache import Cache
from client.offline.outbox import Outbox
from client.offline.outbox_items import ActionKind, OutboxState
from client.offline.records import CachedMessage
from client.offline.undo import message_undo, pins_undo, reaction_undo, settings_undo
from client.store import Store, Topic
from protocol import limits
from protocol.events import ClientEvent
from protocol.reactions import is_allowed_reaction
from protocol.rest import MessageText, SettingsPatch
from protocol.socket import ForwardMessagePayload, SendMessagePayload

_MESSAGE_TEXT: TypeAdapter[str] = TypeAdapter(MessageText)

TypingSender = Callable[[ClientEvent, str], None]
"""Emits ``typing_start`` / ``typing_stop`` for a conversation id (fire and forget)."""


class Actions:
    """The user's actions over one account's cache, outbox and store."""

    def __init__(
        self,
        cache: Cache,
        outbox: Outbox,
        store: Store,
        *,
        send_typing: TypingSender | None = None,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
        new_id: Callable[[], str] = lambda: str(uuid.uuid4()),
    ) -> None:
        """``clock`` is wall time (timestamps, mute ends); ``monotonic`` paces typing."""
        self.cache = cache
        self.outbox = outbox
        self.store = store
        self.send_typing = send_typing
        self.clock = clock
        self.monotonic = monotonic
        self.new_id = new_id
        self._typing_started: dict[str, float] = {}
        self._last_keystroke: dict[str, float] = {}

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self.clock(), UTC)

    def _changed(self, *topics: Topic) -> None:
        self.store.invalidate(*topics)

    def _message(self, local_id: int) -> CachedMessage:
        message = self.cache.message(local_id)
        if message is None:
            raise ValueError(f"no message {local_id}")
        return message

    def _target(self, message: CachedMessage) -> tuple[dict[str, Any], str | None]:
        """The ``message_id`` field for an action on ``message`` and, while it is unsent, the
        client id to resolve it by when its send succeeds."""
        if message.id is not None:
            return {"message_id": message.id}, None
        return {"message_id": None}, message.client_id

    # --- messages -----------------------------------------------------------------------------

    def send_text(
        self, conversation_id: str, text: str, reply_to_id: str | None = None
    ) -> CachedMessage:
        """Send a text message (optionally a reply): it shows at once as pending."""
        client_id = self.new_id()
        request = SendMessagePayload(
            conversation_id=conversation_id,
            text=text,
            client_id=client_id,
            reply_to_id=reply_to_id,
        )
        with self.cache.transaction():
            message = self.cache.add_pending_message(
                conversation_id, request.text, client_id, self._now(), reply_to_id
            )
            self.cache.save_draft(conversation_id, "", None, self.clock())
            self.outbox.enqueue(
                ActionKind.SEND,
                request.model_dump(by_alias=False),
                conversation_id,
                client_id=client_id,
            )
        self._stop_typing(conversation_id)
        self._changed(Topic.CHAT_LIST, Topic.OPEN_CHAT)
        return message

    def edit(self, local_id: int, text: str) -> None:
        """Replace the text of one of the user's messages."""
        message = self._message(local_id)
        if message.sender_id != self.cache.me or message.deleted:
            raise ValueError("only your own, undeleted messages can be edited")
        clean = _MESSAGE_TEXT.validate_python(text)
        field, target = self._target(message)
        with self.cache.transaction():
            self.cache.edit_locally(local_id, clean, self._now())
            self.outbox.enqueue(
                ActionKind.EDIT,
                {**field, "text": clean},
                message.conversation_id,
                target_client_id=target,
                undo=message_undo(message),
            )
        self._changed(Topic.CHAT_LIST, Topic.OPEN_CHAT)

    def delete(self, local_id: int) -> None:
        """Delete a message for everyone (an unsent one that failed is simply dropped)."""
        message = self._message(local_id)
        send = self.outbox.item_for_message(message.client_id) if message.client_id else None
        if message.is_unsent and send is not None and send.state == OutboxState.FAILED:
            self.outbox.discard(send.id)
            self._changed(Topic.CHAT_LIST, Topic.OPEN_CHAT)
            return
        field, target = self._target(message)
        with self.cache.transaction():
            self.cache.delete_locally(local_id, self._now())
            self.outbox.enqueue(
                ActionKind.DELETE,
                {**field, "conversation_id": message.conversation_id},
                message.conversation_id,
                target_client_id=target,
                undo=message_undo(message),
            )
        self._changed(Topic.CHAT_LIST, Topic.OPEN_CHAT)

    def toggle_reaction(self, local_id: int, emoji: str) -> bool:
        """Add the user's ``emoji`` reaction, or remove it when already there; True if added."""
        if not is_allowed_reaction(emoji):
            raise ValueError(f"{emoji!r} is not an allowed reaction")
        message = self._message(local_id)
        add = not any(r.emoji == emoji and r.reacted_by_me for r in message.reactions)
        field, target = self._target(message)
        with self.cache.transaction():
            self.cache.toggle_reaction_locally(local_id, emoji, add)
            if add:
                self.cache.record_emoji(emoji, self.clock())
            self.outbox.enqueue(
                ActionKind.REACT if add else ActionKind.UNREACT,
                {**field, "emoji": emoji},
                message.conversation_id,
                target_client_id=target,
                undo=reaction_undo(local_id, emoji),
            )
        self._changed(Topic.OPEN_CHAT)
        return add

    def forward(self, local_ids: Sequence[int], target_conversation_ids: Sequence[str]) -> None:
        """Forward sent messages to up to five conversations; the copies appear when the server
        has made them."""
        messages = [self._message(i) for i in local_ids]
        if any(m.id is None or m.deleted for m in messages):
            raise ValueError("only sent, undeleted messages can be forwarded")
        request = ForwardMessagePayload(
            message_ids=[m.id for m in messages if m.id is not None],
            target_conversation_ids=list(target_conversation_ids),
        )
        self.outbox.enqueue(ActionKind.FORWARD, request.model_dump(by_alias=False))

    def pin_message(self, local_id: int, pinned: bool = True) -> None:
        """Pin (or unpin) a sent message in its conversation."""
        message = self._message(local_id)
        if message.id is None:
            raise ValueError("only sent messages can be pinned")
        before = self.cache.pinned_ids(message.conversation_id)
        ids = [i for i in before if i != message.id]
        with self.cache.transaction():
            self.cache.set_pins(message.conversation_id, [*ids, message.id] if pinned else ids)
            self.outbox.enqueue(
                ActionKind.PIN if pinned else ActionKind.UNPIN,
                {"conversation_id": message.conversation_id, "message_id": message.id},
                message.conversation_id,
                undo=pins_undo(message.conversation_id, before),
            )
        self._changed(Topic.OPEN_CHAT)

    def mark_read(self, conversation_id: str) -> bool:
        """Mark everything received in a conversation as read (one receipt for the newest
        message; a queued older receipt is replaced). False when nothing was unread."""
        latest = self.cache.latest_received(conversation_id)
        if latest is None or latest.seq is None or latest.id is None:
            return False
        with self.cache.transaction():
            if not self.cache.mark_read_up_to(conversation_id, latest.seq):
                return False
            self.outbox.enqueue(
                ActionKind.MARK_READ,
                {"conversation_id": conversation_id, "message_id": latest.id},
                conversation_id,
            )
        self._changed(Topic.CHAT_LIST)
        return True

    def retry(self, item_id: int) -> None:
        """Queue a failed outbox item again."""
        self.outbox.retry(item_id)
        self._changed(Topic.CHAT_LIST, Topic.OPEN_CHAT)

    def discard(self, item_id: int) -> None:
        """Drop a failed (or queued) outbox item; a send's message goes with it."""
        self.outbox.discard(item_id)
        self._changed(Topic.CHAT_LIST, Topic.OPEN_CHAT)

    def retry_message(self, local_id: int) -> None:
        """Retry sending a failed message."""
        item = self._send_item(local_id)
        if item is not None:
            self.retry(item)

    def discard_message(self, local_id: int) -> None:
        """Give up on a failed message (it disappears)."""
        item = self._send_item(local_id)
        if item is not None:
            self.discard(item)

    def _send_item(self, local_id: int) -> int | None:
        message = self._message(local_id)
        item = self.outbox.item_for_message(message.client_id) if message.client_id else None
        return None if item is None else item.id

    # --- conversation settings ----------------------------------------------------------------

    def _settings(self, conversation_id: str, patch: SettingsPatch, **local: Any) -> None:
        current = self.cache.settings(conversation_id)
        if current is None:
            raise ValueError(f"no conversation {conversation_id}")
        with self.cache.transaction():
            self.cache.apply_settings(conversation_id, current.model_copy(update=local))
            self.outbox.enqueue(
                ActionKind.SETTINGS,
                {
                    "conversation_id": conversation_id,
                    "patch": patch.model_dump(mode="json", exclude_none=True),
                },
                conversation_id,
                undo=settings_undo(conversation_id, current),
            )
        self._changed(Topic.CHAT_LIST)

    def mute(self, conversation_id: str, duration: timedelta | None = None) -> None:
        """Mute a conversation for ``duration`` (None: until unmuted)."""
        until = None if duration is None else self._now() + duration
        self._settings(
            conversation_id,
            SettingsPatch(is_muted=True, muted_until=until),
            is_muted=True,
            muted_until=until,
        )

    def unmute(self, conversation_id: str) -> None:
        """Unmute a conversation."""
        self._settings(
            conversation_id, SettingsPatch(is_muted=False), is_muted=False, muted_until=None
        )

    def pin_conversation(self, conversation_id: str, pinned: bool = True) -> None:
        """Pin a conversation to the top of the chat list (after those pinned before)."""
        rank = self.cache.next_pin_rank() if pinned else None
        self._settings(
            conversation_id, SettingsPatch(is_pinned=pinned), is_pinned=pinned, pin_rank=rank
        )

    def archive_conversation(self, conversation_id: str, archived: bool = True) -> None:
        """Move a conversation to the archive (or back)."""
        self._settings(conversation_id, SettingsPatch(is_archived=archived), is_archived=archived)

    # --- composer -----------------------------------------------------------------------------

    def save_draft(self, conversation_id: str, text: str, reply_to_id: str | None = None) -> None:
        """Keep the composer's text for the conversation (empty clears it)."""
        self.cache.save_draft(conversation_id, text, reply_to_id, self.clock())
        self._changed(Topic.CHAT_LIST)

    def record_emoji(self, emoji: str) -> None:
        """Remember an emoji the user inserted (the picker's recent row)."""
        self.cache.record_emoji(emoji, self.clock())

    def composer_changed(self, conversation_id: str, text: str) -> None:
        """Call on every keystroke: sends ``typing_start`` at most once per 2 s while typing,
        ``typing_stop`` when the composer is emptied."""
        if not text:
            self._stop_typing(conversation_id)
            return
        now = self.monotonic()
        self._last_keystroke[conversation_id] = now
        started = self._typing_started.get(conversation_id)
        if started is None or now - started >= limits.TYPING_START_INTERVAL_SECONDS:
            self._typing_started[conversation_id] = now
            self._emit(ClientEvent.TYPING_START, conversation_id)

    def typing_tick(self) -> None:
        """Call on a timer (e.g. every 0.5 s): sends ``typing_stop`` after 2 s without a
        keystroke."""
        now = self.monotonic()
        for conversation_id, last in list(self._last_keystroke.items()):
            if now - last >= limits.TYPING_IDLE_SECONDS:
                self._stop_typing(conversation_id)

    def _stop_typing(self, conversation_id: str) -> None:
        self._last_keystroke.pop(conversation_id, None)
        if self._typing_started.pop(conversation_id, None) is not None:
            self._emit(ClientEvent.TYPING_STOP, conversation_id)

    def _emit(self, event: ClientEvent, conversation_id: str) -> None:
        if self.send_typing is not None:
            self.send_typing(event, conversation_id)
