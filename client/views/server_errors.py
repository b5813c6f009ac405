"""Sentences a person understands for the errors of actions that need the server."""

from client.errors import (
    AuthError,
    ForbiddenError,
    NotFoundError,
    OpenChatError,
    RateLimitedError,
    TransientError,
)
from protocol.errors import ErrorCode

_FORBIDDEN_BECAUSE: dict[str, str] = {
    ErrorCode.BANNED: "that person is banned from this group. Unban them first.",
    ErrorCode.MUTED: "an admin muted you in this group.",
    ErrorCode.LOCKED: "the group is locked; only admins can send messages.",
    ErrorCode.NOT_A_MEMBER: "you are no longer a member of this group.",
}


def explain(error: OpenChatError, doing: str) -> str:
    """Why ``doing`` ("Starting a chat", "Reporting") failed, in plain words."""
    if isinstance(error, RateLimitedError):
        return "Too many requests. Wait a moment and try again."
    if isinstance(error, TransientError):
        return f"{doing} needs the server. You are offline; try again when connected."
    if isinstance(error, AuthError):
        return "Your session has ended. Sign in again."
    if isinstance(error, ForbiddenError) and error.code == ErrorCode.BLOCKED:
        return f"{doing} is not possible: one of you has blocked the other."
    if isinstance(error, ForbiddenError) and error.code in _FORBIDDEN_BECAUSE:
        return f"{doing} is not possible: {_FORBIDDEN_BECAUSE[error.code]}"
    if isinstance(error, ForbiddenError):
        return f"{doing} is not allowed here: {error.message}."
    if isinstance(error, NotFoundError):
        return f"{doing} failed: that person or chat no longer exists."
    return f"{doing} failed: {error.message}"
