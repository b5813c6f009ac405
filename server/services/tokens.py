"""Access tokens (short-lived JWTs) and refresh tokens (opaque, stored hashed, rotated)."""

import hashlib
import secrets
import uuid
from datetime import UTC, datetime, timedelta

import jwt

from protocol.errors import ErrorCode
from server.errors import ApiError

_ALGORITHM = "HS256"


class TokenService:
    """Issues and checks tokens with the server's secret key."""

    def __init__(self, secret_key: str, access_ttl: int, refresh_ttl: int) -> None:
        self._secret = secret_key
        self.access_ttl = access_ttl
        self.refresh_ttl = refresh_ttl

    def issue_access(self, user_id: str, now: datetime | None = None) -> str:
        """A signed access JWT for ``user_id`` valid for ``access_ttl`` seconds."""
        issued = now or datetime.now(UTC)
        claims = {
            "sub": user_id,
            "type": "access",
            "iat": issued,
            "exp": issued + timedelta(seconds=self.access_ttl),
            "jti": uuid.uuid4().hex,
        }
        return jwt.encode(claims, self._secret, algorithm=_ALGORITHM)

    def verify_access(self, token: str) -> str:
        """Return the user id of a valid access token; raise INVALID_TOKEN (401) otherwise."""
        try:
            claims = jwt.decode(
                token, self._secret, algorithms=[_ALGORITHM], options={"require": ["exp", "sub"]}
            )
        except jwt.ExpiredSignatureError as exc:
            raise ApiError(ErrorCode.INVALID_TOKEN, "access token expired") from exc
        except jwt.PyJWTError as exc:
            raise ApiError(ErrorCode.INVALID_TOKEN, "access token invalid") from exc
        if claims.get("type") != "access" or not isinstance(claims.get("sub"), str):
            raise ApiError(ErrorCode.INVALID_TOKEN, "access token invalid")
        return str(claims["sub"])

    @staticmethod
    def new_refresh_token() -> str:
        """A fresh opaque refresh token (shown to the client once, stored only as a hash)."""
        return secrets.token_urlsafe(48)

    @staticmethod
    def hash_refresh_token(token: str) -> str:
        """The stored form of a refresh token."""
        return hashlib.sha256(token.encode()).hexdigest()
