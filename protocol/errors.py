"""Error codes and the error body every endpoint and socket ack uses."""

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class ErrorCode(StrEnum):
    """Machine-readable error codes. Each maps to one HTTP status (see ``HTTP_STATUS``)."""

    VALIDATION_ERROR = "VALIDATION_ERROR"
    UNAUTHORIZED = "UNAUTHORIZED"
    INVALID_TOKEN = "INVALID_TOKEN"
    INVALID_CREDENTIALS = "INVALID_CREDENTIALS"
    FORBIDDEN = "FORBIDDEN"
    NOT_A_MEMBER = "NOT_A_MEMBER"
    BLOCKED = "BLOCKED"
    MUTED = "MUTED"
    LOCKED = "LOCKED"
    BANNED = "BANNED"
    NOT_A_GROUP = "NOT_A_GROUP"
    NOT_FOUND = "NOT_FOUND"
    USERNAME_TAKEN = "USERNAME_TAKEN"
    CONFLICT = "CONFLICT"
    SYNC_EXPIRED = "SYNC_EXPIRED"
    PAYLOAD_TOO_LARGE = "PAYLOAD_TOO_LARGE"
    UNSUPPORTED_MEDIA_TYPE = "UNSUPPORTED_MEDIA_TYPE"
    RATE_LIMITED = "RATE_LIMITED"
    INTERNAL = "INTERNAL"


HTTP_STATUS: dict[ErrorCode, int] = {
    ErrorCode.VALIDATION_ERROR: 400,
    ErrorCode.UNAUTHORIZED: 401,
    ErrorCode.INVALID_TOKEN: 401,
    ErrorCode.INVALID_CREDENTIALS: 401,
    ErrorCode.FORBIDDEN: 403,
    ErrorCode.NOT_A_MEMBER: 403,
    ErrorCode.BLOCKED: 403,
    ErrorCode.MUTED: 403,
    ErrorCode.LOCKED: 403,
    ErrorCode.BANNED: 403,
    ErrorCode.NOT_A_GROUP: 400,
    ErrorCode.NOT_FOUND: 404,
    ErrorCode.USERNAME_TAKEN: 409,
    ErrorCode.CONFLICT: 409,
    ErrorCode.SYNC_EXPIRED: 410,
    ErrorCode.PAYLOAD_TOO_LARGE: 413,
    ErrorCode.UNSUPPORTED_MEDIA_TYPE: 415,
    ErrorCode.RATE_LIMITED: 429,
    ErrorCode.INTERNAL: 500,
}

PERMANENT_ERRORS: frozenset[ErrorCode] = frozenset(
    {
        ErrorCode.VALIDATION_ERROR,
        ErrorCode.FORBIDDEN,
        ErrorCode.NOT_A_MEMBER,
        ErrorCode.BLOCKED,
        ErrorCode.MUTED,
        ErrorCode.LOCKED,
        ErrorCode.BANNED,
        ErrorCode.NOT_A_GROUP,
        ErrorCode.NOT_FOUND,
        ErrorCode.CONFLICT,
        ErrorCode.PAYLOAD_TOO_LARGE,
        ErrorCode.UNSUPPORTED_MEDIA_TYPE,
    }
)
"""Codes a client must not retry: the same request will fail the same way."""


class ErrorBody(BaseModel):
    """``{"code": ..., "message": ...}`` — the body of every error response and socket ack error.

    ``retryAfter`` (seconds) is present only with ``RATE_LIMITED``; ``until`` only with
    ``MUTED`` (when the mute ends).
    """

    model_config = ConfigDict(populate_by_name=True)

    code: ErrorCode
    message: str
    retry_after: int | None = Field(default=None, alias="retryAfter")
    until: datetime | None = None


class ErrorAck(BaseModel):
    """A socket ack that failed: ``{"error": {"code", "message"}}``."""

    error: ErrorBody
