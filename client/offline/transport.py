"""What the offline core needs from the network, as interfaces the services implement.

Implementations raise the ``client.errors`` hierarchy: ``TransientError`` (retry later),
``PermanentError`` (never retry), ``AuthError`` (sign in again), ``SyncExpiredError`` (410).
"""

import asyncio
from collections.abc import Sequence
from enum import StrEnum
from typing import Protocol

from client.offline.outbox_items import OutboxItem
from protocol.models import Conversation, Member, Message, SyncPage


class Route(StrEnum):
    """How an outbox item can be carried right now."""

    PIPELINED = "pipelined"
    """Over an ordered channel (the socket): ``start`` puts it on the wire at once, and later
    items may follow before its answer; the server handles them in the order they arrive."""
    ALONE = "alone"
    """Over a call that must finish before the next item starts (REST: concurrent requests
    have no order), through ``perform``."""
    LATER = "later"
    """Not now (a delivered receipt without the socket): it stays queued without holding back
    the items after it."""


class Transport(Protocol):
    """Carries outbox items to the server (socket with ack, or REST when the socket is down)."""

    def route(self, item: OutboxItem) -> Route:
        """How ``item`` can be carried now."""
        ...

    def start(self, item: OutboxItem) -> "asyncio.Future[Sequence[Message]]":
        """Put a ``PIPELINED`` item on the wire before returning; the future resolves to the
        messages the server answered with (as ``perform``) or raises its error."""
        ...

    async def perform(self, item: OutboxItem) -> Sequence[Message]:
        """Do ``item.request()`` on the server; return the messages the server answered with
        (the stored message of a send or edit, the copies a forward created; else empty)."""
        ...


class SyncFetcher(Protocol):
    """Reads the server state the catch-up and the full resync need."""

    async def sync_page(self, since: int, limit: int) -> SyncPage:
        """``GET /sync?since=&limit=``; raises ``SyncExpiredError`` on 410."""
        ...

    async def sync_head(self) -> int:
        """The id of the newest event in the server's log (where a full resync resumes)."""
        ...

    async def conversations(self) -> Sequence[Conversation]:
        """Every conversation of the caller, archived ones included."""
        ...

    async def conversation(self, conversation_id: str) -> Conversation:
        """One conversation (one the cache did not know yet, or one that changed)."""
        ...

    async def recent_messages(self, conversation_id: str, limit: int) -> Sequence[Message]:
        """The newest ``limit`` messages of a conversation, in any order."""
        ...

    async def members(self, conversation_id: str) -> Sequence[Member]:
        """Every member of a group."""
        ...
