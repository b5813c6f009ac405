"""The server's one error type and the handlers that turn every failure into ``{code, message}``."""

import logging
from datetime import datetime

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from protocol.errors import HTTP_STATUS, ErrorBody, ErrorCode

log = logging.getLogger("openchat.server")


class ApiError(Exception):
    """A refusal with a protocol error code; REST answers it with the code's status, sockets
    answer it through the ack."""

    def __init__(
        self,
        code: ErrorCode,
        message: str,
        retry_after: int | None = None,
        until: datetime | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.retry_after = retry_after
        self.until = until

    @property
    def status(self) -> int:
        """The HTTP status for this error."""
        return HTTP_STATUS[self.code]

    def body(self) -> dict[str, object]:
        """The JSON body: ``{"code", "message"}`` plus ``retryAfter`` when rate limited and
        ``until`` when muted."""
        return ErrorBody(
            code=self.code, message=self.message, retry_after=self.retry_after, until=self.until
        ).model_dump(by_alias=True, exclude_none=True, mode="json")


def not_found(what: str) -> ApiError:
    """A 404 for ``what`` (also used where revealing existence would leak information)."""
    return ApiError(ErrorCode.NOT_FOUND, f"{what} not found")


def describe_validation_error(error: ValidationError | RequestValidationError) -> str:
    """A short human sentence for the first problems of a validation error (never the input)."""
    parts = []
    for item in error.errors()[:3]:
        location = ".".join(str(p) for p in item.get("loc", ()) if p not in ("body", "query"))
        message = str(item.get("msg", "invalid value")).removeprefix("Value error, ")
        parts.append(f"{location}: {message}" if location else message)
    return "; ".join(parts) or "invalid request"


_STATUS_CODES = {
    400: ErrorCode.VALIDATION_ERROR,
    401: ErrorCode.UNAUTHORIZED,
    403: ErrorCode.FORBIDDEN,
    404: ErrorCode.NOT_FOUND,
    405: ErrorCode.VALIDATION_ERROR,
    409: ErrorCode.CONFLICT,
    413: ErrorCode.PAYLOAD_TOO_LARGE,
    415: ErrorCode.UNSUPPORTED_MEDIA_TYPE,
    429: ErrorCode.RATE_LIMITED,
}


def install_error_handlers(app: FastAPI) -> None:
    """Answer every error as ``{"code", "message"}`` with the right status; never leak a trace."""

    @app.exception_handler(ApiError)
    async def _api_error(_request: Request, exc: ApiError) -> JSONResponse:
        headers = {"Retry-After": str(exc.retry_after)} if exc.retry_after is not None else None
        return JSONResponse(exc.body(), status_code=exc.status, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(_request: Request, exc: RequestValidationError) -> JSONResponse:
        error = ApiError(ErrorCode.VALIDATION_ERROR, describe_validation_error(exc))
        return JSONResponse(error.body(), status_code=400)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _STATUS_CODES.get(exc.status_code, ErrorCode.INTERNAL)
        message = exc.detail if isinstance(exc.detail, str) else "request failed"
        if exc.status_code == 404 and message == "Not Found":
            message = "no such endpoint"
        return JSONResponse(
            ApiError(code, message).body(), status_code=exc.status_code, headers=exc.headers
        )

    @app.exception_handler(Exception)
    async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error: %s", type(exc).__name__)
        error = ApiError(ErrorCode.INTERNAL, "the server failed to handle this request")
        return JSONResponse(error.body(), status_code=500)
