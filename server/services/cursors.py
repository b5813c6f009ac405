"""Opaque pagination cursors: a JSON list of the last row's sort key, base64url-encoded."""

import base64
import binascii
import json
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, and_, or_
from sqlalchemy.orm import QueryableAttribute

from protocol.errors import ErrorCode
from server.errors import ApiError
from server.services.times import as_utc

Key = Sequence[str | int | float | None]


def encode_cursor(key: Key) -> str:
    """The cursor for the page that follows the row whose sort key is ``key``."""
    raw = json.dumps(list(key), separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, types: Sequence[type]) -> list[str | int | float | None]:
    """The sort key inside ``cursor``, checked against ``types`` (None is allowed for any);
    VALIDATION_ERROR (400) for anything a client could have tampered with."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        key = json.loads(raw)
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise invalid_cursor() from exc
    if not isinstance(key, list) or len(key) != len(types):
        raise invalid_cursor()
    for value, kind in zip(key, types, strict=True):
        widened = kind is float and type(value) is int
        if value is not None and type(value) is not kind and not widened:
            raise invalid_cursor()
    return key


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
