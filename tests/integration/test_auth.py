"""Auth and users against the real server on both backends: register, login, 401s, refresh
rotation, reuse revoking the family, logout, people search, and the auth rate limit."""

import contextlib
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import redis

from tests.conftest import start_server
from tests.support.api import PASSWORD, register
from tests.support.live_server import REDIS_URL, LiveServer

API = "/api/v1"
RATE_LIMIT_REDIS_DB = 11


def _post(server: LiveServer, path: str, body: object) -> httpx.Response:
    return httpx.post(f"{server.url}{API}{path}", json=body, timeout=15)


def test_register_and_login(live_server: LiveServer) -> None:
    account = register(live_server.url, display_name="  Ada <b>Lovelace</b> ")
    me = account.get("/users/me")
    assert me.status_code == 200
    assert me.json()["id"] == account.user_id and me.json()["display_name"] == "Ada Lovelace"
    taken = _post(
        live_server,
        "/auth/register",
        {"username": account.username, "password": PASSWORD, "display_name": "Again"},
    )
    assert taken.status_code == 409 and taken.json()["code"] == "USERNAME_TAKEN"
    logged_in = _post(
        live_server, "/auth/login", {"username": account.username, "password": PASSWORD}
    )
    assert logged_in.status_code == 200 and logged_in.json()["user"]["id"] == account.user_id
    assert logged_in.json()["access_token"] and logged_in.json()["refresh_token"]
    for body in (
        {"username": account.username, "password": "wrong-password"},
        {"username": "nobody_here", "password": PASSWORD},
    ):
        refused = _post(live_server, "/auth/login", body)
        assert refused.status_code == 401 and refused.json()["code"] == "INVALID_CREDENTIALS"
    invalid: list[dict[str, object]] = [
        {"username": "ab", "password": PASSWORD, "display_name": "Short"},
        {"username": "fine_name", "password": "short", "display_name": "Pw"},
        {"username": "fine_name2", "password": PASSWORD},
        {"username": 5, "password": PASSWORD, "display_name": "X"},
    ]
    for wrong in invalid:
        response = _post(live_server, "/auth/register", wrong)
        assert response.status_code == 400 and response.json()["code"] == "VALIDATION_ERROR"


def test_endpoints_need_a_valid_access_token(live_server: LiveServer) -> None:
    for headers in ({}, {"Authorization": "Bearer not-a-token"}, {"Authorization": "Basic eA=="}):
        response = httpx.get(f"{live_server.url}{API}/conversations", headers=headers)
        assert response.status_code == 401, headers
        assert response.json()["code"] in ("UNAUTHORIZED", "INVALID_TOKEN")


def test_refresh_rotates_and_reuse_revokes_the_family(live_server: LiveServer) -> None:
    account = register(live_server.url)
    first = _post(live_server, "/auth/refresh", {"refresh_token": account.refresh_token})
    assert first.status_code == 200
    rotated = first.json()["refresh_token"]
    assert rotated != account.refresh_token
    reused = _post(live_server, "/auth/refresh", {"refresh_token": account.refresh_token})
    assert reused.status_code == 401 and reused.json()["code"] == "INVALID_TOKEN"
    revoked = _post(live_server, "/auth/refresh", {"refresh_token": rotated})
    assert revoked.status_code == 401
    garbage = _post(live_server, "/auth/refresh", {"refresh_token": "x" * 40})
    assert garbage.status_code == 401


def test_logout_ends_the_session(live_server: LiveServer) -> None:
    account = register(live_server.url)
    response = account.post("/auth/logout", json={"refresh_token": account.refresh_token})
    assert response.status_code == 204
    after = _post(live_server, "/auth/refresh", {"refresh_token": account.refresh_token})
    assert after.status_code == 401


def test_find_users(live_server: LiveServer) -> None:
    me = register(live_server.url)
    target = register(live_server.url, display_name="Zanzibar Person")
    found = me.get("/users", params={"query": target.username[:12]})
    assert found.status_code == 200 and [u["id"] for u in found.json()["items"]] == [target.user_id]
    zanzibar = me.get("/users", params={"query": "zanzibar"}).json()["items"]
    assert zanzibar[0]["id"] == target.user_id
    assert me.get("/users", params={"query": me.username}).json()["items"] == []
    assert me.get("/users", params={"query": ""}).status_code == 400


@pytest.fixture(params=["sqlite", "postgres"])
def strict_server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[LiveServer]:
    """A server with the real auth limit: 10 attempts per 15 minutes per address (counted in
    memory on SQLite, in Redis with PostgreSQL)."""
    env = {"OPENCHAT_AUTH_ATTEMPTS": "10"}
    if request.param == "postgres":
        # Counters live in Redis, shared by every test server: count in a database of our own.
        env["OPENCHAT_REDIS_URL"] = REDIS_URL.rsplit("/", 1)[0] + f"/{RATE_LIMIT_REDIS_DB}"
        with contextlib.suppress(redis.RedisError):
            redis.Redis.from_url(env["OPENCHAT_REDIS_URL"], socket_timeout=3).flushdb()
    yield from start_server(tmp_path / "server", request.param, env=env)


def test_auth_attempts_are_rate_limited(strict_server: LiveServer) -> None:
    body = {"username": "nobody_at_all", "password": "wrong-password"}
    for _ in range(10):
        assert _post(strict_server, "/auth/login", body).status_code == 401
    limited = _post(strict_server, "/auth/login", body)
    assert limited.status_code == 429
    assert limited.json()["code"] == "RATE_LIMITED" and limited.json()["retryAfter"] >= 1


def test_user_profile_by_id(live_server: LiveServer) -> None:
    me, other = register(live_server.url), register(live_server.url)
    profile = me.get(f"/users/{other.user_id}")
    assert profile.status_code == 200 and profile.json()["username"] == other.username
    assert "password_hash" not in profile.json()
    assert me.get("/users/no-such-user").status_code == 404
    assert me.get("/users/bad id").status_code == 400
