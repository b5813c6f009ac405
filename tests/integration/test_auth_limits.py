"""The auth attempt limit counts register and login only, per client address, and reads the
client address from X-Forwarded-For only when the peer is a trusted proxy."""

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from protocol.rest import API_PREFIX
from tests.conftest import start_server
from tests.support.api import PASSWORD, register
from tests.support.live_server import LiveServer


@pytest.fixture
def proxied_server(tmp_path: Path) -> Iterator[LiveServer]:
    """3 auth attempts per window; the test client (127.0.0.1) is a trusted proxy."""
    env = {"OPENCHAT_AUTH_ATTEMPTS": "3", "OPENCHAT_TRUSTED_PROXIES": "127.0.0.1"}
    yield from start_server(tmp_path / "server", "sqlite", env=env)


def _post(server: LiveServer, path: str, body: object, client: str) -> httpx.Response:
    headers = {"X-Forwarded-For": client}
    return httpx.post(f"{server.url}{API_PREFIX}{path}", json=body, headers=headers, timeout=15)


def test_refreshes_do_not_count_and_each_forwarded_client_has_its_own_limit(
    proxied_server: LiveServer,
) -> None:
    account = register(proxied_server.url)  # attempt 1 of 127.0.0.1 (no X-Forwarded-For)
    token = account.refresh_token
    for _ in range(5):
        refreshed = _post(proxied_server, "/auth/refresh", {"refresh_token": token}, "192.0.2.1")
        assert refreshed.status_code == 200, refreshed.text
        token = refreshed.json()["refresh_token"]
    login = {"username": account.username, "password": PASSWORD}
    for _ in range(3):
        assert _post(proxied_server, "/auth/login", login, "192.0.2.1").status_code == 200
    limited = _post(proxied_server, "/auth/login", login, "192.0.2.1")
    assert limited.status_code == 429 and limited.json()["code"] == "RATE_LIMITED"
    assert _post(proxied_server, "/auth/login", login, "192.0.2.2").status_code == 200
