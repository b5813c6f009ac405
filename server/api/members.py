"""Group administration under ``/conversations/{id}``: members, roles, mutes, bans, leaving,
renaming, locking and the audit log. Direct chats answer 400 NOT_A_GROUP."""

from typing import Annotated

from fastapi import APIRouter, Body, status

from protocol import limits
from protocol.models import AuditEntry, Conversation, GroupBan, Member, Page
from protocol.rest import (
    AddMembersRequest,
    BanRequest,
    LockRequest,
    MuteMemberRequest,
    RoleRequest,
    UpdateGroupRequest,
)
from server.api.deps import CallerId, Context
from server.api.params import Cursor, Limit, PathId
from server.services import audit, members

router = APIRouter(prefix="/conversations/{conversation_id}", tags=["group administration"])

NO_CONTENT = status.HTTP_204_NO_CONTENT


@router.patch("")
async def update_group(
    conversation_id: PathId,
    body: Annotated[UpdateGroupRequest, Body()],
    context: Context,
    caller_id: CallerId,
) -> Conversation:
    """Rename a group (owners and admins) and/or set whether its messages may be forwarded out
    (the owner only); ``conversation_updated`` tells its members."""
    return await members.update_group(
        context, caller_id, conversation_id, body.title, body.allow_forward_out
    )


@router.patch("/lock")
async def lock(
    conversation_id: PathId,
    body: Annotated[LockRequest, Body()],
    context: Context,
    caller_id: CallerId,
) -> Conversation:
    """Lock or unlock a group (owner only): locked, only owners and admins may post."""
    return await members.set_locked(context, caller_id, conversation_id, body.locked)


@router.post("/members")
async def add_members(
    conversation_id: PathId,
    body: Annotated[AddMembersRequest, Body()],
    context: Context,
    caller_id: CallerId,
) -> list[Member]:
    """Add users to a group (owners and admins); answers the new memberships (users already
    in the group are skipped). 403 BANNED for a banned user, BLOCKED for a blocked one."""
    return await members.add_members(context, caller_id, conversation_id, body.user_ids)


@router.post("/leave", status_code=NO_CONTENT)
async def leave(conversation_id: PathId, context: Context, caller_id: CallerId) -> None:
    """Leave a group; an owner hands ownership to the longest-standing admin (else member)."""
    await members.leave(context, caller_id, conversation_id)


@router.delete("/members/me", status_code=NO_CONTENT)
async def leave_by_delete(conversation_id: PathId, context: Context, caller_id: CallerId) -> None:
    """The same as ``POST /conversations/{id}/leave``."""
    await members.leave(context, caller_id, conversation_id)


@router.delete("/members/{user_id}", status_code=NO_CONTENT)
async def remove_member(
    conversation_id: PathId, user_id: PathId, context: Context, caller_id: CallerId
) -> None:
    """Remove a member (owners and admins; only the owner removes an admin)."""
    await members.remove_member(context, caller_id, conversation_id, user_id)


@router.patch("/members/{user_id}/role")
async def change_role(
    conversation_id: PathId,
    user_id: PathId,
    body: Annotated[RoleRequest, Body()],
    context: Context,
    caller_id: CallerId,
) -> Member:
    """Make a member an admin or a plain member again (owner only)."""
    return await members.set_role(context, caller_id, conversation_id, user_id, body.role)


@router.post("/members/{user_id}/mute")
async def mute_member(
    conversation_id: PathId,
    user_id: PathId,
    body: Annotated[MuteMemberRequest, Body()],
    context: Context,
    caller_id: CallerId,
) -> Member:
    """Stop a member posting until ``until`` (owners and admins); they still read and react."""
    return await members.mute_member(context, caller_id, conversation_id, user_id, body.until)


@router.delete("/members/{user_id}/mute")
async def unmute_member(
    conversation_id: PathId, user_id: PathId, context: Context, caller_id: CallerId
) -> Member:
    """Lift a member's mute (owners and admins)."""
    return await members.mute_member(context, caller_id, conversation_id, user_id, None)


@router.post("/members/{user_id}/ban", status_code=NO_CONTENT)
async def ban_member(
    conversation_id: PathId,
    user_id: PathId,
    body: Annotated[BanRequest, Body()],
    context: Context,
    caller_id: CallerId,
) -> None:
    """Remove a user and keep them out until ``until`` (null: until unbanned)."""
    await members.ban_member(context, caller_id, conversation_id, user_id, body.until)


@router.get("/bans")
async def list_bans(
    conversation_id: PathId,
    context: Context,
    caller_id: CallerId,
    cursor: Cursor = None,
    limit: Limit = limits.DEFAULT_PAGE_SIZE,
) -> Page[GroupBan]:
    """The bans in force in a group, oldest first (owners and admins); cursor-paginated."""
    return await members.list_bans(context, caller_id, conversation_id, cursor, limit)


@router.delete("/members/{user_id}/ban", status_code=NO_CONTENT)
async def unban_member(
    conversation_id: PathId, user_id: PathId, context: Context, caller_id: CallerId
) -> None:
    """Lift a ban (owners and admins)."""
    await members.unban_member(context, caller_id, conversation_id, user_id)


@router.get("/audit-log")
async def audit_log(
    conversation_id: PathId,
    context: Context,
    caller_id: CallerId,
    cursor: Cursor = None,
    limit: Limit = limits.DEFAULT_PAGE_SIZE,
) -> Page[AuditEntry]:
    """Who did what to whom in a group, newest first (owners and admins); cursor-paginated."""
    return await audit.list_entries(context, caller_id, conversation_id, cursor, limit)
