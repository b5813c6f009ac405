"""The pinned banner, as in Telegram: the newest pin first, "Pinned message 2 of 3", a click
goes to the shown pin and moves the banner to the next older one, cycling."""

from pathlib import Path

import pytest

from client.offline.cache import Cache
from client.offline.records import CachedMessage
from client.views.pinned_banner import PinnedBanner
from tests.unit.offline_fixtures import ME, conversation, message


@pytest.fixture
def cache(tmp_path: Path) -> Cache:
    c = Cache.open(tmp_path, ME)
    c.upsert_conversation(conversation("c1"))
    for seq in range(1, 6):
        c.store_message(message(seq))
    return c


def pins(cache: Cache, *seqs: int) -> list[CachedMessage]:
    """Pin messages ``seqs`` in that order and read the pins as the header gets them."""
    cache.set_pins("c1", [f"mc1-{seq}" for seq in seqs])
    return cache.pinned_messages("c1")


def test_a_click_goes_to_the_shown_pin_then_the_banner_moves_to_the_older_one(
    cache: Cache,
) -> None:
    jumps: list[str] = []
    banner = PinnedBanner(jumps.append)
    banner.show(pins(cache, 2, 4, 3))
    assert banner.control.visible
    assert banner.text.value == "Pinned message 3 of 3: message number 3"
    banner._clicked()
    assert banner.text.value == "Pinned message 2 of 3: message number 4"
    banner._clicked()
    banner._clicked()
    assert jumps == ["mc1-3", "mc1-4", "mc1-2"]
    assert banner.text.value == "Pinned message 3 of 3: message number 3"  # round again


def test_every_pinned_message_is_pinned_not_only_the_shown_one(cache: Cache) -> None:
    banner = PinnedBanner(lambda _: None)
    current = pins(cache, 2, 4)
    banner.show(current)
    assert banner.shown is not None and banner.shown.id == "mc1-4"
    assert [banner.is_pinned(m) for m in cache.messages_after("c1", 0, 5)] == [
        False,
        True,
        False,
        True,
        False,
    ]


def test_a_refresh_keeps_the_shown_pin_and_a_new_pin_is_shown_at_once(cache: Cache) -> None:
    banner = PinnedBanner(lambda _: None)
    banner.show(pins(cache, 1, 2, 3))
    banner._clicked()
    banner.show(pins(cache, 1, 2, 3))  # the header refreshed (typing, presence)
    assert banner.text.value == "Pinned message 2 of 3: message number 2"
    banner.show(pins(cache, 1, 2, 3, 5))
    assert banner.text.value == "Pinned message 4 of 4: message number 5"
    banner._clicked()
    banner.show(pins(cache, 1, 2, 5))  # the shown one (3) was unpinned
    assert banner.text.value == "Pinned message 3 of 3: message number 5"


def test_one_pin_reads_as_before_and_none_hides_the_banner(cache: Cache) -> None:
    banner = PinnedBanner(lambda _: None)
    banner.show(pins(cache, 4))
    assert banner.text.value == "Pinned: message number 4"
    banner.show([])
    assert not banner.control.visible and banner.shown is None
