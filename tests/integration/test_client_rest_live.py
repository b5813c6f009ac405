"""The client's ApiClient and Session against the real server (SQLite, ephemeral port)."""

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from client.errors import AuthError, ConflictError
from client.services.api import ApiClient
from client.services.session import FileVault, Session
from tests.support.live_server import LiveServer

PASSWORD = "correct-horse-battery"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    live = LiveServer(tmp_path_factory.mktemp("server"))
    live.start()
    try:
        yield live
    finally:
        live.stop()


def name() -> str:
    return f"u_{uuid.uuid4().hex[:10]}"


async def test_register_login_refresh_rotation_and_reuse(server: LiveServer) -> None:
    api = ApiClient(server.url)
    username = name()
    registered = await api.register(username, PASSWORD, "Tester")
    assert registered.user.username == username
    with pytest.raises(ConflictError):
        await ApiClient(server.url).register(username, PASSWORD, "Again")
    assert (await api.me()).id == registered.user.id
    peer = ApiClient(server.url)
    peer_auth = await peer.register(name(), PASSWORD, "Peer")
    assert [u.id for u in await api.find_users(peer_auth.user.username)] == [peer_auth.user.id]
    await peer.aclose()

    old_refresh = api.refresh_token
    await api.refresh()
    assert api.refresh_token != old_refresh
    assert (await api.me()).username == username

    thief = ApiClient(server.url)
    thief.set_tokens(None, old_refresh)
    with pytest.raises(AuthError):
        await thief.me()
    # reuse of the old token revoked the family: our current pair dies at the next refresh
    api.set_tokens("expired", api.refresh_token)
    with pytest.raises(AuthError):
        await api.me()
    assert api.refresh_token is None

    other = ApiClient(server.url)
    with pytest.raises(AuthError) as caught:
        await other.login(username, "wrong-password-here")
    assert caught.value.code == "INVALID_CREDENTIALS"
    await other.login(username, PASSWORD)
    await other.logout()
    assert other.refresh_token is None
    for client in (api, thief, other):
        await client.aclose()


async def test_session_restores_and_refreshes_lazily(server: LiveServer, tmp_path: Path) -> None:
    vault = FileVault(tmp_path / "secrets")
    session = Session(tmp_path / "profile", server.url, vault=vault)
    account = await session.register(name(), PASSWORD, "Lazy")
    await session.aclose()

    again = Session(tmp_path / "profile", server.url, vault=vault)
    assert again.restore() == account
    again.api.set_tokens("not-a-valid-token", again.api.refresh_token)
    assert (await again.api.me()).id == account.user_id
    third = Session(tmp_path / "profile", server.url, vault=vault)
    assert third.restore() == account
    assert third.api.refresh_token == again.api.refresh_token
    await again.logout()
    assert Session(tmp_path / "profile", server.url, vault=vault).restore() is None
    await again.aclose()
    await third.aclose()
