"""Cursor values are range-checked so none reaches SQL out of a column's range."""

import hashlib

import pytest

from server.errors import ApiError
from server.services import cursors


@pytest.fixture(autouse=True)
def signing_key() -> object:
    """A signing key, as the middleware sets it while a request runs."""
    token = cursors._signing_key.set(hashlib.sha256(b"test").digest())
    yield
    cursors._signing_key.reset(token)


def test_a_signed_key_round_trips() -> None:
    """What encode_cursor signs, decode_cursor gives back."""
    cursor = cursors.encode_cursor([3, 1.5, "abc", None])
    assert cursors.decode_cursor(cursor, (int, float, str, str)) == [3, 1.5, "abc", None]


@pytest.mark.parametrize(
    ("value", "kind"),
    [(2**63, int), (-(2**63) - 1, int), (float("inf"), float), (2.0**64, float), ("x" * 257, str)],
)
def test_signed_values_out_of_range_are_refused(value: object, kind: type) -> None:
    """Even a cursor the server signed is refused when a value cannot fit its column."""
    cursor = cursors.encode_cursor([value])  # type: ignore[list-item]
    with pytest.raises(ApiError):
        cursors.decode_cursor(cursor, (kind,))


def test_a_cursor_signed_with_another_key_is_refused() -> None:
    """Another server's (or an old key's) cursor does not verify."""
    cursor = cursors.encode_cursor([1])
    token = cursors._signing_key.set(hashlib.sha256(b"other").digest())
    try:
        with pytest.raises(ApiError):
            cursors.decode_cursor(cursor, (int,))
    finally:
        cursors._signing_key.reset(token)
