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
    if isinstance(error, ForbiddenError):
        return f"{doing} is not allowed here."
    if isinstance(error, NotFoundError):
        return f"{doing} failed: that person or chat no longer exists."
    return f"{doing} failed: {error.message}"
