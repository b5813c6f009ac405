"""The browser-test watchdog finds and kills only the processes launched with its switch."""

import subprocess
import sys
import time

from tests.e2e.watchdog import OWNER_SWITCH, Watchdog, own_browser_pids

SLEEPER = [sys.executable, "-c", "import time; time.sleep(60)"]


def test_the_watchdog_kills_its_own_browsers_when_it_fires() -> None:
    """A process carrying the owner switch dies when the countdown ends; another one lives."""
    own = subprocess.Popen([*SLEEPER, OWNER_SWITCH])
    other = subprocess.Popen([*SLEEPER, "--openchat-e2e-owner=0"])
    try:
        assert own_browser_pids() == [own.pid]
        watchdog = Watchdog()
        watchdog.arm(0.2)
        assert own.wait(timeout=10) != 0
        assert watchdog.fired
        assert other.poll() is None
    finally:
        for process in (own, other):
            process.kill()
            process.wait()


def test_a_disarmed_watchdog_kills_nothing() -> None:
    """Disarming before the deadline leaves the browser alone."""
    own = subprocess.Popen([*SLEEPER, OWNER_SWITCH])
    try:
        watchdog = Watchdog()
        watchdog.arm(0.3)
        watchdog.disarm()
        time.sleep(0.6)
        assert own.poll() is None
        assert not watchdog.fired
    finally:
        own.kill()
        own.wait()
