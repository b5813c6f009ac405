"""Sliding-window rate limits, in memory (one process) or in Redis (shared by every node)."""

import time
from collections import defaultdict, deque
from typing import Protocol

from redis.asyncio import Redis

from protocol.errors import ErrorCode
from server.errors import ApiError


class RateLimiter(Protocol):
    """Counts hits per key in a rolling window."""

    async def hit(self, key: str, limit: int, window: float) -> float | None:
        """Record one hit; return None when allowed, else the seconds until one is allowed."""
        ...


class MemoryRateLimiter:
    """Sliding-window log per key, kept in this process."""

    def __init__(self) -> None:
        self._hits: defaultdict[str, deque[float]] = defaultdict(deque)

    async def hit(self, key: str, limit: int, window: float) -> float | None:
        """Record one hit unless ``limit`` hits already fall inside the last ``window`` seconds."""
        now = time.monotonic()
        hits = self._hits[key]
        while hits and hits[0] <= now - window:
            hits.popleft()
        if len(hits) >= limit:
            return hits[0] + window - now
        hits.append(now)
        return None


_SLIDING_WINDOW = """
local key, now, window, limit, member = KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]),
  tonumber(ARGV[3]), ARGV[4]
redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
if redis.call('ZCARD', key) >= limit then
  local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
  return tostring(tonumber(oldest[2]) + window - now)
end
redis.call('ZADD', key, now, member)
redis.call('PEXPIRE', key, math.ceil(window * 1000))
return false
"""


class RedisRateLimiter:
    """Sliding-window log per key in a Redis sorted set (atomic Lua script), shared by nodes."""

    def __init__(self, redis: Redis, namespace: str = "openchat") -> None:
        self._redis = redis
        self._prefix = f"{namespace}:rl:"
        self._script = redis.register_script(_SLIDING_WINDOW)
        self._counter = 0

    async def hit(self, key: str, limit: int, window: float) -> float | None:
        """Record one hit unless ``limit`` hits already fall inside the last ``window`` seconds."""
        now = time.time()
        self._counter += 1
        member = f"{now:.6f}:{id(self)}:{self._counter}"
        result = await self._script(keys=[self._prefix + key], args=[now, window, limit, member])
        return float(result) if result else None


async def enforce(limiter: RateLimiter, key: str, limit: int, window: float) -> None:
    """Raise RATE_LIMITED (429, ``retryAfter``) when ``key`` is over ``limit`` per ``window``."""
    wait = await limiter.hit(key, limit, window)
    if wait is not None:
        retry_after = max(1, int(wait + 0.999))
        raise ApiError(
            ErrorCode.RATE_LIMITED, f"too many requests; retry in {retry_after} s", retry_after
        )
