"""Two devices of one user against the real server: both see every message, and reading on one
clears the unread badge on the other."""

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.integration.client_harness import (
    Device,
    device,
    running_server,
    unique_name,
    wait_until,
)


@pytest.mark.timeout(900)
async def test_two_devices_see_everything_and_share_the_read_state(tmp_path: Path) -> None:
    async with running_server(tmp_path / "server") as server:
        alice_name, bob_name = unique_name("alice"), unique_name("bob")
        bob = await device(tmp_path / "bob", server.url, bob_name, register=True)
        phone = await device(tmp_path / "alice-phone", server.url, alice_name, register=True)
        laptop = await device(tmp_path / "alice-laptop", server.url, alice_name)
        try:
            conversation = await bob.direct_chat(phone.user_id)
            for i in range(3):
                bob.engine.actions.send_text(conversation.id, f"from bob {i}")
            phone.engine.actions.send_text(conversation.id, "from alice's phone")

            expected = {"from bob 0", "from bob 1", "from bob 2", "from alice's phone"}
            for dev in (phone, laptop, bob):
                await wait_until(
                    _texts_are(dev, conversation.id, expected),
                    60,
                    f"{dev.profile.name} sees every message",
                )
            # the server's order (seq) is the order on every device
            assert phone.texts(conversation.id) == laptop.texts(conversation.id)
            assert phone.texts(conversation.id) == bob.texts(conversation.id)
            from_bob = [t for t in phone.texts(conversation.id) if t and t.startswith("from bob")]
            assert from_bob == ["from bob 0", "from bob 1", "from bob 2"]
            for dev in (phone, laptop):
                await wait_until(_unread_is(dev, conversation.id, 3), 30, "badge of three")

            assert laptop.engine.actions.mark_read(conversation.id)
            assert _unread(laptop, conversation.id) == 0
            await wait_until(_unread_is(phone, conversation.id, 0), 60, "phone badge cleared")
            assert await laptop.engine.wait_drained(30)
        finally:
            for dev in (phone, laptop, bob):
                await dev.close()


def _texts_are(dev: Device, conversation_id: str, expected: set[str]) -> Callable[[], bool]:
    def holds() -> bool:
        texts = dev.texts(conversation_id)
        return len(texts) == len(expected) and set(texts) == expected

    return holds


def _unread_is(dev: Device, conversation_id: str, count: int) -> Callable[[], bool]:
    return lambda: _unread(dev, conversation_id) == count


def _unread(dev: Device, conversation_id: str) -> int | None:
    """The chat-list badge of a conversation; None while its row is not cached."""
    row = dev.engine.cache.conversation(conversation_id)
    return None if row is None else row.unread_count
