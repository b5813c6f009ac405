"""Fixtures for browser tests: a headless Chromium and Flet apps served in web mode.

Every test here is marked ``e2e`` and skips with a reason when ``/usr/bin/chromium`` is missing.
"""

from collections.abc import Callable, Iterator, Mapping

import pytest
from playwright.sync_api import Browser, Playwright, sync_playwright

from .harness import CHROMIUM, CHROMIUM_ARGS, FletServer

StartApp = Callable[..., FletServer]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test in this folder ``e2e`` and skip them all when Chromium is absent."""
    for item in items:
        if "tests/e2e/" not in str(item.path).replace("\\", "/"):
            continue
        item.add_marker(pytest.mark.e2e)
        if not CHROMIUM.exists():
            item.add_marker(pytest.mark.skip(reason=f"{CHROMIUM} is not installed"))


@pytest.fixture(scope="session")
def playwright_session() -> Iterator[Playwright]:
    """One Playwright driver for the whole run."""
    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="session")
def browser(playwright_session: Playwright) -> Iterator[Browser]:
    """Debian's Chromium, headless (never a downloaded browser)."""
    browser = playwright_session.chromium.launch(
        executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
    )
    yield browser
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
