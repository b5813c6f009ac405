"""Sign-up, sign-in, refresh-token rotation (reuse revokes the family) and sign-out."""

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from protocol import rest
from protocol.errors import ErrorCode
from server.db import models
from server.errors import ApiError
from server.services.passwords import hash_password, verify_password
from server.services.tokens import TokenService
from server.services.unit_of_work import Database
from server.services.users import user_record


async def _issue_pair(
    session: AsyncSession, tokens: TokenService, user: models.User, family_id: str | None = None
) -> rest.AuthResponse:
    refresh = tokens.new_refresh_token()
    session.add(
        models.RefreshToken(
            user_id=user.id,
            family_id=family_id or str(uuid.uuid4()),
            token_hash=tokens.hash_refresh_token(refresh),
            expires_at=datetime.now(UTC) + timedelta(seconds=tokens.refresh_ttl),
        )
    )
    return rest.AuthResponse(
        user=user_record(user),
        access_token=tokens.issue_access(user.id),
        refresh_token=refresh,
        expires_in=tokens.access_ttl,
    )


async def register(
    db: Database, tokens: TokenService, body: rest.RegisterRequest
) -> rest.AuthResponse:
    """Create an account; USERNAME_TAKEN (409) when the name is in use."""
    password_hash = await hash_password(body.password)
    try:
        async with db.write() as uow:
            taken = await uow.session.scalar(
                select(models.User.id).where(models.User.username == body.username)
            )
            if taken:
                raise ApiError(ErrorCode.USERNAME_TAKEN, "that username is taken")
            user = models.User(
                username=body.username, display_name=body.display_name, password_hash=password_hash
            )
            uow.session.add(user)
            await uow.session.flush()
            return await _issue_pair(uow.session, tokens, user)
    except IntegrityError as exc:
        raise ApiError(ErrorCode.USERNAME_TAKEN, "that username is taken") from exc


async def login(db: Database, tokens: TokenService, body: rest.LoginRequest) -> rest.AuthResponse:
    """Check the password; INVALID_CREDENTIALS (401) for a wrong name or password alike."""
    async with db.read() as session:
        user = await session.scalar(
            select(models.User).where(models.User.username == body.username)
        )
    if not await verify_password(user.password_hash if user else None, body.password) or not user:
        raise ApiError(ErrorCode.INVALID_CREDENTIALS, "wrong username or password")
    async with db.write() as uow:
        return await _issue_pair(uow.session, tokens, user)


async def refresh(db: Database, tokens: TokenService, refresh_token: str) -> rest.AuthResponse:
    """Rotate a refresh token. A used, revoked or unknown one is refused (401); presenting a
    used one again revokes its whole family, signing out every device that shares it."""
    now = datetime.now(UTC)
    token_hash = tokens.hash_refresh_token(refresh_token)
    reused = False
    async with db.write() as uow:
        row = await uow.session.scalar(
            select(models.RefreshToken).where(models.RefreshToken.token_hash == token_hash)
        )
        if row is None or row.revoked_at is not None or row.expires_at <= now:
            raise ApiError(ErrorCode.INVALID_TOKEN, "refresh token invalid or expired")
        if row.used_at is not None:
            await uow.session.execute(
                update(models.RefreshToken)
                .where(models.RefreshToken.family_id == row.family_id)
                .values(revoked_at=now)
            )
            reused = True
        else:
            row.used_at = now
            user = await uow.session.get(models.User, row.user_id)
            if user is None:
                raise ApiError(ErrorCode.INVALID_TOKEN, "refresh token invalid or expired")
            return await _issue_pair(uow.session, tokens, user, row.family_id)
    assert reused
    raise ApiError(ErrorCode.INVALID_TOKEN, "refresh token reused; every session of it is revoked")


async def logout(db: Database, tokens: TokenService, caller_id: str, refresh_token: str) -> None:
    """Revoke the family of ``refresh_token`` (this device's session) if it is the caller's."""
    token_hash = tokens.hash_refresh_token(refresh_token)
    async with db.write() as uow:
        row = await uow.session.scalar(
            select(models.RefreshToken).where(models.RefreshToken.token_hash == token_hash)
        )
        if row is None or row.user_id != caller_id:
            return
        await uow.session.execute(
            update(models.RefreshToken)
            .where(models.RefreshToken.family_id == row.family_id)
            .values(revoked_at=datetime.now(UTC))
        )
