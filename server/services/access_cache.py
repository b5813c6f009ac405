"""What earlier send batches read about each conversation, so that a batch whose facts are all
known needs no read before its write (PostgreSQL: one round trip and most of the database's
work per batch, when chats are busy).

Only facts that let a send through are kept, and only sends that all pass on them skip the
read: a send that would be refused, or that names a reply target, is checked on a fresh read.
A stale fact cannot let a send through: the batch's write stores nothing in a conversation whose
``access_version`` (raised by triggers whenever who may post changes) or ``is_locked`` differs
from what the facts said, nor where a draft's client id is stored already (``send_stores``). Its
sends are then checked again, on a fresh read (``forget``).
"""

from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

from protocol.models import ConversationType
from server.services.send_batch import (
    ACCEPTED,
    DEFERRED,
    Checked,
    Facts,
    Membership,
    SendRequest,
    judge,
)

CAPACITY = 10_000
"""Conversations remembered (the least recently used go first)."""


@dataclass(frozen=True)
class _Known:
    """One conversation as a read saw it: its members among the senders read (in a direct chat
    both) and, in a direct chat, the blocks between them."""

    room_type: str
    access_version: int
    is_locked: bool
    members: dict[str, Membership]
    blocked_pairs: frozenset[tuple[str, str]]


class AccessCache:
    """The node's memory of the facts its send batches read (see the module's docstring)."""

    def __init__(self, capacity: int = CAPACITY) -> None:
        self._known: OrderedDict[str, _Known] = OrderedDict()
        self._capacity = capacity

    def check(self, requests: Sequence[SendRequest]) -> Checked | None:
        """The batch's verdicts from remembered facts, when they let every send through; None
        when any send needs a read (a conversation or sender not remembered, a reply target, or
        a send the facts would refuse)."""
        facts = Facts({}, {}, set(), {}, {}, set(), {})
        for request in requests:
            cid = request.conversation_id
            known = self._known.get(cid)
            if known is None or request.reply_to_id or request.sender_id not in known.members:
                return None
            if cid not in facts.room_types:
                self._known.move_to_end(cid)
                facts.room_types[cid] = known.room_type
                facts.access_versions[cid] = known.access_version
                if known.is_locked:
                    facts.locked.add(cid)
                facts.members[cid] = known.members
                facts.blocked_pairs |= known.blocked_pairs
        checked = judge(facts, requests)
        if any(verdict not in (ACCEPTED, DEFERRED) for verdict in checked.verdicts):
            return None
        return checked

    def remember(self, facts: Facts) -> None:
        """Keep what a read found about each of its conversations. Members read at the same
        ``access_version`` as those remembered join them (nothing about who may post changed
        in between); a new version replaces them."""
        for cid, room_type in facts.room_types.items():
            version, locked = facts.access_versions[cid], cid in facts.locked
            members = facts.members.get(cid, {})
            peers = set(members) if room_type == ConversationType.DIRECT else set()
            blocked = frozenset(
                pair for pair in facts.blocked_pairs if pair[0] in peers and pair[1] in peers
            )
            earlier = self._known.get(cid)
            if (
                earlier is not None
                and earlier.access_version == version
                and earlier.is_locked == locked
            ):
                members = {**earlier.members, **members}
            self._known[cid] = _Known(room_type, version, locked, members, blocked)
            self._known.move_to_end(cid)
        while len(self._known) > self._capacity:
            self._known.popitem(last=False)

    def forget(self, conversation_id: str) -> None:
        """Drop what is known of ``conversation_id`` (a write skipped it: its facts moved)."""
        self._known.pop(conversation_id, None)
