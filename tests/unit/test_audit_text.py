"""The audit log in words: every action the server logs reads as a sentence."""

from datetime import UTC, datetime

import pytest

from client.audit_text import describe
from protocol.models import AuditEntry

NOW = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)
NAMES = {"me": "You", "bob": "Bob Baker"}


def _entry(action: str, target: str | None = "bob", **details: object) -> AuditEntry:
    return AuditEntry(
        id="e1", actor_id="me", target_id=target, action=action, details=details, created_at=NOW
    )


@pytest.mark.parametrize(
    ("entry", "words"),
    [
        (_entry("change_role", role="admin"), "You made Bob Baker an admin"),
        (_entry("change_role", role="member"), "You made Bob Baker a plain member"),
        (_entry("unmute_user"), "You unmuted Bob Baker"),
        (_entry("ban_user", until=None), "You banned Bob Baker until lifted"),
        (_entry("pin_message", message_id="m1"), "You pinned a message by Bob Baker"),
        (_entry("delete_message", message_id="m1"), "You deleted a message by Bob Baker"),
        (_entry("rename", None, title="Crew"), "You renamed the group to “Crew”"),
        (_entry("lock_room", None), "You locked the group: only admins can send messages"),
        (
            _entry("set_forwarding", None, allow_forward_out=False),
            "You stopped forwarding messages out of the group",
        ),
        (_entry("leave", None), "You left the group"),
        (_entry("something_new", None), "You: something new"),
    ],
)
def test_each_action_reads_as_a_sentence(entry: AuditEntry, words: str) -> None:
    assert describe(entry, NAMES.__getitem__, NOW) == words


def test_a_mute_says_until_when() -> None:
    """The end of a mute is shown as the app shows every mute: "until 10:00" today."""
    until = datetime(2026, 12, 5, 10, 0, tzinfo=UTC)
    words = describe(_entry("mute_user", until=until.isoformat()), NAMES.__getitem__, NOW)
    assert words.startswith("You muted Bob Baker until ")
