"""Who may post: ``send_refusal`` decides for muted members and locked groups."""

from datetime import UTC, datetime, timedelta

import pytest

from protocol.errors import ErrorCode
from server.services.access import send_refusal

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
LATER = NOW + timedelta(hours=1)
EARLIER = NOW - timedelta(seconds=1)


@pytest.mark.parametrize("role", ["owner", "admin", "member"])
def test_a_member_of_an_open_group_may_post(role: str) -> None:
    assert send_refusal(role, None, False, NOW) is None
    assert send_refusal(role, EARLIER, False, NOW) is None, "an expired mute no longer counts"
    assert send_refusal(role, NOW, False, NOW) is None, "a mute ends at its until"


def test_a_non_member_is_refused() -> None:
    refusal = send_refusal(None, None, False, NOW)
    assert refusal is not None and refusal.code is ErrorCode.NOT_A_MEMBER


@pytest.mark.parametrize("locked", [False, True])
@pytest.mark.parametrize("role", ["owner", "admin", "member"])
def test_a_muted_member_is_refused_with_the_end_of_the_mute(role: str, locked: bool) -> None:
    refusal = send_refusal(role, LATER, locked, NOW)
    assert refusal is not None and refusal.code is ErrorCode.MUTED and refusal.status == 403
    assert refusal.body()["until"] == LATER.isoformat().replace("+00:00", "Z")


def test_a_locked_group_lets_only_owners_and_admins_post() -> None:
    refusal = send_refusal("member", None, True, NOW)
    assert refusal is not None and refusal.code is ErrorCode.LOCKED and refusal.status == 403
    assert send_refusal("admin", None, True, NOW) is None
    assert send_refusal("owner", None, True, NOW) is None
