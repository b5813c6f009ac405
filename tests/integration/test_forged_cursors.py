"""Pagination cursors are signed: a cursor the server did not hand out, or one whose values do not
fit a database column, is a clear 400, never a 500 and never a page of someone's choosing."""

import base64
import json

import pytest

from tests.support.api import Account, register
from tests.support.live_server import LiveServer

PAGED = ("/conversations", "/users", "/search/messages")
PARAMS = {"/users": {"query": "user"}, "/search/messages": {"q": "note"}}


def _unsigned(key: list[object]) -> str:
    """A well-formed cursor payload as an unsigned client would build it."""
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode().rstrip("=")


def _next_cursor(account: Account, path: str) -> str:
    """The server's own cursor for the second page of ``path`` (pages of one item)."""
    page = account.get(path, params={**PARAMS.get(path, {}), "limit": 1})
    assert page.status_code == 200, page.text
    cursor = page.json()["next_cursor"]
    assert cursor, page.text
    return str(cursor)


@pytest.fixture
def account(live_server: LiveServer) -> Account:
    """A user with two chats, each holding a matching message, next to other users."""
    me = register(live_server.url)
    for _ in range(2):
        chat = me.direct_with(register(live_server.url))
        assert me.send(chat, "a note to page through").status_code in (200, 201)
    return me


@pytest.mark.parametrize("path", PAGED)
def test_the_servers_own_cursor_pages_on(account: Account, path: str) -> None:
    """The cursor a page hands out fetches the next page."""
    cursor = _next_cursor(account, path)
    second = account.get(path, params={**PARAMS.get(path, {}), "limit": 1, "cursor": cursor})
    assert second.status_code == 200, second.text
    assert second.json()["items"]


@pytest.mark.parametrize("path", PAGED)
@pytest.mark.parametrize(
    "forge",
    [
        pytest.param(lambda real: _unsigned([2**70, 2**70, "x", "y"]), id="huge-ints-unsigned"),
        pytest.param(lambda real: _unsigned([1e308, "x"]), id="huge-float-unsigned"),
        pytest.param(lambda real: real.split(".")[0], id="signature-removed"),
        pytest.param(lambda real: real[:-2] + ("AA" if real[-2:] != "AA" else "BB"), id="bad-mac"),
        pytest.param(
            lambda real: _unsigned([2**70, "x"]) + "." + real.split(".")[1], id="payload-swapped"
        ),
    ],
)
def test_a_forged_cursor_is_a_400(account: Account, path: str, forge: object) -> None:
    """Tampered, unsigned or out-of-range cursors answer VALIDATION_ERROR."""
    cursor = forge(_next_cursor(account, path))  # type: ignore[operator]
    response = account.get(path, params={**PARAMS.get(path, {}), "cursor": cursor})
    assert response.status_code == 400, response.text
    assert response.json()["code"] == "VALIDATION_ERROR"
    assert "cursor" in response.json()["message"]
