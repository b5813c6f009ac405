"""The start-up path (open the cache, read the chat list) imports nothing heavy.

Cold start to a ready chat list has a 300 ms budget (bench/client.py measures it); importing
pydantic or sqlite-utils alone takes longer than that on a modest machine, so each is imported
where first used (a chat opened, the first write, the network) instead.
"""

import json
import subprocess
import sys
from pathlib import Path

from client.offline.cache import Cache
from tests.unit.offline_fixtures import ME, conversation, message

HEAVY_MODULES = (
    "pydantic",
    "sqlite_utils",
    "asyncio",
    "httpx",
    "socketio",
    "aiohttp",
    "keyring",
    "flet",
    "emoji",
)
"""Modules (and their packages) the start-up path must not import."""

_START_UP = """
import json, sys
from pathlib import Path
from client.offline.cache import Cache
from client.store import Store
rows = Store(Cache.open(Path(sys.argv[1]), sys.argv[2])).load_chat_list()
print(json.dumps({"rows": len(rows), "modules": sorted(sys.modules)}))
"""


def _start_up(profile: Path) -> dict[str, object]:
    out = subprocess.run(
        [sys.executable, "-c", _START_UP, str(profile), ME],
        check=True,
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
    ).stdout
    result: dict[str, object] = json.loads(out)
    return result


def test_chat_list_from_cache_imports_no_heavy_module(tmp_path: Path) -> None:
    cache = Cache.open(tmp_path, ME)
    cache.upsert_conversation(conversation("c1"))
    cache.store_message(message(1))
    cache.close()
    result = _start_up(tmp_path)
    assert result["rows"] == 1
    modules = result["modules"]
    assert isinstance(modules, list)
    heavy = sorted(m for m in modules if m.split(".")[0] in HEAVY_MODULES)
    assert heavy == []
