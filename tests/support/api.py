"""A small synchronous REST helper for server tests (the app's own client lives in client/)."""

import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx

from protocol.rest import API_PREFIX

PASSWORD = "correct-horse-battery"


@dataclass
class Account:
    """A registered user and its tokens, with request helpers that send the access token."""

    base_url: str
    username: str
    user_id: str
    access_token: str
    refresh_token: str
    http: httpx.Client = field(default_factory=lambda: httpx.Client(timeout=15))

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """``method`` ``API_PREFIX + path`` with ``Authorization: Bearer``."""
        headers = {"Authorization": f"Bearer {self.access_token}", **kwargs.pop("headers", {})}
        return self.http.request(
            method, f"{self.base_url}{API_PREFIX}{path}", headers=headers, **kwargs
        )

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        """GET with the access token."""
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        """POST with the access token."""
        return self.request("POST", path, **kwargs)

    def patch(self, path: str, **kwargs: Any) -> httpx.Response:
        """PATCH with the access token."""
        return self.request("PATCH", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> httpx.Response:
        """DELETE with the access token."""
        return self.request("DELETE", path, **kwargs)

    def direct_with(self, other: "Account") -> str:
        """The id of the direct chat with ``other`` (created when missing)."""
        response = self.post("/conversations", json={"type": "direct", "user_id": other.user_id})
        assert response.status_code in (200, 201), response.text
        return str(response.json()["id"])

    def send(self, conversation_id: str, text: str, **extra: Any) -> httpx.Response:
        """POST /messages with a fresh client id (unless given)."""
        body = {"conversation_id": conversation_id, "text": text, "client_id": uuid.uuid4().hex}
        return self.post("/messages", json={**body, **extra})


def register(
    base_url: str, username: str | None = None, display_name: str | None = None
) -> Account:
    """Register a new user (a unique name unless given) and return it signed in."""
    name = username or f"user_{uuid.uuid4().hex[:10]}"
    response = httpx.post(
        f"{base_url}{API_PREFIX}/auth/register",
        json={"username": name, "password": PASSWORD, "display_name": display_name or name.title()},
        timeout=15,
    )
    assert response.status_code == 201, response.text
    body = response.json()
    return Account(
        base_url=base_url,
        username=name,
        user_id=body["user"]["id"],
        access_token=body["access_token"],
        refresh_token=body["refresh_token"],
    )
