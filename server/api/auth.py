"""``/auth``: register, login, refresh, logout. Register and login are limited to 10 attempts
per 15 min per address (refreshing and logging out are not attempts to guess a password)."""

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response, status

from protocol import rest
from server.api.deps import CallerId, Context, client_address
from server.services import auth
from server.services.ratelimit import enforce

router = APIRouter(prefix="/auth", tags=["auth"])


async def limit_auth_attempts(request: Request, context: Context) -> None:
    """RATE_LIMITED (429) past the auth attempts allowed per address per window."""
    settings = context.settings
    await enforce(
        context.limiter,
        f"auth:{client_address(request)}",
        settings.auth_attempts_per_window,
        settings.auth_window_seconds,
    )


AuthAttempt = Annotated[None, Depends(limit_auth_attempts)]


@router.post("/register", status_code=status.HTTP_201_CREATED)
async def register(
    body: rest.RegisterRequest, context: Context, _limit: AuthAttempt
) -> rest.AuthResponse:
    """Create an account and sign it in."""
    return await auth.register(context.db, context.tokens, body)


@router.post("/login")
async def login(
    body: rest.LoginRequest, context: Context, _limit: AuthAttempt
) -> rest.AuthResponse:
    """Sign in with username and password."""
    return await auth.login(context.db, context.tokens, body)


@router.post("/refresh")
async def refresh(body: rest.RefreshRequest, context: Context) -> rest.AuthResponse:
    """Trade a refresh token for a new pair; the old one stops working."""
    return await auth.refresh(context.db, context.tokens, body.refresh_token)


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
async def logout(body: rest.RefreshRequest, context: Context, caller_id: CallerId) -> Response:
    """Sign this device out: its refresh token family is revoked."""
    await auth.logout(context.db, context.tokens, caller_id, body.refresh_token)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
