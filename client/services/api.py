"""Typed async client for the OpenChat REST contract (``protocol.rest``, under ``API_PREFIX``).

One ``ApiClient`` per signed-in account. It carries the access token as ``Authorization:
Bearer``; when the server answers 401 it refreshes the token pair once (single-flight: concurrent
requests that fail together share one refresh) and retries the request once. Every failure is
raised as a ``client.errors`` exception: ``NetworkError`` when the server cannot be reached,
``RateLimitedError`` (with ``retry_after``) for 429, ``ForbiddenError`` / ``NotFoundError`` /
``ValidationFailedError`` / ``ConflictError`` for permanent refusals, ``AuthError`` when the
session is over. The transport is injectable (``httpx.MockTransport`` in tests).
"""

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from typing import Any, TypeVar
from urllib.parse import quote

import httpx
from pydantic import BaseModel, TypeAdapter, ValidationError

from client.errors import (
    AuthError,
    NetworkError,
    OpenChatError,
    ServerUnavailableError,
    TransientError,
    error_for,
)
from protocol import limits
from protocol.errors import ErrorCode
from protocol.models import (
    AuditEntry,
    Conversation,
    GroupBan,
    Member,
    Message,
    MessageEdit,
    MessageReceipt,
    Page,
    ReactionSummary,
    SearchHit,
    SyncPage,
    User,
)
from protocol.rest import (
    API_PREFIX,
    AddMembersRequest,
    AuthResponse,
    BanRequest,
    BlockedUser,
    CreateDirectRequest,
    CreateGroupRequest,
    EditMessageRequest,
    ForwardRequest,
    ForwardResponse,
    HealthResponse,
    LockRequest,
    LoginRequest,
    MarkReadRequest,
    MuteMemberRequest,
    MuteRequest,
    ReactionRequest,
    RefreshRequest,
    RegisterRequest,
    RenameRequest,
    ReportRequest,
    RoleRequest,
    SendMessageRequest,
    SettingsPatch,
    SettingsResponse,
)

T = TypeVar("T")
FRESH_TOKEN_TRIES = 3
"""How many fresh access tokens a request is sent with before a 401 that a refresh answered
is left for a later retry: a token can expire on the way when the server is slow and tokens
are short-lived."""

TokensListener = Callable[[AuthResponse], Awaitable[None]]
"""Called after every successful register, login and refresh (to persist the new pair)."""
SignedOutListener = Callable[[], Awaitable[None]]
"""Called once when a refresh is refused: the session is over."""

Query = Mapping[str, str | int | bool | None]

KEEPALIVE_EXPIRY = 2.0
"""Seconds an idle pooled connection is reused. Servers close idle connections after a few
seconds (uvicorn: 5); reusing one at that moment fails with a read error, so ours expire first."""


def _path(*parts: str) -> str:
    """Join path segments, percent-encoding each (ids and emojis never become path syntax)."""
    return "/" + "/".join(quote(part, safe="") for part in parts)


class ApiClient:
    """Async client over the whole REST contract.

    ``base_url`` is the server's root (``http://host:port``); ``API_PREFIX`` is added here.
    ``transport`` replaces the network (tests); ``on_tokens`` / ``on_signed_out`` let the session
    persist rotated tokens and react to a revoked session.
    """

    def __init__(
        self,
        base_url: str,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = 15.0,
        on_tokens: TokensListener | None = None,
        on_signed_out: SignedOutListener | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._http = httpx.AsyncClient(
            base_url=self.base_url + API_PREFIX,
            transport=transport,
            timeout=timeout,
            limits=httpx.Limits(keepalive_expiry=KEEPALIVE_EXPIRY),
        )
        self._access_token: str | None = None
        self._refresh_token: str | None = None
        self._refresh_lock = asyncio.Lock()
        self.on_tokens = on_tokens
        self.on_signed_out = on_signed_out

    # --- tokens -----------------------------------------------------------------------------

    @property
    def access_token(self) -> str | None:
        """The current access token (``None`` when signed out)."""
        return self._access_token

    @property
    def refresh_token(self) -> str | None:
        """The current refresh token (``None`` when signed out)."""
        return self._refresh_token

    def set_tokens(self, access_token: str | None, refresh_token: str | None) -> None:
        """Use these tokens from now on (``access_token`` may be ``None`` to force a refresh)."""
        self._access_token = access_token
        self._refresh_token = refresh_token

    async def ensure_fresh_token(self, stale_access_token: str | None) -> str:
        """Return an access token newer than ``stale_access_token``, refreshing at most once
        for any number of concurrent callers that saw the same stale token."""
        async with self._refresh_lock:
            if self._access_token is not None and self._access_token != stale_access_token:
                return self._access_token
            await self._refresh_locked()
            assert self._access_token is not None
            return self._access_token

    async def refresh(self) -> AuthResponse:
        """Exchange the refresh token for a new pair now (the old refresh token dies)."""
        async with self._refresh_lock:
            return await self._refresh_locked()

    async def _refresh_locked(self) -> AuthResponse:
        if self._refresh_token is None:
            raise AuthError("Not signed in", ErrorCode.UNAUTHORIZED)
        try:
            response = await self._send(
                "POST",
                "/auth/refresh",
                body=RefreshRequest(refresh_token=self._refresh_token),
                token=None,
            )
        except AuthError:
            self.set_tokens(None, None)
            if self.on_signed_out is not None:
                await self.on_signed_out()
            raise
        return await self._accept_auth(response)

    async def _accept_auth(self, response: httpx.Response) -> AuthResponse:
        auth = _parse(AuthResponse, response)
        self.set_tokens(auth.access_token, auth.refresh_token)
        if self.on_tokens is not None:
            await self.on_tokens(auth)
        return auth

    # --- transport ----------------------------------------------------------------------------

    async def _send(
        self,
        method: str,
        path: str,
        *,
        body: BaseModel | None = None,
        params: Query | None = None,
        token: str | None,
    ) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        content = body.model_dump_json(exclude_unset=True) if body is not None else None
        if content is not None:
            headers["Content-Type"] = "application/json"
        query = {k: _query_value(v) for k, v in (params or {}).items() if v is not None}
        try:
            response = await self._http.request(
                method, path, content=content, params=query, headers=headers
            )
        except httpx.TransportError as exc:
            raise NetworkError(f"{method} {path}: {type(exc).__name__}") from exc
        if response.is_error:
            raise _error_from(response)
        return response

    async def _every_page(self, model: type[T], path: str, params: Query | None = None) -> list[T]:
        """Every item of a cursor-paged list, read in the largest pages the server allows."""
        items: list[T] = []
        cursor: str | None = None
        while True:
            query = {**(params or {}), "cursor": cursor, "limit": limits.MAX_PAGE_SIZE}
            page = _parse_page(model, await self._call("GET", path, params=query))
            items.extend(page.items)
            if not page.has_more or page.next_cursor is None:
                return items
            cursor = page.next_cursor

    async def _call(
        self,
        method: str,
        path: str,
        *,
        body: BaseModel | None = None,
        params: Query | None = None,
    ) -> httpx.Response:
        """Send an authenticated request; on 401 refresh (single-flight) and send it again.

        Only a refused refresh ends the session (``AuthError``): a request refused with a
        token just refreshed (it expired on the way to a slow server) is sent again with a
        newer one, up to ``FRESH_TOKEN_TRIES`` times, then left for later (``TransientError``).
        """
        token = self._access_token
        if token is None:
            token = await self.ensure_fresh_token(None)
        try:
            return await self._send(method, path, body=body, params=params, token=token)
        except AuthError:
            pass
        for _ in range(FRESH_TOKEN_TRIES):
            token = await self.ensure_fresh_token(token)
            try:
                return await self._send(method, path, body=body, params=params, token=token)
            except AuthError as error:
                refused = error
        raise TransientError(
            f"{method} {path}: refused with fresh tokens ({refused.message})", refused.code
        )

    async def aclose(self) -> None:
        """Close the connection pools."""
        await self._http.aclose()

    # --- health and auth ------------------------------------------------------------------------

    async def health(self) -> HealthResponse:
        """``GET /healthz`` (outside ``API_PREFIX``)."""
        try:
            response = await self._http.get(self.base_url + "/healthz")
        except httpx.TransportError as exc:
            raise NetworkError(f"GET /healthz: {type(exc).__name__}") from exc
        if response.is_error:
            raise _error_from(response)
        return _parse(HealthResponse, response)

    async def register(self, username: str, password: str, display_name: str) -> AuthResponse:
        """Create an account and sign in as it."""
        body = RegisterRequest(username=username, password=password, display_name=display_name)
        response = await self._send("POST", "/auth/register", body=body, token=None)
        return await self._accept_auth(response)

    async def login(self, username: str, password: str) -> AuthResponse:
        """Sign in; ``AuthError`` (INVALID_CREDENTIALS) on a wrong name or password."""
        body = LoginRequest(username=username, password=password)
        response = await self._send("POST", "/auth/login", body=body, token=None)
        return await self._accept_auth(response)

    async def logout(self) -> None:
        """Revoke this device's refresh token family on the server and forget both tokens.

        An expired access token is refreshed first (the server wants the caller); a session the
        server already ended just ends here too.
        """
        try:
            for attempt in range(2):
                if self._refresh_token is None:
                    return
                stale = self._access_token
                try:
                    await self._send(
                        "POST",
                        "/auth/logout",
                        body=RefreshRequest(refresh_token=self._refresh_token),
                        token=stale,
                    )
                    return
                except AuthError:
                    if attempt == 0:
                        await self.ensure_fresh_token(stale)
        except AuthError:
            return
        finally:
            self.set_tokens(None, None)

    # --- users ----------------------------------------------------------------------------------

    async def me(self) -> User:
        """``GET /users/me``."""
        return _parse(User, await self._call("GET", "/users/me"))

    async def find_users(self, query: str, limit: int | None = None) -> list[User]:
        """``GET /users?query=``: people whose username or display name matches."""
        response = await self._call("GET", "/users", params={"query": query, "limit": limit})
        return _parse_items(User, response)

    async def get_user(self, user_id: str) -> User:
        """``GET /users/{id}``."""
        return _parse(User, await self._call("GET", _path("users", user_id)))

    async def block(self, user_id: str) -> None:
        """``POST /users/{id}/block``."""
        await self._call("POST", _path("users", user_id, "block"))

    async def unblock(self, user_id: str) -> None:
        """``DELETE /users/{id}/block``."""
        await self._call("DELETE", _path("users", user_id, "block"))

    async def blocked_users(self) -> list[BlockedUser]:
        """Every page of ``GET /users/blocked``."""
        return await self._every_page(BlockedUser, "/users/blocked")

    # --- conversations --------------------------------------------------------------------------

    async def conversations(
        self, *, archived: bool = False, cursor: str | None = None, limit: int | None = None
    ) -> Page[Conversation]:
        """``GET /conversations``: mine, pinned first (``archived=True`` for the archive)."""
        params: Query = {"archived": archived or None, "cursor": cursor, "limit": limit}
        return _parse_page(Conversation, await self._call("GET", "/conversations", params=params))

    async def all_conversations(self, *, archived: bool = False) -> list[Conversation]:
        """Every page of ``GET /conversations``."""
        params: Query = {"archived": archived or None}
        return await self._every_page(Conversation, "/conversations", params)

    async def create_direct(self, user_id: str) -> Conversation:
        """``POST /conversations {type: direct}``: the existing chat when there is one."""
        body = CreateDirectRequest(type="direct", user_id=user_id)
        return _parse(Conversation, await self._call("POST", "/conversations", body=body))

    async def create_group(self, title: str, member_ids: list[str]) -> Conversation:
        """``POST /conversations {type: private_group}``: the caller becomes the owner."""
        body = CreateGroupRequest(type="private_group", title=title, member_ids=member_ids)
        return _parse(Conversation, await self._call("POST", "/conversations", body=body))

    async def conversation(self, conversation_id: str) -> Conversation:
        """``GET /conversations/{id}``."""
        response = await self._call("GET", _path("conversations", conversation_id))
        return _parse(Conversation, response)

    async def members(self, conversation_id: str) -> list[Member]:
        """Every page of ``GET /conversations/{id}/members`` (groups hold up to 256 people)."""
        return await self._every_page(Member, _path("conversations", conversation_id, "members"))

    async def rename_group(self, conversation_id: str, title: str) -> Conversation:
        """``PATCH /conversations/{id} {title}`` (owners and admins)."""
        path = _path("conversations", conversation_id)
        return _parse(
            Conversation, await self._call("PATCH", path, body=RenameRequest(title=title))
        )

    async def add_members(self, conversation_id: str, user_ids: list[str]) -> list[Member]:
        """``POST /conversations/{id}/members``: the new memberships (owners and admins)."""
        path = _path("conversations", conversation_id, "members")
        response = await self._call("POST", path, body=AddMembersRequest(user_ids=user_ids))
        return _validate(_adapter(list[Member]), _json(response), response)

    async def remove_member(self, conversation_id: str, user_id: str) -> None:
        """``DELETE /conversations/{id}/members/{user_id}`` (owners and admins, by rank)."""
        await self._call("DELETE", _path("conversations", conversation_id, "members", user_id))

    async def leave_group(self, conversation_id: str) -> None:
        """``POST /conversations/{id}/leave``."""
        await self._call("POST", _path("conversations", conversation_id, "leave"))

    async def set_role(self, conversation_id: str, user_id: str, role: str) -> Member:
        """``PATCH /conversations/{id}/members/{user_id}/role`` (owner only)."""
        path = _path("conversations", conversation_id, "members", user_id, "role")
        body = RoleRequest.model_validate({"role": role})
        return _parse(Member, await self._call("PATCH", path, body=body))

    async def mute_member(
        self, conversation_id: str, user_id: str, until: datetime | None
    ) -> Member:
        """``POST /conversations/{id}/members/{user_id}/mute {until}``, or with ``until`` None
        ``DELETE`` it (owners and admins, by rank)."""
        path = _path("conversations", conversation_id, "members", user_id, "mute")
        if until is None:
            return _parse(Member, await self._call("DELETE", path))
        body = MuteMemberRequest(until=until)
        return _parse(Member, await self._call("POST", path, body=body))

    async def ban_member(self, conversation_id: str, user_id: str, until: datetime | None) -> None:
        """``POST /conversations/{id}/members/{user_id}/ban {until}`` (None: until lifted)."""
        path = _path("conversations", conversation_id, "members", user_id, "ban")
        await self._call("POST", path, body=BanRequest(until=until))

    async def unban_member(self, conversation_id: str, user_id: str) -> None:
        """``DELETE /conversations/{id}/members/{user_id}/ban``."""
        await self._call(
            "DELETE", _path("conversations", conversation_id, "members", user_id, "ban")
        )

    async def bans(self, conversation_id: str) -> list[GroupBan]:
        """Every page of ``GET /conversations/{id}/bans`` (owners and admins)."""
        return await self._every_page(GroupBan, _path("conversations", conversation_id, "bans"))

    async def audit_log(
        self, conversation_id: str, cursor: str | None = None, limit: int = 50
    ) -> Page[AuditEntry]:
        """One page of ``GET /conversations/{id}/audit-log`` (owners and admins), newest first."""
        path = _path("conversations", conversation_id, "audit-log")
        query = {"cursor": cursor, "limit": limit}
        return _parse_page(AuditEntry, await self._call("GET", path, params=query))

    async def set_locked(self, conversation_id: str, locked: bool) -> Conversation:
        """``PATCH /conversations/{id}/lock {locked}`` (owner only)."""
        path = _path("conversations", conversation_id, "lock")
        return _parse(
            Conversation, await self._call("PATCH", path, body=LockRequest(locked=locked))
        )

    # --- conversation settings ------------------------------------------------------------------

    async def settings(self, conversation_id: str) -> SettingsResponse:
        """``GET /conversations/{id}/settings``: the caller's own settings."""
        response = await self._call("GET", _path("conversations", conversation_id, "settings"))
        return _parse(SettingsResponse, response)

    async def update_settings(self, conversation_id: str, patch: SettingsPatch) -> SettingsResponse:
        """``PATCH /conversations/{id}/settings``: only the fields set in ``patch`` change."""
        path = _path("conversations", conversation_id, "settings")
        return _parse(SettingsResponse, await self._call("PATCH", path, body=patch))

    async def pin_conversation(self, conversation_id: str, pinned: bool = True) -> None:
        """``POST|DELETE /conversations/{id}/pin``."""
        path = _path("conversations", conversation_id, "pin")
        await self._call("POST" if pinned else "DELETE", path)

    async def archive_conversation(self, conversation_id: str, archived: bool = True) -> None:
        """``POST|DELETE /conversations/{id}/archive``."""
        path = _path("conversations", conversation_id, "archive")
        await self._call("POST" if archived else "DELETE", path)

    async def mute_conversation(self, conversation_id: str, until: datetime | None = None) -> None:
        """``POST /conversations/{id}/mute {until}``: ``None`` mutes forever."""
        path = _path("conversations", conversation_id, "mute")
        await self._call("POST", path, body=MuteRequest(until=until))

    async def unmute_conversation(self, conversation_id: str) -> None:
        """``DELETE /conversations/{id}/mute``."""
        await self._call("DELETE", _path("conversations", conversation_id, "mute"))

    # --- messages -------------------------------------------------------------------------------

    async def messages(
        self, conversation_id: str, *, cursor: str | None = None, limit: int | None = None
    ) -> Page[Message]:
        """``GET /conversations/{id}/messages``: newest first, cursor pagination."""
        path = _path("conversations", conversation_id, "messages")
        response = await self._call("GET", path, params={"cursor": cursor, "limit": limit})
        return _parse_page(Message, response)

    async def message(self, message_id: str) -> Message:
        """``GET /messages/{id}``: one message of a conversation I belong to."""
        return _parse(Message, await self._call("GET", _path("messages", message_id)))

    async def send_message(
        self, conversation_id: str, text: str, client_id: str, reply_to_id: str | None = None
    ) -> Message:
        """``POST /messages``: idempotent on ``client_id`` (a retry returns the stored one)."""
        body = SendMessageRequest(conversation_id=conversation_id, text=text, client_id=client_id)
        if reply_to_id is not None:
            body.reply_to_id = reply_to_id
        return _parse(Message, await self._call("POST", "/messages", body=body))

    async def edit_message(self, message_id: str, text: str) -> Message:
        """``PATCH /messages/{id}`` (sender only; the previous text is kept)."""
        path = _path("messages", message_id)
        return _parse(Message, await self._call("PATCH", path, body=EditMessageRequest(text=text)))

    async def message_edits(self, message_id: str) -> list[MessageEdit]:
        """``GET /messages/{id}/edits``: earlier versions."""
        response = await self._call("GET", _path("messages", message_id, "edits"))
        return _parse_items(MessageEdit, response)

    async def message_receipts(self, message_id: str) -> list[MessageReceipt]:
        """``GET /messages/{id}/receipts``: whether and when each other member got and read it."""
        response = await self._call("GET", _path("messages", message_id, "receipts"))
        return _validate(_adapter(list[MessageReceipt]), _json(response), response)

    async def delete_message(self, conversation_id: str, message_id: str) -> None:
        """``DELETE /conversations/{id}/messages/{msg_id}`` (soft delete)."""
        path = _path("conversations", conversation_id, "messages", message_id)
        await self._call("DELETE", path)

    async def pin_message(self, conversation_id: str, message_id: str, pinned: bool = True) -> None:
        """``POST|DELETE /conversations/{id}/messages/{msg_id}/pin``."""
        path = _path("conversations", conversation_id, "messages", message_id, "pin")
        await self._call("POST" if pinned else "DELETE", path)

    async def mark_read(self, conversation_id: str, message_id: str) -> None:
        """``POST /conversations/{id}/read``: everything up to ``message_id`` is read."""
        path = _path("conversations", conversation_id, "read")
        await self._call("POST", path, body=MarkReadRequest(message_id=message_id))

    async def forward(
        self,
        message_ids: list[str],
        target_conversation_ids: list[str],
        client_id: str | None = None,
    ) -> list[Message]:
        """``POST /messages/forward``: one new message per (message, target); with
        ``client_id`` a retry answers the first attempt's copies."""
        body = ForwardRequest(
            message_ids=message_ids,
            target_conversation_ids=target_conversation_ids,
            client_id=client_id,
        )
        response = await self._call("POST", "/messages/forward", body=body)
        return _parse(ForwardResponse, response).messages

    # --- reactions ------------------------------------------------------------------------------

    async def add_reaction(self, message_id: str, emoji: str) -> list[ReactionSummary]:
        """``POST /messages/{id}/reactions``: idempotent; returns the message's summary."""
        path = _path("messages", message_id, "reactions")
        response = await self._call("POST", path, body=ReactionRequest(emoji=emoji))
        return _parse_items(ReactionSummary, response, key="reactions")

    async def remove_reaction(self, message_id: str, emoji: str) -> None:
        """``DELETE /messages/{id}/reactions/{emoji}`` (204; a no-op when absent)."""
        await self._call("DELETE", _path("messages", message_id, "reactions", emoji))

    async def reactions(self, message_id: str) -> list[ReactionSummary]:
        """``GET /messages/{id}/reactions``: ``[{emoji, count, reacted_by_me}]``."""
        response = await self._call("GET", _path("messages", message_id, "reactions"))
        return _parse_items(ReactionSummary, response, key="reactions")

    # --- reports, search, sync --------------------------------------------------------------------

    async def report(self, report: ReportRequest) -> None:
        """``POST /reports``."""
        await self._call("POST", "/reports", body=report)

    async def search_messages(
        self,
        query: str,
        *,
        conversation_id: str | None = None,
        sender_id: str | None = None,
        message_type: str | None = None,
        after: datetime | None = None,
        before: datetime | None = None,
        cursor: str | None = None,
        limit: int | None = None,
    ) -> Page[SearchHit]:
        """``GET /search/messages``: ranked full-text search in the caller's conversations."""
        params: Query = {
            "q": query,
            "conversation_id": conversation_id,
            "sender_id": sender_id,
            "type": message_type,
            "after": after.isoformat() if after else None,
            "before": before.isoformat() if before else None,
            "cursor": cursor,
            "limit": limit,
        }
        response = await self._call("GET", "/search/messages", params=params)
        return _parse_page(SearchHit, response)

    async def sync(self, since: int | None, limit: int | None = None) -> SyncPage:
        """``GET /sync?since=``: events after ``since``; ``SyncExpiredError`` on 410.
        Without ``since``: no events, ``next`` is the newest event id (the log's head)."""
        response = await self._call("GET", "/sync", params={"since": since, "limit": limit})
        return _parse(SyncPage, response)

    async def sync_head(self) -> int:
        """The newest event id of the server's log (where a full resync resumes)."""
        return (await self.sync(None)).next


def _query_value(value: str | int | bool) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _error_from(response: httpx.Response) -> OpenChatError:
    """Build the client exception for an error response (``{code, message, retryAfter}``)."""
    code: str = ErrorCode.INTERNAL
    message = response.reason_phrase or f"HTTP {response.status_code}"
    retry_after: float | None = None
    try:
        body: Any = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        code = str(body.get("code") or code)
        message = str(body.get("message") or body.get("detail") or message)
        if body.get("retryAfter") is not None:
            retry_after = float(body["retryAfter"])
    header = response.headers.get("Retry-After")
    if retry_after is None and header is not None and header.isdigit():
        retry_after = float(header)
    if code == ErrorCode.INTERNAL and response.status_code < 500:
        code = _default_code(response.status_code)
    return error_for(response.status_code, code, message, retry_after)


def _default_code(status: int) -> str:
    return {
        400: ErrorCode.VALIDATION_ERROR,
        401: ErrorCode.UNAUTHORIZED,
        403: ErrorCode.FORBIDDEN,
        404: ErrorCode.NOT_FOUND,
        409: ErrorCode.CONFLICT,
        410: ErrorCode.SYNC_EXPIRED,
        422: ErrorCode.VALIDATION_ERROR,
        429: ErrorCode.RATE_LIMITED,
    }.get(status, ErrorCode.VALIDATION_ERROR)


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError as exc:
        raise ServerUnavailableError(
            f"{response.request.method} {response.request.url.path}: answer is not JSON"
        ) from exc


def _validate(adapter: TypeAdapter[T], data: Any, response: httpx.Response) -> T:
    try:
        return adapter.validate_python(data)
    except ValidationError as exc:
        raise ServerUnavailableError(
            f"{response.request.method} {response.request.url.path}: unexpected answer: {exc}"
        ) from exc


_ADAPTERS: dict[Any, TypeAdapter[Any]] = {}


def _adapter(annotation: Any) -> TypeAdapter[Any]:
    """One ``TypeAdapter`` per answer type (building one costs more than using it)."""
    adapter = _ADAPTERS.get(annotation)
    if adapter is None:
        adapter = _ADAPTERS[annotation] = TypeAdapter(annotation)
    return adapter


def _parse(model: type[T], response: httpx.Response) -> T:
    return _validate(_adapter(model), _json(response), response)


def _parse_page(model: type[T], response: httpx.Response) -> Page[T]:
    return _validate(_adapter(Page[model]), _json(response), response)  # type: ignore[valid-type]


def _parse_items(model: type[T], response: httpx.Response, key: str = "items") -> list[T]:
    """Parse a list answer: a bare JSON array, or an object holding it under ``key``."""
    data = _json(response)
    if isinstance(data, dict) and key in data:
        data = data[key]
    return _validate(_adapter(list[model]), data, response)  # type: ignore[valid-type]
