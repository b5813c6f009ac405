"""My settings for a conversation (document 001 §2.2): PATCH is canonical; pin, archive and
mute are aliases that update the same row."""

from fastapi import APIRouter

from protocol.rest import MuteRequest, SettingsPatch, SettingsResponse
from server.api.deps import CallerId, Context
from server.api.params import PathId
from server.services import settings

router = APIRouter(prefix="/conversations/{conversation_id}", tags=["settings"])


@router.get("/settings")
async def get_settings(
    conversation_id: PathId, context: Context, caller_id: CallerId
) -> SettingsResponse:
    """My settings (defaults until I change one)."""
    return await settings.get_settings(context, caller_id, conversation_id)


@router.patch("/settings")
async def update_settings(
    conversation_id: PathId, body: SettingsPatch, context: Context, caller_id: CallerId
) -> SettingsResponse:
    """Change only the fields sent."""
    return await settings.update_settings(context, caller_id, conversation_id, body)


@router.post("/pin")
async def pin(conversation_id: PathId, context: Context, caller_id: CallerId) -> SettingsResponse:
    """Pin to the top of my list (takes the next ``pin_rank``)."""
    patch = SettingsPatch(is_pinned=True)
    return await settings.update_settings(context, caller_id, conversation_id, patch)


@router.delete("/pin")
async def unpin(conversation_id: PathId, context: Context, caller_id: CallerId) -> SettingsResponse:
    """Unpin."""
    patch = SettingsPatch(is_pinned=False)
    return await settings.update_settings(context, caller_id, conversation_id, patch)


@router.post("/archive")
async def archive(
    conversation_id: PathId, context: Context, caller_id: CallerId
) -> SettingsResponse:
    """Move to my archive."""
    patch = SettingsPatch(is_archived=True)
    return await settings.update_settings(context, caller_id, conversation_id, patch)


@router.delete("/archive")
async def unarchive(
    conversation_id: PathId, context: Context, caller_id: CallerId
) -> SettingsResponse:
    """Bring back from my archive."""
    patch = SettingsPatch(is_archived=False)
    return await settings.update_settings(context, caller_id, conversation_id, patch)


@router.post("/mute")
async def mute(
    conversation_id: PathId,
    context: Context,
    caller_id: CallerId,
    body: MuteRequest | None = None,
) -> SettingsResponse:
    """Mute until ``until``; ``until`` null (or no body) mutes forever."""
    patch = SettingsPatch(is_muted=True, muted_until=body.until if body else None)
    return await settings.update_settings(context, caller_id, conversation_id, patch)


@router.delete("/mute")
async def unmute(
    conversation_id: PathId, context: Context, caller_id: CallerId
) -> SettingsResponse:
    """Unmute."""
    patch = SettingsPatch(is_muted=False)
    return await settings.update_settings(context, caller_id, conversation_id, patch)
