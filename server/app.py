"""The ASGI application: FastAPI (REST under /api/v1) and Socket.IO on the same port."""

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial
from typing import Any

import socketio
from fastapi import APIRouter, FastAPI
from redis.asyncio import BlockingConnectionPool, Redis
from sqlalchemy import text

from protocol.errors import ErrorBody
from protocol.rest import API_PREFIX, HealthResponse
from server.api import (
    auth,
    blocks,
    conversations,
    members,
    messages,
    pins,
    reactions,
    reports,
    search,
    sync,
    users,
)
from server.api import settings as conversation_settings
from server.api.schema import document_errors_as_sent
from server.config import Settings
from server.context import ServerContext
from server.db.migrate import upgrade_to_head
from server.db.session import (
    connect_sqlite_writer,
    create_batch_engine,
    create_engine,
    session_factory,
)
from server.errors import install_error_handlers
from server.realtime.local_delivery import DirectManager
from server.realtime.publisher import SocketPublisher
from server.realtime.redis_manager import BatchingRedisManager
from server.realtime.wire import WirePacket
from server.services.cursors import CursorKeyMiddleware
from server.services.ratelimit import MemoryRateLimiter, RateLimiter, RedisRateLimiter
from server.services.send_queue import SendQueue
from server.services.tokens import TokenService
from server.services.unit_of_work import Database

log = logging.getLogger("openchat.server")


def build_context(settings: Settings) -> ServerContext:
    """Create the database, token service, rate limiter, Redis client and socket server."""
    # A blocking pool: under a burst (500 sockets sending, or disconnecting, at once) callers wait
    # for a free connection instead of failing with MaxConnectionsError (redis-py's default pool
    # holds 100 connections and raises when they are all busy).
    redis = (
        Redis(
            connection_pool=BlockingConnectionPool.from_url(
                settings.redis_url, max_connections=200, timeout=5
            )
        )
        if settings.redis_url
        else None
    )
    manager = (
        BatchingRedisManager(settings.redis_url, channel=f"{settings.redis_namespace}:sio")
        if settings.redis_url
        else DirectManager()
    )
    sio = socketio.AsyncServer(
        async_mode="asgi",
        client_manager=manager,
        serializer=WirePacket,
        cors_allowed_origins=list(settings.cors_origins),
        ping_interval=10,
        ping_timeout=10,
    )
    engine = create_engine(settings.database_url)
    sqlite_writer = (
        partial(connect_sqlite_writer, settings.database_url) if settings.is_sqlite else None
    )
    batch_engine = None if settings.is_sqlite else create_batch_engine(settings.database_url)
    db = Database(
        engine, session_factory(engine), SocketPublisher(sio), sqlite_writer, batch_engine
    )
    limiter: RateLimiter = (
        RedisRateLimiter(redis, settings.redis_namespace) if redis else MemoryRateLimiter()
    )
    tokens = TokenService(
        settings.secret_key, settings.access_token_ttl, settings.refresh_token_ttl
    )
    return ServerContext(
        settings=settings,
        db=db,
        tokens=tokens,
        limiter=limiter,
        redis=redis,
        sio=sio,
        sends=SendQueue(db, limiter, settings.messages_per_minute),
    )


def _api_router() -> APIRouter:
    errors: dict[int | str, dict[str, Any]] = {
        status: {"model": ErrorBody, "description": description}
        for status, description in (
            (400, "Invalid request (VALIDATION_ERROR)"),
            (401, "Missing, invalid or expired token"),
            (400, "Invalid request (VALIDATION_ERROR, NOT_A_GROUP)"),
            (403, "Not allowed (FORBIDDEN, NOT_A_MEMBER, BLOCKED, MUTED, LOCKED, BANNED)"),
            (404, "Not found, or not visible to the caller"),
            (429, "Rate limited (RATE_LIMITED, with retryAfter)"),
        )
    }
    router = APIRouter(prefix=API_PREFIX, responses=errors)
    router.include_router(auth.router)
    router.include_router(blocks.router)
    router.include_router(users.router)
    router.include_router(conversations.router)
    router.include_router(members.router)
    router.include_router(conversation_settings.router)
    router.include_router(messages.router)
    router.include_router(reactions.router)
    router.include_router(pins.router)
    router.include_router(search.router)
    router.include_router(sync.router)
    router.include_router(reports.router)
    return router


def create_fastapi(context: ServerContext, seed_demo: bool = False) -> FastAPI:
    """The REST application (without the socket layer), e.g. for generating the OpenAPI file."""

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await asyncio.to_thread(upgrade_to_head, context.settings.database_url)
        if seed_demo:
            from server.seed import seed_demo as run_seed

            await run_seed(context.db)
        yield
        await context.db.close()
        if context.redis is not None:
            await context.redis.aclose()

    app = FastAPI(
        title="OpenChat",
        version="1.0",
        summary="The OpenChat reference server: REST under /api/v1, Socket.IO on the same port.",
        lifespan=lifespan,
    )
    app.state.context = context
    app.add_middleware(CursorKeyMiddleware, secret_key=context.settings.secret_key)
    install_error_handlers(app)
    app.include_router(_api_router())
    document_errors_as_sent(app)

    @app.get("/healthz", tags=["health"])
    async def healthz() -> HealthResponse:
        """200 while the server can reach its database."""
        async with context.db.read() as session:
            await session.execute(text("SELECT 1"))
        redis_ok = bool(await context.redis.ping()) if context.redis is not None else False
        return HealthResponse(database=context.db.engine.dialect.name, redis=redis_ok)

    return app


def create_app(settings: Settings, seed_demo: bool = False) -> socketio.ASGIApp:
    """The whole server as one ASGI app: Socket.IO at /socket.io, everything else FastAPI."""
    from server.realtime.handlers import register_handlers

    context = build_context(settings)
    api = create_fastapi(context, seed_demo=seed_demo)
    register_handlers(context)
    return socketio.ASGIApp(context.sio, other_asgi_app=api)
