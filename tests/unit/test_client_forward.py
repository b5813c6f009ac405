"""Forwarding: the copies show at once, pending, and become the server's copies on its answer,
never twice, also when their message_new comes first; a failed forward takes them away."""

import random
from pathlib import Path

import pytest

from client.actions import Actions
from client.errors import ForbiddenError
from client.offline.cache import Cache
from client.offline.outbox import Outbox
from client.offline.outbox_items import OutboxState
from client.offline.outbox_worker import OutboxWorker
from client.offline.records import CachedMessage, MessageStatus
from client.store import Store
from protocol.errors import ErrorCode
from tests.unit.offline_fixtures import ME, FakeClock, FakeServer, conversation, message


class Rig:
    """Cache, outbox, actions and a worker over a fake server; ``c1`` holds Bob's message."""

    def __init__(self, path: Path) -> None:
        self.cache = Cache.open(path, ME)
        for conversation_id in ("c1", "c2", "c3"):
            self.cache.upsert_conversation(conversation(conversation_id))
        self.source = self.cache.store_message(message(1, "c1")).local_id
        self.outbox = Outbox(self.cache)
        self.actions = Actions(self.cache, self.outbox, Store(self.cache, self.outbox))
        self.server = FakeServer()
        clock = FakeClock()
        self.worker = OutboxWorker(
            self.outbox, self.server, clock=clock, sleep=clock.sleep, rng=random.Random(3)
        )
        self.worker.set_online(True)

    def messages(self, conversation_id: str) -> list[CachedMessage]:
        return self.cache.messages_before(conversation_id)


@pytest.fixture
def rig(tmp_path: Path) -> Rig:
    return Rig(tmp_path)


async def test_copies_show_at_once_then_become_the_servers(rig: Rig) -> None:
    pending = rig.actions.forward([rig.source], ["c2", "c3"])
    [item] = rig.outbox.items()
    assert item.payload["client_id"] == item.client_id  # a retry gets the first copies
    for target in ("c2", "c3"):
        [copy] = rig.messages(target)
        assert copy.status == MessageStatus.PENDING and copy.id is None
        assert copy.text == "message number 1" and copy.sender_id == ME
        assert copy.forwarded_from is not None and copy.forwarded_from.message_id == "mc1-1"

    assert (await rig.worker.drain()).done == 1
    copies = [m for target in ("c2", "c3") for m in rig.messages(target)]
    assert [(m.conversation_id, m.id, m.status) for m in copies] == [
        ("c2", "fwd-0", MessageStatus.SENT),
        ("c3", "fwd-1", MessageStatus.SENT),
    ]
    assert [m.local_id for m in copies] == [m.local_id for m in pending]

    rig.cache.store_message(rig.server.sent["fwd-0"])  # the message_new echo, after the ack
    [copy] = rig.messages("c2")
    assert copy.id == "fwd-0" and copy.client_id == pending[0].client_id


async def test_live_copy_arriving_before_the_answer_is_not_doubled(rig: Rig) -> None:
    [pending] = rig.actions.forward([rig.source], ["c2"])

    def live_copy_first() -> None:
        rig.server.during_call.clear()
        echo = rig.server._copy("mc1-1", "c2")  # the server stores it, message_new arrives
        rig.server.sent.clear()
        rig.cache.store_message(echo)

    rig.server.during_call.append(live_copy_first)
    await rig.worker.drain()
    [copy] = rig.messages("c2")
    assert copy.id == "fwd-0" and copy.status == MessageStatus.SENT
    assert copy.client_id == pending.client_id  # actions queued on the pending copy find it


async def test_action_on_a_pending_copy_waits_for_the_forward(rig: Rig) -> None:
    [copy] = rig.actions.forward([rig.source], ["c2"])
    rig.actions.toggle_reaction(copy.local_id, "👍")
    assert (await rig.worker.drain()).done == 2
    assert rig.server.actions[-1] == ("react", {"message_id": "fwd-0", "emoji": "👍"})


async def test_failed_forward_takes_its_copies_away(rig: Rig) -> None:
    rig.server.failures = [ForbiddenError("blocked", ErrorCode.BLOCKED)]
    rig.actions.forward([rig.source], ["c2", "c3"])
    assert (await rig.worker.drain()).failed == 1
    assert rig.messages("c2") == [] and rig.messages("c3") == []
    assert [i.state for i in rig.outbox.items()] == [OutboxState.FAILED]
