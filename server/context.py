"""Everything a request or socket handler needs, built once per server process."""

from dataclasses import dataclass

import socketio
from redis.asyncio import Redis

from server.config import Settings
from server.services.ratelimit import RateLimiter
from server.services.tokens import TokenService
from server.services.unit_of_work import Database


@dataclass
class ServerContext:
    """Settings, database, token service, rate limiter, Redis (optional) and the socket server."""

    settings: Settings
    db: Database
    tokens: TokenService
    limiter: RateLimiter
    redis: Redis | None
    sio: socketio.AsyncServer
