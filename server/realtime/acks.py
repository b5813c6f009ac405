"""Ack bodies and the guard every client event runs in: validate the payload, call the service,
and answer through the ack — with the result or ``{"error": {"code", "message"}}``, never by
silence, a dropped connection or an unhandled exception."""

import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from protocol.errors import ErrorCode
from server.errors import ApiError, describe_validation_error

log = logging.getLogger("openchat.realtime")

Ack = dict[str, Any]
"""What a handler returns; python-socketio sends it as the ack's single argument."""

P = TypeVar("P", bound=BaseModel)

OK: Ack = {"ok": True}


def error_ack(error: ApiError) -> Ack:
    """``{"error": {"code", "message"}}`` (plus ``retryAfter`` when rate limited)."""
    return {"error": error.body()}


def parse(model: type[P], args: tuple[Any, ...]) -> P:
    """Validate the event's arguments as one JSON object of ``model``; VALIDATION_ERROR otherwise
    (no argument, several arguments, a non-object, unknown or malformed fields)."""
    if len(args) != 1 or not isinstance(args[0], dict):
        raise ApiError(ErrorCode.VALIDATION_ERROR, "the payload must be one JSON object")
    try:
        return model.model_validate(args[0])
    except ValidationError as exc:
        raise ApiError(ErrorCode.VALIDATION_ERROR, describe_validation_error(exc)) from exc


async def guarded(event: str, call: Callable[[], Awaitable[Ack]]) -> Ack:
    """Run ``call`` and turn every failure into an error ack (unexpected ones are logged as
    INTERNAL without the payload)."""
    try:
        return await call()
    except Exception as exc:
        return failure_ack(event, exc)


def failure_ack(event: str, exc: Exception) -> Ack:
    """The error ack for a failed event: the refusal itself, or INTERNAL (logged, without the
    payload) for anything unexpected."""
    if isinstance(exc, ApiError):
        return error_ack(exc)
    log.error("socket event %s failed", event, exc_info=exc)
    return error_ack(ApiError(ErrorCode.INTERNAL, "the server failed to handle this event"))
