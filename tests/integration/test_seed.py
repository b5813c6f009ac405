"""``--seed-demo``: the demo history is in the event log like real sends, so /sync replays it,
and the conversation list shows each chat's last message."""

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from protocol.rest import API_PREFIX
from server.seed import DEMO_PASSWORD
from tests.conftest import start_server
from tests.support.live_server import LiveServer


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    path: Path = tmp_path_factory.mktemp("demo")
    yield from start_server(path, "sqlite", seed_demo=True)


def test_seeded_history_is_replayed_by_sync(demo_server: LiveServer) -> None:
    api = f"{demo_server.url}{API_PREFIX}"
    login = httpx.post(
        f"{api}/auth/login", json={"username": "carol", "password": DEMO_PASSWORD}, timeout=15
    )
    assert login.status_code == 200, login.text
    headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
    events = httpx.get(f"{api}/sync", params={"since": 0}, headers=headers, timeout=15).json()
    types = [event["type"] for event in events["events"]]
    assert types == ["conversation_updated"] + ["message_new"] * 5, "carol is only in the group"
    texts = [event["data"]["text"] for event in events["events"][1:]]
    assert texts[0] == "Welcome to the Team chat, everyone!"
    assert [event["data"]["seq"] for event in events["events"][1:]] == [1, 2, 3, 4, 5]
    listing = httpx.get(f"{api}/conversations", headers=headers, timeout=15).json()["items"]
    assert [(c["title"], c["last_message"]["seq"]) for c in listing] == [("Team", 5)]
