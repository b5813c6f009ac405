"""My settings for a conversation (document 001 §2.2): PATCH is canonical; pin, archive and
mute are aliases that update the same row."""

from collections.abc import Awaitable, Callable

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


_ALIASES: tuple[tuple[str, str, SettingsPatch, str], ...] = (
    ("POST", "/pin", SettingsPatch(is_pinned=True), "Pin to the top of my list (next pin_rank)."),
    ("DELETE", "/pin", SettingsPatch(is_pinned=False), "Unpin."),
    ("POST", "/archive", SettingsPatch(is_archived=True), "Move to my archive."),
    ("DELETE", "/archive", SettingsPatch(is_archived=False), "Bring back from my archive."),
    ("DELETE", "/mute", SettingsPatch(is_muted=False), "Unmute."),
)


def _alias(patch: SettingsPatch, doc: str) -> Callable[..., Awaitable[SettingsResponse]]:
    async def alias(
        conversation_id: PathId, context: Context, caller_id: CallerId
    ) -> SettingsResponse:
        return await settings.update_settings(context, caller_id, conversation_id, patch)

    alias.__doc__ = doc
    return alias


for _method, _path, _patch, _doc in _ALIASES:
    router.add_api_route(
        _path,
        _alias(_patch, _doc),
        methods=[_method],
        name=f"{_method.lower()}_{_path.strip('/')}",
        response_model=SettingsResponse,
    )


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
