"""Handshake authentication: the access token from ``auth.token`` (or ``Authorization: Bearer``).

A refusal is a ``ConnectionRefusedError(code, {"code", "message"})``: the client's
``connect_error`` gets ``{"message": code, "data": {"code", "message"}}`` — the JavaScript client
sees ``err.message == "INVALID_TOKEN"`` and ``err.data.code``, python-socketio's handler receives
the same object as a dict.
"""

from typing import Any

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


def authenticate(tokens: TokenService, auth: Any, environ: dict[str, Any]) -> str:
    """The user id of the handshake's valid access token; raise the refusal otherwise
    (UNAUTHORIZED when there is no token, INVALID_TOKEN when it is bad or expired)."""
    token = handshake_token(auth, environ)
    if token is None:
        raise refusal(ErrorCode.UNAUTHORIZED, "an access token is required")
    try:
        return tokens.verify_access(token)
    except ApiError as exc:
        raise refusal(ErrorCode.INVALID_TOKEN, exc.message) from exc
