"""Session (accounts, token vault) and client config resolution."""

import json
import stat
from pathlib import Path

import httpx
import pytest

from client.config import DEFAULT_SERVER_URL, load_settings
from client.errors import AuthError
from client.services.session import Account, FileVault, Session


def handler(request: httpx.Request) -> httpx.Response:
    body = json.loads(request.content) if request.content else {}
    name = body.get("username", "alice")
    if request.url.path == "/api/v1/auth/refresh":
        return httpx.Response(401, json={"code": "INVALID_TOKEN", "message": "revoked"})
    if request.url.path == "/api/v1/auth/logout":
        return httpx.Response(204)
    return httpx.Response(
        200,
        json={
            "user": {"id": f"id-{name}", "username": name, "display_name": name.title()},
            "access_token": f"access-{name}",
            "refresh_token": f"refresh-{name}",
        },
    )


def make_session(tmp_path: Path) -> Session:
    return Session(
        tmp_path / "profile",
        "http://server",
        vault=FileVault(tmp_path / "profile" / "secrets"),
        transport=httpx.MockTransport(handler),
    )


async def test_login_keeps_tokens_out_of_config(tmp_path: Path) -> None:
    session = make_session(tmp_path)
    account = await session.login("alice", "secret-pass")
    assert account.user_id == "id-alice"
    index = (tmp_path / "profile" / "accounts.json").read_text()
    assert "refresh-alice" not in index and "access-alice" not in index
    secrets = tmp_path / "profile" / "secrets"
    assert stat.S_IMODE(secrets.stat().st_mode) == 0o700
    files = list(secrets.iterdir())
    assert len(files) == 1 and stat.S_IMODE(files[0].stat().st_mode) == 0o600
    assert "refresh-alice" in files[0].read_text()
    await session.aclose()

    again = make_session(tmp_path)
    restored = again.restore()
    assert restored == account
    assert again.api.refresh_token == "refresh-alice"
    assert again.data_dir().name == "id-alice"
    await again.aclose()


async def test_switch_and_logout(tmp_path: Path) -> None:
    session = make_session(tmp_path)
    await session.login("alice", "secret-pass")
    await session.login("bob", "secret-pass")
    assert session.active is not None and session.active.username == "bob"
    session.switch("alice")
    assert session.api.access_token == "access-alice"
    await session.logout()
    assert session.active == Account("id-alice", "alice", "Alice", "http://server", False)
    with pytest.raises(AuthError):
        session.switch("alice")
    session.switch("bob")
    assert {a.username for a in session.accounts} == {"alice", "bob"}
    await session.aclose()


async def test_refused_refresh_signs_out_but_keeps_data(tmp_path: Path) -> None:
    signed_out: list[Account] = []

    async def on_signed_out(account: Account) -> None:
        signed_out.append(account)

    session = make_session(tmp_path)
    session.on_signed_out = on_signed_out
    await session.login("alice", "secret-pass")
    keep = session.data_dir() / "outbox.db"
    keep.write_text("queued")
    session.api.set_tokens(None, "refresh-alice")
    with pytest.raises(AuthError):
        await session.api.me()
    assert [a.signed_in for a in signed_out] == [False]
    assert keep.read_text() == "queued"
    assert make_session(tmp_path).restore() is None


def test_settings_precedence(tmp_path: Path) -> None:
    toml = tmp_path / "flet.toml"
    toml.write_text(
        '[openchat]\nserver_url = "https://shipped"\n[openchat.features]\nvoice = true\n'
        "search = true\n"
    )
    shipped = load_settings({}, toml)
    assert shipped.server_url == "https://shipped"
    assert shipped.feature("voice") and not shipped.feature("other")
    env = {
        "OPENCHAT_SERVER_URL": "http://env:1/",
        "OPENCHAT_DATA_DIR": str(tmp_path / "d"),
        "OPENCHAT_FEATURE_SEARCH": "off",
    }
    settings = load_settings(env, toml)
    assert settings.server_url == "http://env:1"
    assert settings.data_dir == tmp_path / "d"
    assert settings.feature("voice") and not settings.feature("search", True)
    defaults = load_settings({"FLET_APP_STORAGE_DATA": str(tmp_path / "app")}, tmp_path / "none")
    assert defaults.server_url == DEFAULT_SERVER_URL
    assert defaults.data_dir == tmp_path / "app"
    with pytest.raises(ValueError):
        load_settings({"OPENCHAT_FEATURE_X": "maybe"}, toml)
