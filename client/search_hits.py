"""Search results as the search screen lists them, from the local cache and from the server,
and how the two lists merge (no I/O here)."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from client.offline.records import SearchResult
from protocol.models import SearchHit


@dataclass(frozen=True, slots=True)
class Hit:
    """One message found by a search."""

    conversation_id: str
    message_id: str | None
    """None for a message not sent yet (only the local cache finds those)."""
    seq: int | None
    """Where the message sits in its conversation: the jump loads the history around it."""
    created_at: datetime
    conversation_title: str | None
    snippet: str
    """An excerpt with each match wrapped in ``[[`` and ``]]``."""
    match_offsets: tuple[tuple[int, int], ...]
    local_id: int | None = None
    """The cache's row id when the cache found it (keeps unsent hits apart)."""

    @property
    def key(self) -> str:
        """What tells two hits of the same message apart from two different messages."""
        return self.message_id if self.message_id is not None else f"local:{self.local_id}"


def local_hit(result: SearchResult) -> Hit:
    """A hit of the local cache's search."""
    message = result.message
    return Hit(
        conversation_id=message.conversation_id,
        message_id=message.id,
        seq=message.seq,
        created_at=message.created_at,
        conversation_title=result.conversation_title,
        snippet=result.snippet,
        match_offsets=tuple(result.match_offsets),
        local_id=message.local_id,
    )


def server_hit(hit: SearchHit) -> Hit:
    """A hit of ``GET /search/messages`` (its snippet and offsets as the server marked them)."""
    message = hit.message
    return Hit(
        conversation_id=message.conversation_id,
        message_id=message.id,
        seq=message.seq,
        created_at=message.created_at,
        conversation_title=hit.conversation_title,
        snippet=hit.snippet,
        match_offsets=tuple((start, end) for start, end in hit.match_offsets),
    )


def merge_hits(local: Sequence[Hit], server: Sequence[Hit]) -> list[Hit]:
    """The local hits in their order, then the server's hits the cache did not find, in the
    server's order (each message once)."""
    merged: dict[str, Hit] = {}
    for hit in (*local, *server):
        merged.setdefault(hit.key, hit)
    return list(merged.values())
