"""The server settles its heap before serving: what start-up built is frozen out of the
collector's reach, and young collections run less often (``server.__main__``)."""

import gc
from collections.abc import Iterator

import pytest

from server.__main__ import GC_THRESHOLDS, settle_heap


@pytest.fixture
def collector_restored() -> Iterator[None]:
    """Put the collector back as this test process had it."""
    thresholds = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*thresholds)


@pytest.mark.usefixtures("collector_restored")
def test_start_up_objects_are_frozen_and_young_collections_are_rarer() -> None:
    built_at_start_up = [{"payload": index} for index in range(1000)]
    settle_heap()
    assert gc.get_freeze_count() >= len(built_at_start_up)
    assert gc.get_threshold() == GC_THRESHOLDS
    assert GC_THRESHOLDS[0] > 700, "less often than Python's default"
