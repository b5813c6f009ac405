"""Browser-test harness: serve a Flet app in web mode and drive it from headless Chromium.

- :class:`FletServer` runs ``tests/e2e/serve.py`` in a subprocess on a free 127.0.0.1 port and
  waits until the Flutter web client is served.
- :func:`open_app` opens the app in a Playwright page and switches on Flutter's semantics tree, so
  controls are found by their accessible labels (``get_by_label`` / ``get_by_role(name=...)``).
- :func:`screenshot` writes a PNG into ``test-artifacts/e2e/``.
"""

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from pathlib import Path

from playwright.sync_api import Browser, Locator, Page, expect

REPO_ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO_ROOT / "test-artifacts" / "e2e"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
TIMEOUT_MS = 30_000
TYPING_DELAY_MS = 40
"""How long actions and assertions wait: the test machine may be heavily loaded."""
PHONE = {"width": 400, "height": 820}
DESKTOP = {"width": 1280, "height": 800}


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class FletServer:
    """A Flet app (``module:function``) served in web mode by a child process."""

    def __init__(self, target: str, env: Mapping[str, str] | None = None) -> None:
        """Prepare to serve ``target``; ``env`` adds environment variables for the child."""
        self.target = target
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.log_path = ARTIFACTS / f"flet-{self.port}.log"
        self._env = dict(env or {})
        self._process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 60.0) -> "FletServer":
        """Start the child and wait until the page is served; raises with the log on failure."""
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "FLET_FORCE_WEB_SERVER": "true", **self._env}
        with self.log_path.open("wb") as log:
            self._process = subprocess.Popen(
                [sys.executable, "-m", "tests.e2e.serve", str(self.port), self.target],
                cwd=REPO_ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"Flet app exited early:\n{self.log()}")
            try:
                with urllib.request.urlopen(self.url, timeout=2) as response:
                    if response.status == 200:
                        return self
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"Flet app did not start in {timeout} s:\n{self.log()}")

    def log(self) -> str:
        """Everything the child printed so far."""
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self) -> None:
        """Terminate the child (SIGTERM, then SIGKILL after 10 s)."""
        if self._process is None or self._process.poll() is not None:
            return
        self._process.terminate()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()


def enable_semantics(page: Page, timeout: float = 30_000) -> None:
    """Switch on Flutter's accessibility tree (it is off until its placeholder is clicked)."""
    page.wait_for_selector("flt-semantics-placeholder", state="attached", timeout=timeout)
    page.evaluate("document.querySelector('flt-semantics-placeholder').click()")
    page.wait_for_selector("flt-semantics", state="attached", timeout=timeout)


def open_app(
    browser: Browser,
    url: str,
    viewport: Mapping[str, int] = DESKTOP,
    color_scheme: str = "light",
) -> Page:
    """Open ``url`` in a fresh browser context (its own storage: one user) with semantics on."""
    context = browser.new_context(
        viewport={"width": viewport["width"], "height": viewport["height"]},
        color_scheme=color_scheme,  # type: ignore[arg-type]
    )
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    page.goto(url)
    enable_semantics(page)
    return page


_SETTLE_MS = 1500
_NEXT_FRAMES = """new Promise(done => {
    let frames = 0;
    const tick = () => (++frames >= 3 ? done(null) : requestAnimationFrame(tick));
    requestAnimationFrame(tick);
})"""


def screenshot(page: Page, name: str) -> Path:
    """Save a PNG of the page as ``test-artifacts/e2e/NAME.png`` and return its path."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.wait_for_timeout(_SETTLE_MS)  # artifacts only: the canvas paints after the semantics tree
    page.evaluate(_NEXT_FRAMES)
    page.screenshot(path=str(path))
    return path


_TAP_SETTLE_MS = 400
"""Flutter confirms a tap on a text field only after its double-tap window (300 ms) and then
re-attaches the field's text input: keys typed before that are lost (seen under load: "t" of
"thumbs" kept, or nothing at all)."""


def settle(page: Page) -> None:
    """Wait until Flutter has handled the last tap and painted (pending timers and frames)."""
    page.wait_for_timeout(_TAP_SETTLE_MS)
    page.evaluate(_NEXT_FRAMES)


def focus(field: Locator, attempts: int = 3) -> None:
    """Give a text field the keyboard focus and wait until it accepts keys.

    A field that already has the focus (``autofocus``) is not clicked again: a second tap makes
    Flutter re-attach its text input while keys are being typed. A busy machine may drop a
    click, so an unfocused field is clicked until it has the focus."""
    expect(field).to_be_visible()
    for attempt in range(attempts):
        if not field.evaluate("element => element === document.activeElement"):
            field.click()
        try:
            expect(field).to_be_focused(timeout=5_000)
            break
        except AssertionError:
            if attempt == attempts - 1:
                raise
    settle(field.page)


def type_into(
    field: Locator, text: str, attempts: int = 3, arrived: Callable[[], None] | None = None
) -> None:
    """Type ``text`` into ``field`` (replacing what it holds) as a person would, key by key,
    and check that every key arrived; typed again when Flutter dropped one.

    ``arrived`` (expectations on what the app shows for the whole text) checks that the app
    got it too: under load Flutter web can drop a key after the browser's field took it."""
    page = field.page
    for attempt in range(attempts):
        focus(field)
        page.keyboard.press("ControlOrMeta+a")
        page.keyboard.press("Delete")
        page.keyboard.type(text, delay=TYPING_DELAY_MS)
        try:
            expect(field).to_have_value(text, timeout=5_000)
            if arrived is not None:
                arrived()
            return
        except AssertionError:
            if attempt == attempts - 1:
                raise


def fill(page: Page, label: str, text: str, attempts: int = 3) -> None:
    """Type ``text`` into the text field labelled ``label`` (replacing what it holds)."""
    type_into(page.get_by_label(label, exact=True), text, attempts)
