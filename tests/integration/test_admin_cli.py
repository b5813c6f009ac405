"""``openchat-server admin grant|revoke``: run against a live server's database (SQLite and
PostgreSQL), the grant opens the admin endpoints to that user at once and the revoke closes them."""

import os
import subprocess
import sys

from tests.support.api import Account, register
from tests.support.live_server import LiveServer


def admin_command(server: LiveServer, *arguments: str) -> subprocess.CompletedProcess[str]:
    """Run ``openchat-server admin …`` on ``server``'s data dir and database."""
    return subprocess.run(
        [sys.executable, "-m", "server", "admin", *arguments, "--data-dir", str(server.data_dir)],
        env={**os.environ, **server.env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def _queue_status(account: Account) -> int:
    return account.get("/admin/reports").status_code


def test_grant_and_revoke_change_who_reviews_reports(live_server: LiveServer) -> None:
    reviewer = register(live_server.url)
    assert _queue_status(reviewer) == 403

    granted = admin_command(live_server, "grant", reviewer.username.upper())
    assert granted.returncode == 0, granted.stderr
    assert "now an administrator" in granted.stdout
    assert _queue_status(reviewer) == 200

    revoked = admin_command(live_server, "revoke", reviewer.username)
    assert revoked.returncode == 0, revoked.stderr
    assert _queue_status(reviewer) == 403


def test_an_unknown_user_is_an_error_not_a_silent_success(live_server: LiveServer) -> None:
    result = admin_command(live_server, "grant", "nobody_by_this_name")
    assert result.returncode == 1
    assert "no user named 'nobody_by_this_name'" in result.stderr
