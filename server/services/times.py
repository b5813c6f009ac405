"""Timestamps from clients."""

from datetime import UTC, datetime


def as_utc(moment: datetime | None) -> datetime | None:
    """``moment`` made timezone-aware: times sent without a zone are taken as UTC."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)
