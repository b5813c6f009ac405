"""Everything a request or socket handler needs, built once per server process."""

from dataclasses import dataclass
from typing import TYPE_CHECKING

import socketio
from redis.asyncio import Redis

from server.config import Settings
from server.services.ratelimit import RateLimiter
from server.services.tokens import TokenService
from server.services.unit_of_work import Database

if TYPE_CHECKING:  # the send queue's services import this module
    from server.services.send_queue import SendQueue


@dataclass
class ServerContext:
    """Settings, database, token service, rate limiter, Redis (optional), the socket server and
    the send queue."""

    settings: Settings
    db: Database
    tokens: TokenService
    limiter: RateLimiter
    redis: Redis | None
    sio: socketio.AsyncServer
    sends: "SendQueue"
