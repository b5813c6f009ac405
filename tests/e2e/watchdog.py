"""A browser that stops answering fails one browser test instead of hanging the whole run.

pytest-timeout interrupts a test once; when Chromium itself is stuck, the teardown that follows
(closing the test's pages) waits on it with no deadline of its own, and the run hangs. The
watchdog kills this run's Chromium when an attempt outlives its deadline, so every waiting
Playwright call returns with an error and the run goes on.
"""

import contextlib
import os
import signal
import threading
from pathlib import Path

OWNER_SWITCH = f"--openchat-e2e-owner={os.getpid()}"
"""A switch Chromium ignores, added to its command line so this run finds its own browsers."""


def own_browser_pids(proc: Path = Path("/proc")) -> list[int]:
    """Process ids of the Chromium processes launched with :data:`OWNER_SWITCH`."""
    pids = []
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            arguments = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if OWNER_SWITCH.encode() in arguments:
            pids.append(int(entry.name))
    return pids


class Watchdog:
    """Kills this run's browsers if :meth:`disarm` is not called within the armed deadline."""

    def __init__(self) -> None:
        """A disarmed watchdog."""
        self._timer: threading.Timer | None = None
        self.fired = False

    def arm(self, seconds: float) -> None:
        """Start (or restart) the countdown."""
        self.disarm()
        self.fired = False
        self._timer = threading.Timer(seconds, self._fire)
        self._timer.daemon = True
        self._timer.start()

    def disarm(self) -> None:
        """Stop the countdown, if one runs."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _fire(self) -> None:
        self.fired = True
        for pid in own_browser_pids():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
