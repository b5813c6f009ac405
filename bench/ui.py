"""UI benchmark: open a chat of 10,000 cached messages in the real app screen (Flet web mode,
headless Chromium), scroll through all of it, and print how long the chat took to show and how
many message controls exist along the way (bounded by the store's window, not the history).

Run from the repository root: ``uv run python -m bench.ui [--messages 10000]``. Needs
``/usr/bin/chromium``. The Flet app runs in this process (so its controls can be counted) and
Playwright drives it from a thread.
"""

import argparse
import os
import re
import signal
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import flet as ft
from playwright.sync_api import Page, sync_playwright

from client.offline.cache import Cache
from client.store import Store
from client.theme import apply_theme
from client.views.home import Home
from tests.e2e.apps import LocalActions
from tests.e2e.harness import CHROMIUM, CHROMIUM_ARGS, DESKTOP, enable_semantics, free_port
from tests.e2e.seed import ME, seed_cache

WHEEL_PIXELS = 10_000
"""How far one mouse-wheel step scrolls."""
MAX_WHEELS = 5000
"""Give up scrolling after this many wheel steps."""


@dataclass
class Probe:
    """What the benchmark reads from the running app."""

    homes: list[Home] = field(default_factory=list)
    open_times: list[float] = field(default_factory=list)
    """Seconds spent in ``Home.open_chat`` (cache read and controls built), per call."""

    def count(self) -> int:
        """Message controls in the open chat of the newest page session."""
        return self.homes[-1].chat.messages.message_control_count() if self.homes else 0


def make_main(data_dir: Path, probe: Probe) -> Callable[[ft.Page], None]:
    """The signed-in screen over the seeded cache, recording into ``probe``."""

    def main(page: ft.Page) -> None:
        store = Store(Cache.open(data_dir, ME.id))
        home = Home(store, LocalActions(store), ME.id, lambda: None)
        opener = home.open_chat

        def timed_open(conversation_id: str) -> None:
            started = time.perf_counter()
            opener(conversation_id)
            probe.open_times.append(time.perf_counter() - started)

        home.chat_list._on_open = timed_open
        probe.homes.append(home)
        apply_theme(page)
        page.padding = 0
        home.attach(page)
        page.add(home.control)
        store.load_chat_list()

    return main


def scroll_until(
    page: Page, probe: Probe, target: re.Pattern[str], direction: int
) -> tuple[int, int]:
    """Wheel over the message list until a bubble named ``target`` shows; returns
    ``(wheel steps, most message controls seen)``."""
    page.mouse.move(DESKTOP["width"] * 0.65, DESKTOP["height"] * 0.5)
    bubble = page.get_by_role("group", name=target)
    most = probe.count()
    for step in range(1, MAX_WHEELS + 1):
        page.mouse.wheel(0, direction * WHEEL_PIXELS)
        page.wait_for_timeout(40)
        most = max(most, probe.count())
        if step % 5 == 0 and bubble.count() > 0:
            return step, most
    raise RuntimeError(f"gave up scrolling after {MAX_WHEELS} steps")


def drive(url: str, probe: Probe, messages: int, report: dict[str, float]) -> None:
    """The browser side: open the chat, scroll to the oldest message and back."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = browser.new_context(
            viewport={"width": DESKTOP["width"], "height": DESKTOP["height"]}
        )
        context.set_default_timeout(60_000)
        page = context.new_page()
        page.goto(url)
        enable_semantics(page)
        tile = page.get_by_role("button", name=re.compile("^Bob Baker"))
        tile.wait_for()
        newest = page.get_by_role("group", name=re.compile(f"Message number {messages}\\b"))
        started = time.perf_counter()
        tile.click()
        newest.wait_for()
        report["show_s"] = time.perf_counter() - started
        report["after_open"] = probe.count()
        steps, most = scroll_until(page, probe, re.compile(r"Message number 1 with"), -1)
        report["up_steps"], report["up_most"] = steps, most
        report["at_oldest"] = probe.count()
        steps, most = scroll_until(page, probe, re.compile(f"Message number {messages}\\b"), 1)
        report["down_steps"], report["down_most"] = steps, most
        report["at_newest"] = probe.count()
        page.goto("about:blank")  # close the app's socket before the server stops
        browser.close()


def main(argv: list[str] | None = None) -> int:
    """Seed, serve, drive, print."""
    parser = argparse.ArgumentParser(prog="bench.ui", description=__doc__)
    parser.add_argument("--messages", type=int, default=10_000)
    args = parser.parse_args(argv)
    if not CHROMIUM.exists():
        print(f"{CHROMIUM} is not installed", file=sys.stderr)
        return 2
    data_dir = Path(tempfile.mkdtemp(prefix="openchat-bench-ui-"))
    started = time.perf_counter()
    seed_cache(data_dir, args.messages).close()
    print(f"seeded {args.messages:,} messages in {time.perf_counter() - started:.1f} s")
    port = free_port()
    probe = Probe()
    report: dict[str, float] = {}
    failure: list[BaseException] = []

    def browser_side() -> None:
        try:
            drive(f"http://127.0.0.1:{port}/", probe, args.messages, report)
        except BaseException as error:  # reported after the server stopped
            failure.append(error)
        finally:
            os.kill(os.getpid(), signal.SIGINT)

    os.environ["FLET_FORCE_WEB_SERVER"] = "true"
    threading.Timer(2.0, browser_side).start()
    ft.run(
        make_main(data_dir, probe),
        view=ft.AppView.WEB_BROWSER,
        host="127.0.0.1",
        port=port,
        no_cdn=True,
    )
    if failure:
        raise failure[0]
    window = probe.homes[-1].store.window_size if probe.homes else 0
    print(f"chat of {args.messages:,} cached messages (store window {window})")
    shown_ms = report["show_s"] * 1000
    print(f"  time to show the chat (click -> newest bubble on screen): {shown_ms:.0f} ms")
    if probe.open_times:
        print(
            f"  of which Home.open_chat in Python (cache page + controls): "
            f"{statistics.median(probe.open_times) * 1000:.1f} ms"
        )
    print(f"  message controls after opening: {report['after_open']:.0f}")
    print(
        f"  scrolled to the oldest message in {report['up_steps']:.0f} wheel steps: "
        f"{report['at_oldest']:.0f} message controls "
        f"(most at any time, counted while a page is swapped in: {report['up_most']:.0f})"
    )
    print(
        f"  scrolled back to the newest in {report['down_steps']:.0f} wheel steps: "
        f"{report['at_newest']:.0f} message controls (most at any time: {report['down_most']:.0f})"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
