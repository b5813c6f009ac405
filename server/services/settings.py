"""Per-user conversation settings (document 001 §2.2): PATCH is canonical, the pin / archive /
mute aliases build the same patch; only the caller's own row ever changes."""

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from protocol.events import ServerEvent
from protocol.rest import SettingsPatch, SettingsResponse
from protocol.socket import SettingsEvent
from server.context import ServerContext
from server.db import models
from server.db.models import new_id
from server.services import access
from server.services.serializers import settings_record
from server.services.times import as_utc
from server.services.unit_of_work import user_room
from server.services.upsert import insert_ignore

Settings = models.ConversationUserSettings


async def ensure_settings(session: AsyncSession, conversation_id: str, user_id: str) -> Settings:
    """The settings row of ``user_id`` for a conversation, created with defaults when missing."""
    await insert_ignore(
        session,
        Settings,
        {"id": new_id(), "conversation_id": conversation_id, "user_id": user_id},
    )
    row = await session.scalar(
        select(Settings).where(
            Settings.conversation_id == conversation_id, Settings.user_id == user_id
        )
    )
    assert row is not None
    return row


def _response(conversation_id: str, row: Settings | None) -> SettingsResponse:
    return SettingsResponse(conversation_id=conversation_id, **settings_record(row).model_dump())


async def get_settings(
    context: ServerContext, caller_id: str, conversation_id: str
) -> SettingsResponse:
    """The caller's settings for a conversation they belong to (defaults when never set)."""
    async with context.db.read() as session:
        await access.require_member(session, caller_id, conversation_id)
        row = await session.scalar(
            select(Settings).where(
                Settings.conversation_id == conversation_id, Settings.user_id == caller_id
            )
        )
        return _response(conversation_id, row)


async def _next_pin_rank(session: AsyncSession, user_id: str) -> int:
    highest = await session.scalar(
        select(func.max(Settings.pin_rank)).where(
            Settings.user_id == user_id, Settings.is_pinned.is_(True)
        )
    )
    return (highest or 0) + 1


async def _apply(session: AsyncSession, row: Settings, patch: SettingsPatch) -> None:
    sent = patch.model_fields_set
    if patch.is_pinned is not None and patch.is_pinned != row.is_pinned:
        row.is_pinned = patch.is_pinned
        row.pin_rank = await _next_pin_rank(session, row.user_id) if patch.is_pinned else None
    if patch.is_archived is not None:
        row.is_archived = patch.is_archived
    if patch.notifications_on is not None:
        row.notifications_on = patch.notifications_on
    until = as_utc(patch.muted_until)
    if patch.is_muted is not None:
        row.is_muted = patch.is_muted
        row.muted_until = until if patch.is_muted else None
    elif "muted_until" in sent:
        row.is_muted = until is not None
        row.muted_until = until


async def update_settings(
    context: ServerContext, caller_id: str, conversation_id: str, patch: SettingsPatch
) -> SettingsResponse:
    """Change the fields of ``patch`` in the caller's settings row and tell the caller's other
    devices (``settings_updated``, never seen by other members). Pinning assigns the next
    ``pin_rank`` (pinned conversations list in the order they were pinned)."""
    async with context.db.write() as uow:
        await access.require_member(uow.session, caller_id, conversation_id)
        row = await ensure_settings(uow.session, conversation_id, caller_id)
        before = settings_record(row)
        await _apply(uow.session, row, patch)
        await uow.session.flush()
        after = settings_record(row)
        if after != before:
            await uow.log(
                ServerEvent.SETTINGS_UPDATED,
                SettingsEvent(
                    conversation_id=conversation_id,
                    is_pinned=after.is_pinned,
                    pin_rank=after.pin_rank,
                    is_archived=after.is_archived,
                    muted_until=after.muted_until,
                    is_muted=after.is_muted,
                    notifications_on=after.notifications_on,
                ),
                rooms=[user_room(caller_id)],
                user_id=caller_id,
            )
        return _response(conversation_id, row)
