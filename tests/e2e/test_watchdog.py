"""The watchdog turns a browser that stops answering into a failed call, not a hung run."""

import pytest
from playwright.sync_api import Browser, Error

from .watchdog import Watchdog


def test_a_stuck_page_call_returns_once_the_watchdog_kills_the_browser(browser: Browser) -> None:
    """``page.evaluate`` has no deadline of its own: a page that never answers holds it forever,
    until the watchdog kills this run's Chromium."""
    page = browser.new_page()
    watchdog = Watchdog()
    watchdog.arm(3)
    try:
        with pytest.raises(Error):
            page.evaluate("() => { while (true) {} }")
    finally:
        watchdog.disarm()
    assert watchdog.fired
    assert not browser.is_connected()
