"""Fixtures for browser tests: a headless Chromium and Flet apps served in web mode.

Every test here is marked ``e2e`` and skips with a reason when ``/usr/bin/chromium`` is missing.
"""

from collections.abc import Callable, Iterator, Mapping

import pytest
from playwright.sync_api import Browser, Page, Playwright, expect, sync_playwright

from .harness import CHROMIUM, CHROMIUM_ARGS, DESKTOP, TIMEOUT_MS, FletServer, open_app
from .watchdog import OWNER_SWITCH, Watchdog

StartApp = Callable[..., FletServer]
OpenPage = Callable[..., Page]

E2E_TIMEOUT_S = 150
"""Seconds one browser test (fixtures included) may take before it fails."""

WATCHDOG_GRACE_S = 30
"""Seconds after E2E_TIMEOUT_S an attempt may still take (its teardown) before its browser is
killed: pytest-timeout interrupts a test once, and a stuck browser would hold the teardown."""

_WATCHDOG = Watchdog()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test in this folder ``e2e`` and skip them all when Chromium is absent."""
    for item in items:
        if "tests/e2e/" not in str(item.path).replace("\\", "/"):
            continue
        item.add_marker(pytest.mark.e2e)
        # Flutter web paints and routes keys asynchronously: on a busy machine a key can be lost
        # or a frame late. One rerun absorbs that; a test that fails twice still fails.
        item.add_marker(pytest.mark.flaky(reruns=1))
        # A stalled browser (once, a key press that never returned) fails the attempt in
        # E2E_TIMEOUT_S instead of the suite's 300 s; the slowest attempt seen took 55 s.
        item.add_marker(pytest.mark.timeout(E2E_TIMEOUT_S))
        if not CHROMIUM.exists():
            item.add_marker(pytest.mark.skip(reason=f"{CHROMIUM} is not installed"))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Iterator[None]:
    """Arm the watchdog when a browser test's attempt starts (each rerun is a new attempt)."""
    if item.get_closest_marker("e2e") is not None:
        _WATCHDOG.arm(E2E_TIMEOUT_S + WATCHDOG_GRACE_S)
    yield


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item: pytest.Item) -> Iterator[None]:
    """Disarm it once the attempt's teardown is over; say so when it had to kill the browser."""
    yield
    _WATCHDOG.disarm()
    if _WATCHDOG.fired:
        _WATCHDOG.fired = False
        item.add_report_section("teardown", "watchdog", "the browser stopped answering: killed")


_FIRST_FAILURES: list[pytest.TestReport] = []
"""Browser tests that passed only on their rerun: why the first attempt failed."""


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Keep the report of a failed attempt that is rerun (the rerun may hide it)."""
    if report.outcome == "rerun":
        _FIRST_FAILURES.append(report)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """List why each rerun test failed the first time, so a flaky test can be fixed."""
    if not _FIRST_FAILURES:
        return
    terminalreporter.section("first attempts of rerun tests")
    for report in _FIRST_FAILURES:
        terminalreporter.write_line(f"{report.nodeid} ({report.when})")
        terminalreporter.write_line(report.longreprtext[-3000:])


@pytest.fixture(scope="package")
def playwright_session() -> Iterator[Playwright]:
    """One Playwright driver for the browser tests. Package scope, not session: the sync API
    keeps an event loop running in the main thread, which would break every asyncio test that
    runs after it."""
    expect.set_options(timeout=TIMEOUT_MS)
    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="module")
def browser(playwright_session: Playwright) -> Iterator[Browser]:
    """Debian's Chromium, headless (never a downloaded browser); one per test module, so a browser
    the watchdog killed costs the rest of its module, not the rest of the run."""
    browser = playwright_session.chromium.launch(
        executable_path=str(CHROMIUM), args=[*CHROMIUM_ARGS, OWNER_SWITCH], headless=True
    )
    yield browser
    if browser.is_connected():
        browser.close()


@pytest.fixture
def start_app() -> Iterator[StartApp]:
    """Start Flet apps: ``start_app("module:function", env={...})``; all stopped after the test."""
    servers: list[FletServer] = []

    def start(target: str, env: Mapping[str, str] | None = None) -> FletServer:
        server = FletServer(target, env).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def open_page(browser: Browser) -> Iterator[OpenPage]:
    """Open app pages: ``open_page(url, viewport=DESKTOP, color_scheme="light")``, each in its own
    browser context (its own user); all closed after the test."""
    pages: list[Page] = []

    def open_one(
        url: str, viewport: Mapping[str, int] = DESKTOP, color_scheme: str = "light"
    ) -> Page:
        page = open_app(browser, url, viewport, color_scheme)
        pages.append(page)
        return page

    yield open_one
    for page in pages:
        if browser.is_connected():
            page.context.close()
