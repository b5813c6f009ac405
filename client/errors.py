"""One exception hierarchy for the client: services raise these, the outbox and views read them.

``TransientError`` means "try again later" (network down, server restarting, 5xx, rate limited);
``PermanentError`` means "this request will never succeed" (validation, blocked, not a member);
``AuthError`` means the session is over and the user must sign in again.
"""

from protocol.errors import PERMANENT_ERRORS, ErrorCode


class OpenChatError(Exception):
    """Base of every error the client services raise."""

    def __init__(self, message: str, code: str = ErrorCode.INTERNAL) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class TransientError(OpenChatError):
    """The request may succeed if retried later."""


class NetworkError(TransientError):
    """The server could not be reached or the connection dropped mid-request."""

    def __init__(self, message: str = "The server could not be reached") -> None:
        super().__init__(message, "NETWORK_ERROR")


class ServerUnavailableError(TransientError):
    """The server answered 5xx: it is restarting or failing; retry with backoff."""


class RateLimitedError(TransientError):
    """429: retry after ``retry_after`` seconds."""

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message, ErrorCode.RATE_LIMITED)
        self.retry_after = retry_after


class PermanentError(OpenChatError):
    """The server refused the request for a reason retrying cannot fix."""


class ForbiddenError(PermanentError):
    """403: not a member, blocked, or not allowed (``code`` says which)."""


class NotFoundError(PermanentError):
    """404: the thing does not exist or the caller may not see it."""


class ValidationFailedError(PermanentError):
    """400: the request was malformed (text too long, bad emoji, ...)."""


class ConflictError(PermanentError):
    """409: e.g. the username is taken."""


class AuthError(OpenChatError):
    """401 that a token refresh could not fix: the user must sign in again."""


class SyncExpiredError(OpenChatError):
    """410 from ``/sync``: the client is too far behind and must do a full resync."""


def error_for(
    status: int, code: str, message: str, retry_after: float | None = None
) -> OpenChatError:
    """Map an HTTP status and a server error body to the matching client exception."""
    if status == 429 or code == ErrorCode.RATE_LIMITED:
        return RateLimitedError(message, retry_after if retry_after is not None else 1.0)
    if status == 401:
        return AuthError(message, code)
    if status == 410:
        return SyncExpiredError(message, code)
    if status == 403:
        return ForbiddenError(message, code)
    if status == 404:
        return NotFoundError(message, code)
    if status == 409:
        return ConflictError(message, code)
    if status >= 500:
        return ServerUnavailableError(message, code)
    if 400 <= status < 500 or code in PERMANENT_ERRORS:
        return ValidationFailedError(message, code)
    return ServerUnavailableError(message, code)
