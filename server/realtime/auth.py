"""Handshake authentication: the access token from ``auth.token`` (or ``Authorization: Bearer``).

A refusal is a ``ConnectionRefusedError(code, {"code", "message"})``: the client's
``connect_error`` gets ``{"message": code, "data": {"code", "message"}}`` — the JavaScript client
sees ``err.message == "INVALID_TOKEN"`` and ``err.data.code``, python-socketio's handler receives
the same object as a dict.
"""

import time
from typing import Any, NamedTuple

import jwt
from socketio.exceptions import ConnectionRefusedError

from protocol.errors import ErrorCode
from server.errors import ApiError
from server.services.tokens import TokenService


def refusal(code: ErrorCode, message: str) -> ConnectionRefusedError:
    """The exception that refuses a connection with ``code``."""
    return ConnectionRefusedError(code.value, {"code": code.value, "message": message})


def handshake_token(auth: Any, environ: dict[str, Any]) -> str | None:
    """The access token of a handshake: ``auth.token`` first, then ``Authorization: Bearer``."""
    if isinstance(auth, dict):
        token = auth.get("token")
        if isinstance(token, str) and token.strip():
            return token.strip()
    header = environ.get("HTTP_AUTHORIZATION")
    if isinstance(header, str):
        scheme, _, value = header.strip().partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return value.strip()
    return None


class Handshake(NamedTuple):
    """Who signed a socket in, and until when their access token is valid."""

    user_id: str
    expires_at: float
    """The token's ``exp`` (seconds since the epoch)."""

    def expired(self, now: float | None = None) -> bool:
        """True once the access token has expired: the socket's events are then refused."""
        return (time.time() if now is None else now) >= self.expires_at


def authenticate(tokens: TokenService, auth: Any, environ: dict[str, Any]) -> Handshake:
    """The user id and expiry of the handshake's valid access token; raise the refusal
    otherwise (UNAUTHORIZED when there is no token, INVALID_TOKEN when it is bad or expired)."""
    token = handshake_token(auth, environ)
    if token is None:
        raise refusal(ErrorCode.UNAUTHORIZED, "an access token is required")
    try:
        user_id = tokens.verify_access(token)
    except ApiError as exc:
        raise refusal(ErrorCode.INVALID_TOKEN, exc.message) from exc
    # verify_access checked the signature and required ``exp``: read it back unverified.
    claims = jwt.decode(token, options={"verify_signature": False})
    return Handshake(user_id, float(claims["exp"]))


def token_expired() -> ApiError:
    """INVALID_TOKEN for an event of a socket whose access token expired since it connected:
    the socket is closed and the client reconnects with a refreshed token."""
    return ApiError(ErrorCode.INVALID_TOKEN, "the access token expired; reconnect with a fresh one")
