"""Database rows -> protocol records (the wire forms every endpoint and event uses)."""

from collections.abc import Iterable, Sequence
from datetime import datetime

from protocol import models as wire
from protocol.socket import CamelReaction
from server.db import models
from server.db.types import utcnow


def forward_origin(row: models.Message) -> wire.ForwardOrigin | None:
    """Where a forwarded message came from, or None for an original message."""
    if row.forwarded_from_sender_name is None:
        return None
    return wire.ForwardOrigin(
        message_id=row.forwarded_from_message_id,
        sender_name=row.forwarded_from_sender_name,
        conversation_title=row.forwarded_from_room_name,
    )


def message_record(
    row: models.Message, reactions: Sequence[wire.ReactionSummary] = ()
) -> wire.Message:
    """The wire form of a message; a deleted one carries no text, media or mentions."""
    deleted = row.deleted_at is not None
    return wire.Message(
        id=row.id,
        conversation_id=row.conversation_id,
        sender_id=row.sender_id,
        seq=row.seq,
        type=wire.MessageType(row.message_type),
        text=None if deleted else row.text,
        client_id=row.client_id,
        reply_to_id=row.reply_to_id,
        forwarded_from=forward_origin(row),
        mentions=[] if deleted else list(row.mentions or []),
        media_url=None if deleted else row.media_url,
        media_mime=None if deleted else row.media_mime,
        media_size=None if deleted else row.media_size,
        media_duration_s=None if deleted else row.media_duration_s,
        media_waveform=None if deleted else row.media_waveform,
        created_at=row.created_at,
        edited_at=row.edited_at,
        deleted_at=row.deleted_at,
        reactions=list(reactions),
    )


def summarize_reactions(
    rows: Iterable[tuple[str, str]], viewer_id: str | None
) -> list[wire.ReactionSummary]:
    """Group ``(emoji, user_id)`` pairs (in reaction order) into one summary per emoji, in the
    order each emoji was first used. ``viewer_id`` None gives the neutral view used by events."""
    by_emoji: dict[str, list[str]] = {}
    for emoji, user_id in rows:
        by_emoji.setdefault(emoji, []).append(user_id)
    return [
        wire.ReactionSummary(
            emoji=emoji,
            count=len(user_ids),
            reacted_by_me=viewer_id is not None and viewer_id in user_ids,
            user_ids=user_ids,
        )
        for emoji, user_ids in by_emoji.items()
    ]


def camel_reactions(summary: Sequence[wire.ReactionSummary]) -> list[CamelReaction]:
    """A summary for a socket event: ``reacted_by_me`` false, ``user_ids`` filled."""
    return [
        CamelReaction(
            emoji=item.emoji, count=item.count, reacted_by_me=False, user_ids=item.user_ids
        )
        for item in summary
    ]


def is_muted_now(row: models.ConversationUserSettings | None, now: datetime | None = None) -> bool:
    """True while the settings mute the conversation (forever when ``muted_until`` is null)."""
    if row is None or not row.is_muted:
        return False
    return row.muted_until is None or row.muted_until > (now or utcnow())


def settings_record(row: models.ConversationUserSettings | None) -> wire.ConversationSettings:
    """The caller's settings; defaults when the caller never changed any."""
    if row is None:
        return wire.ConversationSettings()
    return wire.ConversationSettings(
        is_pinned=row.is_pinned,
        pin_rank=row.pin_rank,
        is_archived=row.is_archived,
        muted_until=row.muted_until if row.is_muted else None,
        is_muted=is_muted_now(row),
        notifications_on=row.notifications_on,
        last_read_at=row.last_read_at,
        last_read_message_id=row.last_read_message_id,
    )
