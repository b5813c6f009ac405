"""The README's first command, ``openchat demo``, run as a person runs it: on a machine without
a display it serves the app to the browser; signing in as a demo account shows the seeded chats."""

import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect

from .conftest import OpenPage
from .harness import ARTIFACTS, PHONE, REPO_ROOT, fill, free_port, screenshot

DEMO_START_SECONDS = 120


@pytest.fixture
def demo_url(tmp_path: Path) -> Iterator[str]:
    """Run ``openchat demo`` (no display) and yield the app's URL once it is served."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    log_path = ARTIFACTS / "openchat-demo.log"
    env = {
        key: value for key, value in os.environ.items() if key not in ("DISPLAY", "WAYLAND_DISPLAY")
    }
    env["OPENCHAT_DATA_DIR"] = str(tmp_path / "data")
    env["FLET_FORCE_WEB_SERVER"] = "true"  # no browser window is opened by the app itself
    command = [
        sys.executable, "-m", "client", "demo",
        "--port", str(free_port()), "--server-port", str(free_port()),
    ]  # fmt: skip
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command, cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    try:
        yield _served_url(process, log_path)
    finally:
        os.killpg(process.pid, signal.SIGINT)  # Ctrl+C: the demo stops its server too
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


def _served_url(process: subprocess.Popen[bytes], log_path: Path) -> str:
    deadline = time.monotonic() + DEMO_START_SECONDS
    while time.monotonic() < deadline:
        output = log_path.read_text(errors="replace")
        found = re.search(r"OpenChat is at (http://\S+)", output)
        if found and _answers(found.group(1)):
            return found.group(1)
        if process.poll() is not None:
            raise AssertionError(f"openchat demo exited early:\n{output}")
        time.sleep(0.2)
    raise AssertionError(f"openchat demo did not serve the app:\n{log_path.read_text()}")


def test_demo_serves_the_app_with_seeded_accounts(demo_url: str, open_page: OpenPage) -> None:
    """Sign in as alice (password from the README): the direct chat with Bob and the group
    "Team" are there with their history; on a phone-sized dark window too."""
    log = (ARTIFACTS / "openchat-demo.log").read_text()
    assert "Sign in as alice, bob, carol or dave with the password demo-pass-123" in log
    assert "Serving the app to your browser instead." in log

    page = open_page(demo_url)
    fill(page, "Username", "alice")
    fill(page, "Password", "demo-pass-123")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    expect(page.get_by_role("button", name=re.compile("^Bob Okafor"))).to_be_visible()
    team = page.get_by_role("button", name=re.compile("^Team"))
    expect(team).to_be_visible()
    team.click()
    expect(page.get_by_text("Will do, probably by Friday.")).to_be_visible()
    screenshot(page, "demo-alice-team")

    phone = open_page(demo_url, PHONE, color_scheme="dark")
    fill(phone, "Username", "bob")
    fill(phone, "Password", "demo-pass-123")
    phone.get_by_role("button", name="Sign in").click()
    expect(phone.get_by_role("button", name=re.compile("^Alice Martin"))).to_be_visible()
    screenshot(phone, "demo-bob-phone-dark")
