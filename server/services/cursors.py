"""Opaque pagination cursors: the last row's sort key as base64url JSON, signed by the server.

A cursor is ``<payload>.<mac>``: the MAC (HMAC-SHA256 under the serving app's secret key, set
for each request by :class:`CursorKeyMiddleware`) makes a cursor the server did not hand out
impossible to forge, and every value is range-checked before it reaches SQL.
"""

import base64
import binascii
import hashlib
import hmac
import json
import math
from collections.abc import Sequence
from contextvars import ContextVar
from datetime import datetime

from sqlalchemy import ColumnElement, and_, or_
from sqlalchemy.orm import QueryableAttribute
from starlette.types import ASGIApp, Receive, Scope, Send

from protocol.errors import ErrorCode
from server.errors import ApiError
from server.services.times import as_utc

Key = Sequence[str | int | float | None]

MAC_BYTES = 16
"""Length of the truncated HMAC-SHA256 tag (128 bits)."""
MAX_TEXT = 256
"""Longest string a cursor may carry (ids, usernames, timestamps)."""
INT_RANGE = range(-(2**63), 2**63)
"""Integers a cursor may carry: what a 64-bit database column holds."""

_signing_key: ContextVar[bytes] = ContextVar("cursor_signing_key")


def _encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(payload: str) -> bytes:
    return hmac.new(_signing_key.get(), payload.encode(), hashlib.sha256).digest()[:MAC_BYTES]


def encode_cursor(key: Key) -> str:
    """The signed cursor for the page that follows the row whose sort key is ``key``."""
    payload = _encode(json.dumps(list(key), separators=(",", ":")).encode())
    return f"{payload}.{_encode(_mac(payload))}"


def decode_cursor(cursor: str, types: Sequence[type]) -> list[str | int | float | None]:
    """The sort key inside ``cursor``, checked against ``types`` (None is allowed for any);
    VALIDATION_ERROR (400) for a cursor this server did not sign or a value out of range."""
    payload, _, tag = cursor.partition(".")
    try:
        authentic = hmac.compare_digest(_decode(tag), _mac(payload))
        key = json.loads(_decode(payload)) if authentic else None
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise invalid_cursor() from exc
    if not isinstance(key, list) or len(key) != len(types):
        raise invalid_cursor()
    for value, kind in zip(key, types, strict=True):
        if value is not None and not _fits(value, kind):
            raise invalid_cursor()
    return key


def _fits(value: object, kind: type) -> bool:
    """True when ``value`` is of ``kind`` (an int may stand for a float) and in range."""
    if kind is float and type(value) in (int, float):
        return math.isfinite(value) and abs(value) < 2**63  # type: ignore[arg-type]
    if type(value) is not kind:
        return False
    if kind is int:
        return value in INT_RANGE
    return not isinstance(value, str) or len(value) <= MAX_TEXT


class CursorKeyMiddleware:
    """ASGI middleware that makes ``secret_key`` the cursor signing key while a request runs (a
    context variable, so several apps in one process each sign with their own key)."""

    def __init__(self, app: ASGIApp, secret_key: str) -> None:
        """Wrap ``app``; cursors are signed with a key derived from ``secret_key``."""
        self.app = app
        self.key = hashlib.sha256(b"openchat-cursor:" + secret_key.encode()).digest()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the request with this app's signing key."""
        token = _signing_key.set(self.key)
        try:
            await self.app(scope, receive, send)
        finally:
            _signing_key.reset(token)


def invalid_cursor() -> ApiError:
    """400 for a cursor this server did not hand out."""
    return ApiError(ErrorCode.VALIDATION_ERROR, "invalid cursor")


def cursor_time(value: str | int | float | None) -> datetime:
    """A timezone-aware timestamp from a cursor; VALIDATION_ERROR (400) otherwise."""
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError as exc:
        raise invalid_cursor() from exc
    if moment.tzinfo is None:
        raise invalid_cursor()
    utc = as_utc(moment)
    assert utc is not None
    return utc


def time_key_cursor(at: datetime, key: str) -> str:
    """The cursor after a row ordered by a timestamp, then an id."""
    return encode_cursor([at.isoformat(), key])


def after_time_key(
    cursor: str,
    at: QueryableAttribute[datetime],
    key: QueryableAttribute[str],
    *,
    newest_first: bool,
) -> ColumnElement[bool]:
    """SQL true for the rows after ``cursor`` (from ``time_key_cursor``) in ``at`` order
    (descending with ``newest_first``), ties broken by ``key`` ascending."""
    moment, last_key = decode_cursor(cursor, (str, str))
    when = cursor_time(moment)
    beyond = at < when if newest_first else at > when
    return or_(beyond, and_(at == when, key > str(last_key)))
