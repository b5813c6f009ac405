"""What the offline core needs from the network, as interfaces the services implement.

Implementations raise the ``client.errors`` hierarchy: ``TransientError`` (retry later),
``PermanentError`` (never retry), ``AuthError`` (sign in again), ``SyncExpiredError`` (410).
"""

from collections.abc import Sequence
from typing import Protocol

from client.offline.outbox_items import OutboxItem
from protocol.models import Conversation, Message, SyncPage


class Transport(Protocol):
    """Carries outbox items to the server (socket with ack, or REST when the socket is down)."""

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
