"""REST request and response bodies (snake_case), under ``/api/v1``."""

from datetime import datetime
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StringConstraints,
    model_validator,
)

from protocol import limits
from protocol.models import ConversationSettings, Message, User
from protocol.text import clean_name, sanitize_text

API_PREFIX = "/api/v1"


class Body(BaseModel):
    """Base of request bodies: unknown fields are refused so typos surface as 400s."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)


def _plain_text(value: str) -> str:
    cleaned = sanitize_text(value)
    if not cleaned:
        raise ValueError("text must contain at least one visible character")
    if len(cleaned) > limits.MAX_TEXT_LENGTH:
        raise ValueError(f"text must be at most {limits.MAX_TEXT_LENGTH} characters")
    return cleaned


MessageText = Annotated[
    str, Field(min_length=1, max_length=limits.MAX_TEXT_LENGTH * 4), AfterValidator(_plain_text)
]
"""Message text: sanitised to plain text, then 1–4000 characters."""

Identifier = Annotated[
    str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")
]
"""An id sent by a client (server ids, client ids): short, no path or markup characters."""

Username = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, to_lower=True, pattern=limits.USERNAME_PATTERN, max_length=32
    ),
]
Password = Annotated[
    str,
    StringConstraints(min_length=limits.MIN_PASSWORD_LENGTH, max_length=limits.MAX_PASSWORD_LENGTH),
]


def _display_name(value: str) -> str:
    cleaned = clean_name(value)
    if not cleaned:
        raise ValueError("display name must contain at least one visible character")
    return cleaned


DisplayName = Annotated[
    str,
    Field(min_length=1, max_length=limits.MAX_DISPLAY_NAME_LENGTH),
    AfterValidator(_display_name),
]
GroupTitle = Annotated[
    str,
    Field(min_length=1, max_length=limits.MAX_GROUP_TITLE_LENGTH),
    AfterValidator(_display_name),
]


# --- auth -------------------------------------------------------------------------------------


class RegisterRequest(Body):
    """``POST /auth/register``."""

    username: Username
    password: Password
    display_name: DisplayName


class LoginRequest(Body):
    """``POST /auth/login``."""

    username: Annotated[str, StringConstraints(strip_whitespace=True, to_lower=True, max_length=64)]
    password: Annotated[str, StringConstraints(max_length=limits.MAX_PASSWORD_LENGTH)]


class RefreshRequest(Body):
    """``POST /auth/refresh`` and ``POST /auth/logout``."""

    refresh_token: Annotated[str, StringConstraints(min_length=1, max_length=512)]


class AuthResponse(BaseModel):
    """Answer of register, login and refresh."""

    user: User
    access_token: str
    refresh_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int = limits.ACCESS_TOKEN_TTL_SECONDS


# --- conversations ----------------------------------------------------------------------------


class CreateDirectRequest(Body):
    """``POST /conversations`` for a 1-on-1 chat (returns the existing one when there is one)."""

    type: Literal["direct"]
    user_id: Identifier


class CreateGroupRequest(Body):
    """``POST /conversations`` for a private group; the caller becomes its owner."""

    type: Literal["private_group"]
    title: GroupTitle
    member_ids: list[Identifier] = Field(default_factory=list, max_length=limits.MAX_GROUP_MEMBERS)


CreateConversationRequest = Annotated[
    CreateDirectRequest | CreateGroupRequest, Field(discriminator="type")
]


class RenameRequest(Body):
    """``PATCH /conversations/{id}`` as the app sends it to rename a group."""

    title: GroupTitle


class UpdateGroupRequest(Body):
    """``PATCH /conversations/{id}``: a group's new title (owners and admins) and/or whether its
    messages may be forwarded out of it (the owner only); at least one of them."""

    title: GroupTitle | None = None
    allow_forward_out: StrictBool | None = None

    @model_validator(mode="after")
    def _something_to_change(self) -> "UpdateGroupRequest":
        if self.title is None and self.allow_forward_out is None:
            raise ValueError("give a title, allow_forward_out or both")
        return self


class LockRequest(Body):
    """``PATCH /conversations/{id}/lock``: locked groups let only owners and admins post."""

    locked: bool


# --- group members ----------------------------------------------------------------------------


class AddMembersRequest(Body):
    """``POST /conversations/{id}/members``: users to add (members already in are skipped)."""

    user_ids: list[Identifier] = Field(min_length=1, max_length=limits.MAX_GROUP_MEMBERS)


class RoleRequest(Body):
    """``PATCH /conversations/{id}/members/{user_id}/role`` (owner only)."""

    role: Literal["admin", "member"]


class MuteMemberRequest(Body):
    """``POST /conversations/{id}/members/{user_id}/mute``: no posting until ``until``."""

    until: AwareDatetime


class BanRequest(Body):
    """``POST /conversations/{id}/members/{user_id}/ban``: removed and kept out until
    ``until`` (null: until the ban is lifted)."""

    until: AwareDatetime | None = None


class SettingsPatch(Body):
    """``PATCH /conversations/{id}/settings``: only the fields sent change."""

    is_pinned: bool | None = None
    is_archived: bool | None = None
    muted_until: datetime | None = None
    """A time in the future mutes until then; with ``is_muted`` false it unmutes."""
    is_muted: bool | None = None
    """``true`` with no ``muted_until`` mutes forever; ``false`` unmutes."""
    notifications_on: bool | None = None


class MuteRequest(Body):
    """``POST /conversations/{id}/mute``: ``until`` null mutes forever."""

    until: datetime | None = None


class SettingsResponse(ConversationSettings):
    """The caller's settings for one conversation."""

    conversation_id: str


# --- messages ---------------------------------------------------------------------------------


class SendMessageRequest(Body):
    """``POST /messages``: idempotent on (sender, client_id)."""

    conversation_id: Identifier
    text: MessageText
    client_id: Identifier
    reply_to_id: Identifier | None = None


class EditMessageRequest(Body):
    """``PATCH /messages/{id}``."""

    text: MessageText


class MarkReadRequest(Body):
    """``POST /conversations/{id}/read``: everything up to and including ``message_id`` is read."""

    message_id: Identifier


class ReactionRequest(Body):
    """``POST /messages/{id}/reactions``."""

    emoji: Annotated[str, StringConstraints(min_length=1, max_length=16)]


class ForwardRequest(Body):
    """``POST /messages/forward``. With ``client_id``, a retried forward returns the messages the
    first attempt created instead of creating them again."""

    message_ids: list[Identifier] = Field(min_length=1, max_length=limits.MAX_FORWARD_MESSAGES)
    target_conversation_ids: list[Identifier] = Field(
        min_length=1, max_length=limits.MAX_FORWARD_TARGETS
    )
    client_id: Identifier | None = None


class ForwardResponse(BaseModel):
    """The messages a forward created, one per (message, target)."""

    messages: list[Message]


class BlockedUser(BaseModel):
    """An entry of ``GET /users/blocked``."""

    user: User
    blocked_at: datetime


class ReportRequest(Body):
    """``POST /reports``."""

    message_id: Identifier | None = None
    reported_user_id: Identifier | None = None
    reason: Literal["SPAM", "HARASSMENT", "INAPPROPRIATE", "OTHER"]
    detail: Annotated[str, StringConstraints(max_length=1000)] | None = None


class HealthResponse(BaseModel):
    """``GET /healthz``."""

    status: Literal["ok"] = "ok"
    database: str
    redis: bool
