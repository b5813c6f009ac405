"""Timestamps from clients."""

from datetime import UTC, datetime

from protocol.errors import ErrorCode
from server.errors import ApiError


def as_utc(moment: datetime | None) -> datetime | None:
    """``moment`` in UTC; times sent without a zone are taken as UTC. VALIDATION_ERROR (400)
    for a time that has no UTC equivalent (e.g. year 1 at +14:00)."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC)
    except OverflowError as exc:
        raise ApiError(ErrorCode.VALIDATION_ERROR, "time out of range") from exc
