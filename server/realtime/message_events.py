"""Client events that change messages: each validated payload goes to its service, whose
committed change is emitted to the rooms by the publisher; the ack carries the result."""

from collections.abc import Awaitable, Sequence

from protocol.models import Message, ReactionSummary
from protocol.rest import ForwardRequest
from protocol.socket import (
    CamelReaction,
    DeleteMessagePayload,
    EditMessagePayload,
    ForwardMessagePayload,
    MarkReadPayload,
    MessageDeliveredPayload,
    ReactionPayload,
    SendMessagePayload,
)
from server.context import ServerContext
from server.realtime.acks import OK, Ack
from server.realtime.connections import Caller
from server.services import forward, messages, reactions, receipts
from server.services.send_batch import SendRequest
from server.services.send_queue import SendResult, message_payload


def message_json(message: Message) -> dict[str, object]:
    """A stored message as the socket sends it (camelCase)."""
    return message_payload(message)


def reactions_ack(summary: Sequence[ReactionSummary]) -> Ack:
    """``{"reactions": [{emoji, count, reactedByMe, userIds}]}`` from the caller's view."""
    return {
        "reactions": [
            CamelReaction.model_validate(item.model_dump()).model_dump(mode="json")
            for item in summary
        ]
    }


class MessageEvents:
    """The message, reaction, receipt and forward events of one server."""

    def __init__(self, context: ServerContext) -> None:
        self._context = context

    def send_message(self, caller: Caller, payload: SendMessagePayload) -> Awaitable[Ack]:
        """Queue the send now (a socket's sends are stored in arrival order); the awaitable
        gives the ack: the stored message (the same one again for a repeated ``clientId``)."""
        request = SendRequest(
            caller.user_id,
            payload.conversation_id,
            payload.text,
            payload.client_id,
            payload.reply_to_id,
        )
        return _ack_of(self._context.sends.submit(request))

    async def edit_message(self, caller: Caller, payload: EditMessagePayload) -> Ack:
        """Ack: the edited message."""
        message = await messages.edit_message(
            self._context, caller.user_id, payload.message_id, payload.text
        )
        return message_json(message)

    async def delete_message(self, caller: Caller, payload: DeleteMessagePayload) -> Ack:
        """Ack: ``{"ok": true}``."""
        await messages.delete_message(
            self._context, caller.user_id, payload.message_id, payload.conversation_id
        )
        return OK

    async def add_reaction(self, caller: Caller, payload: ReactionPayload) -> Ack:
        """Ack: the message's reaction summary."""
        summary = await reactions.add_reaction(
            self._context, caller.user_id, payload.message_id, payload.emoji
        )
        return reactions_ack(summary)

    async def remove_reaction(self, caller: Caller, payload: ReactionPayload) -> Ack:
        """Ack: the message's reaction summary."""
        summary = await reactions.remove_reaction(
            self._context, caller.user_id, payload.message_id, payload.emoji
        )
        return reactions_ack(summary)

    async def mark_read(self, caller: Caller, payload: MarkReadPayload) -> Ack:
        """Ack: ``{"ok": true}``."""
        await receipts.mark_read(
            self._context, caller.user_id, payload.conversation_id, payload.message_id
        )
        return OK

    async def message_delivered(self, caller: Caller, payload: MessageDeliveredPayload) -> Ack:
        """Ack: ``{"ok": true}``."""
        await receipts.mark_delivered(
            self._context, caller.user_id, payload.conversation_id, payload.message_id
        )
        return OK

    async def forward_message(self, caller: Caller, payload: ForwardMessagePayload) -> Ack:
        """Ack: ``{"messages": [...]}``, one per (message, target) in the order given."""
        body = ForwardRequest.model_validate(payload.model_dump(by_alias=False))
        created = await forward.forward_messages(self._context, caller.user_id, body)
        return {"messages": [message_json(m) for m in created]}


async def _ack_of(pending: Awaitable[SendResult]) -> Ack:
    return (await pending).payload
