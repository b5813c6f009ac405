"""FastAPI dependencies: the server context and the authenticated caller."""

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from protocol.errors import ErrorCode
from server.api import addresses
from server.context import ServerContext
from server.errors import ApiError

_bearer = HTTPBearer(auto_error=False)


def get_context(request: Request) -> ServerContext:
    """The server context stored on the app at start-up."""
    context: ServerContext = request.app.state.context
    return context


Context = Annotated[ServerContext, Depends(get_context)]


def get_caller_id(
    context: Context,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> str:
    """The id of the user whose valid access token came in ``Authorization: Bearer``."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise ApiError(ErrorCode.UNAUTHORIZED, "missing access token")
    return context.tokens.verify_access(credentials.credentials)


CallerId = Annotated[str, Depends(get_caller_id)]


def client_address(request: Request) -> str:
    """The caller's address, for per-address rate limits (``X-Forwarded-For`` counts only from
    a trusted proxy)."""
    peer = request.client.host if request.client else "unknown"
    proxies = get_context(request).settings.trusted_proxies
    return addresses.client_address(peer, request.headers.get("x-forwarded-for"), proxies)
