"""Everything a user can do.

``Actions`` work offline: each writes the cache and the outbox in one transaction and refreshes
the store; none awaits the network (the outbox worker sends later, in order). Typing
notifications are ephemeral: they go straight to ``send_typing`` (never queued).

``ServerActions`` are the few that only the server can answer (finding people, creating a
conversation, reporting, reading a group's members, refreshing): they await the API and raise its
``client.errors`` exceptions (``NetworkError`` while offline) for the view to explain.

Invalid input raises ``ValueError`` (pydantic's ``ValidationError`` is one) before anything is
written or sent.
"""

import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from pydantic import TypeAdapter

from client.offline.cache import Cache
from client.offline.outbox import Outbox
from client.offline.outbox_items import ActionKind, OutboxState, forward_copy_id
from client.offline.records import CachedMessage, MemberRow
from client.offline.undo import (
    forward_undo,
    message_undo,
    pins_undo,
    reaction_undo,
    settings_undo,
)
from client.store import Store, Topic
from client.wording import MUTED_FOREVER
from protocol import limits
from protocol.events import ClientEvent
from protocol.models import (
    AuditEntry,
    Conversation,
    ConversationType,
    ForwardOrigin,
    GroupBan,
    Member,
    MessageReceipt,
    Page,
    User,
)
from protocol.reactions import is_allowed_reaction
from protocol.rest import (
    AddMembersRequest,
    CreateGroupRequest,
    MessageText,
    RenameRequest,
    ReportRequest,
    RoleRequest,
    SettingsPatch,
)
from protocol.socket import ForwardMessagePayload, SendMessagePayload

_MESSAGE_TEXT: TypeAdapter[str] = TypeAdapter(MessageText)
MAX_USER_QUERY_LENGTH = 64
"""``GET /users?query=`` accepts 1–64 characters."""

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

    def forward(
        self, local_ids: Sequence[int], target_conversation_ids: Sequence[str]
    ) -> list[CachedMessage]:
        """Forward sent messages to up to five conversations: the copies show at once, pending
        (in each target in the order given, the messages in the order given), and become the
        server's copies when it answers; they go away if the forward fails for good."""
        messages = [self._message(i) for i in dict.fromkeys(local_ids)]
        if any(m.id is None or m.deleted for m in messages):
            raise ValueError("only sent, undeleted messages can be forwarded")
        targets = list(dict.fromkeys(target_conversation_ids))
        client_id = self.new_id()
        request = ForwardMessagePayload(
            message_ids=[m.id for m in messages if m.id is not None],
            target_conversation_ids=targets,
            client_id=client_id,
        )
        pairs = [(target, message) for target in targets for message in messages]
        copy_ids = [forward_copy_id(client_id, index) for index in range(len(pairs))]
        with self.cache.transaction():
            copies = [
                self.cache.add_pending_message(
                    target,
                    message.text or "",
                    copy_id,
                    self._now(),
                    forwarded_from=self._origin(message),
                )
                for (target, message), copy_id in zip(pairs, copy_ids, strict=True)
            ]
            self.outbox.enqueue(
                ActionKind.FORWARD,
                request.model_dump(by_alias=False),
                client_id=client_id,
                undo=forward_undo(copy_ids),
            )
        self._changed(Topic.CHAT_LIST, Topic.OPEN_CHAT)
        return copies

    def _origin(self, message: CachedMessage) -> ForwardOrigin:
        """Where a copy of ``message`` says it came from: the first origin (a forward of a
        forward keeps it), else the message itself, its sender and, for a group, its title."""
        if message.forwarded_from is not None:
            return message.forwarded_from
        sender = self.cache.user(message.sender_id)
        conversation = self.cache.conversation(message.conversation_id)
        in_group = conversation is not None and conversation.type != "direct"
        return ForwardOrigin(
            message_id=message.id,
            sender_name=sender.display_name if sender is not None else "",
            conversation_title=conversation.title if in_group and conversation else None,
        )

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


class ConversationsApi(Protocol):
    """The part of ``client.services.api.ApiClient`` that ``ServerActions`` uses."""

    async def find_users(self, query: str, limit: int | None = None) -> list[User]:
        """``GET /users?query=``."""
        ...

    async def create_direct(self, user_id: str) -> Conversation:
        """``POST /conversations {type: direct}``."""
        ...

    async def create_group(self, title: str, member_ids: list[str]) -> Conversation:
        """``POST /conversations {type: private_group}``."""
        ...

    async def members(self, conversation_id: str) -> list[Member]:
        """``GET /conversations/{id}/members``."""
        ...

    async def report(self, report: ReportRequest) -> None:
        """``POST /reports``."""
        ...

    async def rename_group(self, conversation_id: str, title: str) -> Conversation:
        """``PATCH /conversations/{id}``."""
        ...

    async def add_members(self, conversation_id: str, user_ids: list[str]) -> list[Member]:
        """``POST /conversations/{id}/members``."""
        ...

    async def remove_member(self, conversation_id: str, user_id: str) -> None:
        """``DELETE /conversations/{id}/members/{user_id}``."""
        ...

    async def leave_group(self, conversation_id: str) -> None:
        """``POST /conversations/{id}/leave``."""
        ...

    async def set_role(self, conversation_id: str, user_id: str, role: str) -> Member:
        """``PATCH /conversations/{id}/members/{user_id}/role``."""
        ...

    async def mute_member(
        self, conversation_id: str, user_id: str, until: datetime | None
    ) -> Member:
        """``POST`` (``until`` set) or ``DELETE /conversations/{id}/members/{user_id}/mute``."""
        ...

    async def ban_member(self, conversation_id: str, user_id: str, until: datetime | None) -> None:
        """``POST /conversations/{id}/members/{user_id}/ban``."""
        ...

    async def unban_member(self, conversation_id: str, user_id: str) -> None:
        """``DELETE /conversations/{id}/members/{user_id}/ban``."""
        ...

    async def bans(self, conversation_id: str) -> list[GroupBan]:
        """``GET /conversations/{id}/bans``."""
        ...

    async def audit_log(
        self, conversation_id: str, cursor: str | None = None, limit: int = 50
    ) -> Page[AuditEntry]:
        """``GET /conversations/{id}/audit-log``: one page."""
        ...

    async def set_locked(self, conversation_id: str, locked: bool) -> Conversation:
        """``PATCH /conversations/{id}/lock``."""
        ...

    async def message_receipts(self, message_id: str) -> list[MessageReceipt]:
        """``GET /messages/{id}/receipts``."""
        ...


class ServerActions:
    """Actions that need the server's answer; what they learn is written to the cache."""

    def __init__(
        self,
        cache: Cache,
        store: Store,
        api: ConversationsApi,
        catch_up: Callable[[], Awaitable[object]],
        clock: Callable[[], float] = time.time,
    ) -> None:
        """``catch_up`` pulls the changes the client missed (``Synchronizer.catch_up``);
        ``clock`` is wall time (when mutes and bans end)."""
        self.cache = cache
        self.store = store
        self.api = api
        self._catch_up = catch_up
        self._clock = clock

    def _until(self, duration: timedelta | None) -> datetime | None:
        return None if duration is None else datetime.fromtimestamp(self._clock(), UTC) + duration

    async def find_people(self, query: str) -> list[User]:
        """People whose username or display name contains ``query`` (never the user)."""
        text = query.strip()[:MAX_USER_QUERY_LENGTH]
        if not text:
            return []
        return [user for user in await self.api.find_users(text) if user.id != self.cache.me]

    def cached_direct_chat(self, user_id: str) -> str | None:
        """The id of the cached direct chat with ``user_id`` (archived ones included)."""
        for archived in (False, True):
            for row in self.cache.chat_list(archived):
                if row.type == ConversationType.DIRECT and row.peer_id == user_id:
                    return row.id
        return None

    async def open_direct(self, user: User) -> str:
        """The direct chat with ``user``: the cached one at once (offline too), else the server
        creates it (or returns the one it has) and it is cached."""
        cached = self.cached_direct_chat(user.id)
        if cached is not None:
            return cached
        conversation = await self.api.create_direct(user.id)
        self.cache.upsert_conversation(conversation)
        self.store.invalidate(Topic.CHAT_LIST)
        return conversation.id

    async def create_group(self, title: str, member_ids: Sequence[str]) -> str:
        """Create a private group owned by the user with ``member_ids``; returns its id."""
        request = CreateGroupRequest(
            type="private_group", title=title.strip(), member_ids=list(member_ids)
        )
        conversation = await self.api.create_group(request.title, request.member_ids)
        members = await self.api.members(conversation.id)
        with self.cache.transaction():
            self.cache.upsert_conversation(conversation)
            self.cache.replace_members(conversation.id, members)
        self.store.invalidate(Topic.CHAT_LIST)
        return conversation.id

    async def report(self, message: CachedMessage, reason: str, detail: str = "") -> None:
        """Report a sent message to the moderators (``reason``: SPAM, HARASSMENT,
        INAPPROPRIATE or OTHER; ``detail``: an optional note)."""
        if message.id is None:
            raise ValueError("only sent messages can be reported")
        request = ReportRequest.model_validate(
            {"message_id": message.id, "reason": reason, "detail": detail.strip() or None}
        )
        await self.api.report(request)

    async def load_members(self, conversation_id: str) -> list[MemberRow]:
        """Fetch a conversation's members into the cache and return them."""
        members = await self.api.members(conversation_id)
        self.cache.replace_members(conversation_id, members)
        return self.cache.members(conversation_id)

    # --- group administration -----------------------------------------------------------------

    async def rename_group(self, conversation_id: str, title: str) -> None:
        """Give a group a new title (owners and admins)."""
        clean = RenameRequest(title=title.strip()).title
        await self.api.rename_group(conversation_id, clean)
        self.cache.set_conversation_title(conversation_id, clean)
        self.store.invalidate(Topic.CHAT_LIST)

    async def add_members(self, conversation_id: str, user_ids: Sequence[str]) -> list[MemberRow]:
        """Add people to a group (owners and admins); returns the members now."""
        request = AddMembersRequest(user_ids=list(user_ids))
        added = await self.api.add_members(conversation_id, request.user_ids)
        self.cache.upsert_members(conversation_id, added)
        self.store.invalidate(Topic.CHAT_LIST)
        return self.cache.members(conversation_id)

    async def remove_member(self, conversation_id: str, user_id: str) -> list[MemberRow]:
        """Remove someone from a group (owners; admins remove plain members)."""
        await self.api.remove_member(conversation_id, user_id)
        self.cache.remove_member(conversation_id, user_id)
        self.store.invalidate(Topic.CHAT_LIST)
        return self.cache.members(conversation_id)

    async def set_role(self, conversation_id: str, user_id: str, role: str) -> list[MemberRow]:
        """Make a member an admin (``"admin"``) or a plain member (``"member"``; owner only)."""
        member = await self.api.set_role(
            conversation_id, user_id, RoleRequest.model_validate({"role": role}).role
        )
        self.cache.set_member_role(conversation_id, user_id, member.role.value)
        return self.cache.members(conversation_id)

    async def mute_member(
        self, conversation_id: str, user_id: str, duration: timedelta | None
    ) -> list[MemberRow]:
        """Stop a member posting for ``duration`` (None: until unmuted); owners and admins, by
        rank. Returns the members now."""
        until = self._until(duration) or MUTED_FOREVER
        member = await self.api.mute_member(conversation_id, user_id, until)
        return self._member_changed(conversation_id, member)

    async def unmute_member(self, conversation_id: str, user_id: str) -> list[MemberRow]:
        """Let a muted member post again; returns the members now."""
        member = await self.api.mute_member(conversation_id, user_id, None)
        return self._member_changed(conversation_id, member)

    def _member_changed(self, conversation_id: str, member: Member) -> list[MemberRow]:
        self.cache.update_member(
            conversation_id, member.user.id, member.role.value, member.muted_until
        )
        self.store.invalidate(Topic.CHAT_LIST)
        return self.cache.members(conversation_id)

    async def ban_member(
        self, conversation_id: str, user_id: str, duration: timedelta | None
    ) -> list[MemberRow]:
        """Remove a member and keep them out for ``duration`` (None: until unbanned); returns
        the members now."""
        await self.api.ban_member(conversation_id, user_id, self._until(duration))
        self.cache.remove_member(conversation_id, user_id)
        self.store.invalidate(Topic.CHAT_LIST)
        return self.cache.members(conversation_id)

    async def bans(self, conversation_id: str) -> list[GroupBan]:
        """The bans in force in a group (owners and admins)."""
        return await self.api.bans(conversation_id)

    async def audit_log(self, conversation_id: str, cursor: str | None) -> Page[AuditEntry]:
        """A page of the group's audit log, newest first (owners and admins)."""
        return await self.api.audit_log(conversation_id, cursor)

    async def unban_member(self, conversation_id: str, user_id: str) -> list[GroupBan]:
        """Lift a ban; returns the bans still in force."""
        await self.api.unban_member(conversation_id, user_id)
        return await self.api.bans(conversation_id)

    async def set_locked(self, conversation_id: str, locked: bool) -> None:
        """Lock a group so only its owner and admins post, or unlock it (owner only)."""
        conversation = await self.api.set_locked(conversation_id, locked)
        self.cache.set_conversation_locked(conversation_id, conversation.locked)
        self.store.invalidate(Topic.CHAT_LIST)

    async def leave_group(self, conversation_id: str) -> None:
        """Leave a group: it disappears from the chat list with its messages."""
        await self.api.leave_group(conversation_id)
        self.cache.remove_conversation(conversation_id)
        self.store.invalidate(Topic.CHAT_LIST)

    async def message_receipts(self, message: CachedMessage) -> list[MessageReceipt]:
        """Whether and when each other member got and read a sent ``message``."""
        if message.id is None:
            raise ValueError("only sent messages have receipts")
        return await self.api.message_receipts(message.id)

    async def refresh(self) -> None:
        """Pull what changed on the server since the last sync (the chat list's refresh)."""
        await self._catch_up()
        self.store.invalidate(Topic.CHAT_LIST)
