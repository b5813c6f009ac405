"""The official JavaScript socket.io-client (npm, pinned in tests/js) against the real server: it
connects with the handshake token, sends with an ack, receives another client's event, gets error
acks and a refused handshake — our server speaks the real Socket.IO protocol, not only
python-socketio's dialect."""

import json
import os
import shutil
import subprocess
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.support.api import register
from tests.support.live_server import LiveServer

JS_DIR = Path(__file__).resolve().parent.parent / "js"
SCRIPT = JS_DIR / "protocol_check.mjs"


def _node_tools() -> tuple[str, str]:
    """Paths of ``node`` and ``npm``; skip without them (fail in CI, which installs them)."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node and npm:
        return node, npm
    reason = "node and npm are needed for the socket.io-client test (apt-get install nodejs npm)"
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI must run the JavaScript client test: {reason}")
    pytest.skip(reason)


def _install_client(npm: str) -> None:
    """``npm ci`` in tests/js when the pinned socket.io-client is not installed yet."""
    if (JS_DIR / "node_modules" / "socket.io-client" / "package.json").exists():
        return
    result = subprocess.run(
        [npm, "ci", "--no-audit", "--no-fund"],
        cwd=JS_DIR,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert result.returncode == 0, f"npm ci failed:\n{result.stdout}\n{result.stderr}"


def _run_script(node: str, config: dict[str, str]) -> dict[str, Any]:
    result = subprocess.run(
        [node, str(SCRIPT), json.dumps(config)],
        cwd=JS_DIR,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    lines = result.stdout.strip().splitlines()
    assert lines, f"no output (exit {result.returncode}):\n{result.stderr}"
    body: dict[str, Any] = json.loads(lines[-1])
    assert result.returncode == 0, f"{body.get('error')}\n{result.stderr}"
    return body


def test_official_js_client_sends_with_ack_and_receives(fresh_server: LiveServer) -> None:
    node, npm = _node_tools()
    _install_client(npm)
    alice, bob = register(fresh_server.url), register(fresh_server.url)
    conversation_id = alice.direct_with(bob)
    client_id = uuid.uuid4().hex
    text = "héllo from socket.io-client ✓"

    outcome = _run_script(
        node,
        {
            "url": fresh_server.url,
            "senderToken": alice.access_token,
            "receiverToken": bob.access_token,
            "conversationId": conversation_id,
            "clientId": client_id,
            "text": text,
        },
    )

    assert outcome["senderTransport"] == "polling"  # the JS client's default first transport
    assert outcome["receiverTransport"] == "websocket"
    ack = outcome["ack"]
    assert "error" not in ack, ack
    assert ack["conversationId"] == conversation_id
    assert ack["clientId"] == client_id
    assert ack["senderId"] == alice.user_id
    assert ack["text"] == text
    assert ack["seq"] >= 1

    received = outcome["received"]
    assert received["id"] == ack["id"]
    assert received["text"] == text
    assert received["senderId"] == alice.user_id
    assert isinstance(received["eventId"], int) and received["eventId"] > 0

    assert outcome["invalidAck"]["error"]["code"] == "VALIDATION_ERROR"
    refusal = json.dumps(outcome["refusal"])
    assert "UNAUTHORIZED" in refusal or "INVALID_TOKEN" in refusal, refusal
    assert outcome["stillConnected"] is True

    history = bob.get(f"/conversations/{conversation_id}/messages")
    assert history.status_code == 200, history.text
    assert ack["id"] in json.dumps(history.json())
