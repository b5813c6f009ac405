"""The offline core's network interfaces (``client.offline.transport``) over socket and REST.

While the socket is connected, outbox items go through it with an ack each, pipelined
(``route`` says ``PIPELINED``, ``start`` emits at once): the socket keeps their order and the
server answers them one after another. Otherwise ``perform`` carries one item through the
matching REST call. Either way the server dedupes sends on the client id, so an item whose
answer was lost is simply sent again.
Pins and settings have no socket event and always go through REST; delivered receipts have no
REST endpoint and wait for the socket.
"""

import asyncio
from collections.abc import Sequence
from typing import Any

from pydantic import TypeAdapter

from client.errors import NetworkError, ServerUnavailableError
from client.offline.outbox_items import ActionKind, OutboxItem, PinRequest, SettingsChange
from client.offline.transport import Route
from client.services.api import ApiClient
from client.services.realtime import RealtimeClient
from protocol import limits
from protocol.events import ClientEvent
from protocol.models import Conversation, Member, Message, SyncPage
from protocol.socket import (
    DeleteMessagePayload,
    EditMessagePayload,
    ForwardMessagePayload,
    MarkReadPayload,
    MessageDeliveredPayload,
    MessagePayload,
    ReactionPayload,
    SendMessagePayload,
)

_SOCKET_EVENTS: dict[ActionKind, ClientEvent] = {
    ActionKind.SEND: ClientEvent.SEND_MESSAGE,
    ActionKind.EDIT: ClientEvent.EDIT_MESSAGE,
    ActionKind.DELETE: ClientEvent.DELETE_MESSAGE,
    ActionKind.REACT: ClientEvent.ADD_REACTION,
    ActionKind.UNREACT: ClientEvent.REMOVE_REACTION,
    ActionKind.MARK_READ: ClientEvent.MARK_READ,
    ActionKind.MARK_DELIVERED: ClientEvent.MESSAGE_DELIVERED,
    ActionKind.FORWARD: ClientEvent.FORWARD_MESSAGE,
}
_MESSAGES = TypeAdapter(list[MessagePayload])


class ServerTransport:
    """Implements ``Transport`` and ``SyncFetcher`` for one signed-in account."""

    def __init__(self, api: ApiClient, realtime: RealtimeClient | None = None) -> None:
        self.api = api
        self.realtime = realtime

    # --- Transport ----------------------------------------------------------------------------

    def route(self, item: OutboxItem) -> Route:
        """Socket actions go pipelined while the socket is up; otherwise one REST call at a
        time, except delivered receipts, which have no REST endpoint and wait for the socket."""
        if self._socket_up() and item.kind in _SOCKET_EVENTS:
            return Route.PIPELINED
        if item.kind is ActionKind.MARK_DELIVERED:
            return Route.LATER
        return Route.ALONE

    def start(self, item: OutboxItem) -> "asyncio.Future[Sequence[Message]]":
        """Emit ``item``'s socket event now; the future resolves to the messages of its ack."""
        if self.realtime is None:
            raise NetworkError("no socket")
        ack = self.realtime.start_call(_SOCKET_EVENTS[item.kind], item.request())
        return asyncio.ensure_future(_answer_of(item.kind, ack))

    async def perform(self, item: OutboxItem) -> Sequence[Message]:
        """Carry ``item`` to the server; return the messages it answered with."""
        request = item.request()
        event = _SOCKET_EVENTS.get(item.kind)
        if event is not None and self.realtime is not None and self._socket_up():
            try:
                ack = await self.realtime.call(event, request)
            except NetworkError:
                if item.kind is ActionKind.MARK_DELIVERED:
                    raise
            else:
                return _messages_from_ack(item.kind, ack)
        return await self._perform_rest(item, request)

    def _socket_up(self) -> bool:
        return self.realtime is not None and self.realtime.connected

    async def _perform_rest(self, item: OutboxItem, request: Any) -> Sequence[Message]:
        api = self.api
        match request:
            case SendMessagePayload():
                return [
                    await api.send_message(
                        request.conversation_id,
                        request.text,
                        request.client_id,
                        request.reply_to_id,
                    )
                ]
            case EditMessagePayload():
                return [await api.edit_message(request.message_id, request.text)]
            case DeleteMessagePayload():
                conversation_id = request.conversation_id or item.conversation_id
                if conversation_id is None:
                    raise ServerUnavailableError("delete without a conversation id")
                await api.delete_message(conversation_id, request.message_id)
            case ReactionPayload() if item.kind is ActionKind.REACT:
                await api.add_reaction(request.message_id, request.emoji)
            case ReactionPayload():
                await api.remove_reaction(request.message_id, request.emoji)
            case MarkReadPayload():
                await api.mark_read(request.conversation_id, request.message_id)
            case MessageDeliveredPayload():
                raise NetworkError("delivered receipts wait for the socket")
            case PinRequest():
                pinned = item.kind is ActionKind.PIN
                await api.pin_message(request.conversation_id, request.message_id, pinned)
            case SettingsChange():
                await api.update_settings(request.conversation_id, request.patch)
            case ForwardMessagePayload():
                return await api.forward(
                    request.message_ids, request.target_conversation_ids, request.client_id
                )
        return []

    # --- SyncFetcher --------------------------------------------------------------------------

    async def sync_page(self, since: int, limit: int) -> SyncPage:
        """``GET /sync?since=&limit=``; ``SyncExpiredError`` on 410."""
        return await self.api.sync(since, limit)

    async def sync_head(self) -> int:
        """The id of the newest event in the server's log."""
        return await self.api.sync_head()

    async def conversations(self) -> Sequence[Conversation]:
        """Every conversation of the caller, archived ones included."""
        active = await self.api.all_conversations()
        archived = await self.api.all_conversations(archived=True)
        seen = {c.id for c in active}
        return active + [c for c in archived if c.id not in seen]

    async def conversation(self, conversation_id: str) -> Conversation:
        """``GET /conversations/{id}``."""
        return await self.api.conversation(conversation_id)

    async def members(self, conversation_id: str) -> Sequence[Member]:
        """Every page of ``GET /conversations/{id}/members``."""
        return await self.api.members(conversation_id)

    async def recent_messages(self, conversation_id: str, limit: int) -> Sequence[Message]:
        """The newest ``limit`` messages, paging ``GET /conversations/{id}/messages``."""
        result: list[Message] = []
        cursor: str | None = None
        while len(result) < limit:
            page = await self.api.messages(
                conversation_id, cursor=cursor, limit=min(limits.MAX_PAGE_SIZE, limit - len(result))
            )
            result.extend(page.items)
            if not page.has_more or page.next_cursor is None:
                break
            cursor = page.next_cursor
        return result


async def _answer_of(kind: ActionKind, ack: "asyncio.Future[Any]") -> Sequence[Message]:
    return _messages_from_ack(kind, await ack)


def _messages_from_ack(kind: ActionKind, ack: Any) -> Sequence[Message]:
    """The messages a socket ack carries: the stored message of a send or edit, the copies of
    a forward; nothing for the other actions."""
    if kind in (ActionKind.SEND, ActionKind.EDIT):
        return [MessagePayload.model_validate(ack)]
    if kind is ActionKind.FORWARD and isinstance(ack, dict):
        return _MESSAGES.validate_python(ack.get("messages", []))
    return []
