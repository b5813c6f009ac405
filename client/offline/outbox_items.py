"""What the outbox holds: the kinds of user action, their request bodies, and queued items."""

import json
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final

from pydantic import BaseModel, ConfigDict

from protocol.rest import Identifier, SettingsPatch
from protocol.socket import (
    DeleteMessagePayload,
    EditMessagePayload,
    ForwardMessagePayload,
    MarkReadPayload,
    MessageDeliveredPayload,
    ReactionPayload,
    SendMessagePayload,
)


class ActionKind(StrEnum):
    """Every user action the outbox carries to the server."""

    SEND = "send"
    EDIT = "edit"
    DELETE = "delete"
    REACT = "react"
    UNREACT = "unreact"
    MARK_READ = "mark_read"
    MARK_DELIVERED = "mark_delivered"
    PIN = "pin"
    UNPIN = "unpin"
    SETTINGS = "settings"
    FORWARD = "forward"


class OutboxState(StrEnum):
    """``queued`` items are drained in order; ``failed`` ones wait for retry or discard."""

    QUEUED = "queued"
    FAILED = "failed"


class PinRequest(BaseModel):
    """Pin or unpin a message (``POST|DELETE /conversations/{id}/messages/{msg_id}/pin``)."""

    model_config = ConfigDict(extra="forbid")

    conversation_id: Identifier
    message_id: Identifier


class SettingsChange(BaseModel):
    """Change the caller's settings of a conversation (``PATCH .../settings``)."""

    model_config = ConfigDict(extra="forbid")

    conversation_id: Identifier
    patch: SettingsPatch


ActionRequest = (
    SendMessagePayload
    | EditMessagePayload
    | DeleteMessagePayload
    | ReactionPayload
    | MarkReadPayload
    | MessageDeliveredPayload
    | PinRequest
    | SettingsChange
    | ForwardMessagePayload
)
"""The typed body of an outbox item; the transport picks the socket event or REST call."""

REQUEST_MODELS: Final[dict[ActionKind, type[ActionRequest]]] = {
    ActionKind.SEND: SendMessagePayload,
    ActionKind.EDIT: EditMessagePayload,
    ActionKind.DELETE: DeleteMessagePayload,
    ActionKind.REACT: ReactionPayload,
    ActionKind.UNREACT: ReactionPayload,
    ActionKind.MARK_READ: MarkReadPayload,
    ActionKind.MARK_DELIVERED: MessageDeliveredPayload,
    ActionKind.PIN: PinRequest,
    ActionKind.UNPIN: PinRequest,
    ActionKind.SETTINGS: SettingsChange,
    ActionKind.FORWARD: ForwardMessagePayload,
}

COALESCED_KINDS: Final = frozenset({ActionKind.MARK_READ, ActionKind.MARK_DELIVERED})
"""Receipts: a newer one replaces a queued one of the same conversation."""


def forward_copy_id(forward_client_id: str, index: int) -> str:
    """The local client id of the ``index``-th copy a forward makes (copies are numbered in
    the order the server answers them: targets in the order given, and within each target the
    messages in the order given). Local only: the server derives its own for the copies."""
    return f"{forward_client_id}.{index}"


def validate_request(kind: ActionKind, payload: dict[str, Any]) -> ActionRequest:
    """Check ``payload`` (snake_case) against the body model of ``kind``; raises
    ``pydantic.ValidationError`` when it is malformed."""
    return REQUEST_MODELS[kind].model_validate(payload)


@dataclass(frozen=True, slots=True)
class OutboxItem:
    """One queued user action. ``client_id`` identifies it end to end (for a send it is the
    message's client id, which the server dedupes on). ``target_client_id`` names the unsent
    message an edit/delete/react/pin refers to: its server id is filled in when it is sent."""

    id: int
    client_id: str
    kind: ActionKind
    conversation_id: str | None
    target_client_id: str | None
    payload: dict[str, Any]
    state: OutboxState
    revision: int
    attempts: int
    next_attempt_at: float
    error_code: str | None
    error_message: str | None
    created_at: float
    undo: dict[str, Any] | None = None
    """What rolls back the optimistic change if the item fails for good (``offline.undo``)."""

    def request(self) -> ActionRequest:
        """The typed request body (validated)."""
        return validate_request(self.kind, self.payload)

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> "OutboxItem":
        """Build from an ``outbox`` row."""
        return cls(
            id=row["id"],
            client_id=row["client_id"],
            kind=ActionKind(row["kind"]),
            conversation_id=row["conversation_id"],
            target_client_id=row["target_client_id"],
            payload=json.loads(row["payload"]),
            state=OutboxState(row["state"]),
            revision=row["revision"],
            attempts=row["attempts"],
            next_attempt_at=row["next_attempt_at"],
            error_code=row["error_code"],
            error_message=row["error_message"],
            created_at=row["created_at"],
            undo=json.loads(row["undo"]) if row["undo"] else None,
        )
