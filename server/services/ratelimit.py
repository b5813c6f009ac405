"""Sliding-window rate limits, in memory (one process) or in Redis (shared by every node)."""

import itertools
import time
from collections import defaultdict, deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from redis.asyncio import Redis
from redis.exceptions import NoScriptError

from protocol.errors import ErrorCode
from server.errors import ApiError


@dataclass(frozen=True)
class Hit:
    """One counted hit, which ``RateLimiter.refund`` can take back."""

    key: str
    member: str
    """Which entry of the key's window it is."""


class RateLimiter(Protocol):
    """Counts hits per key in a rolling window."""

    async def hit(self, key: str, limit: int, window: float, cost: int = 1) -> float | None:
        """Record ``cost`` hits at once (all or none); return None when allowed, else the seconds
        until the oldest hit leaves the window."""
        ...

    async def hit_each(self, keys: Sequence[str], limit: int, window: float) -> list[Hit | float]:
        """``hit`` for each of ``keys`` in order (a key may repeat), in one round trip: the
        counted ``Hit``, or the seconds to wait when it was refused (and not counted)."""
        ...

    async def refund(self, hits: Sequence[Hit]) -> None:
        """Take ``hits`` back out of their windows (one round trip)."""
        ...


class MemoryRateLimiter:
    """Sliding-window log per key, kept in this process."""

    def __init__(self) -> None:
        self._hits: defaultdict[str, deque[tuple[float, str]]] = defaultdict(deque)
        self._serials = itertools.count()

    async def hit(self, key: str, limit: int, window: float, cost: int = 1) -> float | None:
        """Record ``cost`` hits unless that would put more than ``limit`` inside the last
        ``window`` seconds."""
        counted = self._count(key, limit, window, cost)
        return counted if isinstance(counted, float) else None

    def _count(self, key: str, limit: int, window: float, cost: int) -> Hit | float:
        now = time.monotonic()
        hits = self._hits[key]
        while hits and hits[0][0] <= now - window:
            hits.popleft()
        if len(hits) + cost > limit:
            return hits[0][0] + window - now if hits else float(window)
        member = str(next(self._serials))
        hits.extend([(now, member)] * cost)
        return Hit(key, member)

    async def hit_each(self, keys: Sequence[str], limit: int, window: float) -> list[Hit | float]:
        """``hit`` for each of ``keys`` in order."""
        return [self._count(key, limit, window, 1) for key in keys]

    async def refund(self, hits: Sequence[Hit]) -> None:
        """Take ``hits`` back."""
        for hit in hits:
            window = self._hits[hit.key]
            for entry in [entry for entry in window if entry[1] == hit.member]:
                window.remove(entry)


_SLIDING_WINDOW = """
local key, now, window, limit, member, cost = KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]),
  tonumber(ARGV[3]), ARGV[4], tonumber(ARGV[5])
redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
if redis.call('ZCARD', key) + cost > limit then
  local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
  if oldest[2] == nil then return tostring(window) end
  return tostring(tonumber(oldest[2]) + window - now)
end
for i = 1, cost do
  redis.call('ZADD', key, now, member .. ':' .. i)
end
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

    async def hit(self, key: str, limit: int, window: float, cost: int = 1) -> float | None:
        """Record ``cost`` hits unless that would put more than ``limit`` inside the last
        ``window`` seconds."""
        arguments = self._arguments(limit, window, cost)
        result = await self._script(keys=[self._prefix + key], args=arguments)
        return float(result) if result else None

    def _arguments(self, limit: int, window: float, cost: int) -> list[str | int | float]:
        """The script's arguments for one hit: now, window, limit, a unique member, cost."""
        now = time.time()
        self._counter += 1
        return [now, window, limit, f"{now:.6f}:{id(self)}:{self._counter}", cost]

    async def hit_each(self, keys: Sequence[str], limit: int, window: float) -> list[Hit | float]:
        """``hit`` for each of ``keys`` in order, pipelined: one round trip. (A pipeline of
        redis-py ``Script`` calls first asks ``SCRIPT EXISTS``, a second round trip on every send
        batch; here the script is called by its hash and loaded only when Redis lacks it, after
        which the calls it refused, and only those, run again.)"""
        calls = [(key, self._arguments(limit, window, 1)) for key in keys]
        results = await self._pipelined(calls)
        missing = [
            index for index, result in enumerate(results) if isinstance(result, NoScriptError)
        ]
        if missing:
            await self._redis.script_load(_SLIDING_WINDOW)
            again = await self._pipelined([calls[index] for index in missing])
            for index, result in zip(missing, again, strict=True):
                results[index] = result
        counted: list[Hit | float] = []
        for (key, arguments), result in zip(calls, results, strict=True):
            if isinstance(result, Exception):
                raise result
            counted.append(float(result) if result else Hit(key, f"{arguments[3]}:1"))
        return counted

    async def refund(self, hits: Sequence[Hit]) -> None:
        """Take ``hits`` back (one pipelined ``ZREM`` each)."""
        if not hits:
            return
        pipeline = self._redis.pipeline(transaction=False)
        for hit in hits:
            pipeline.zrem(self._prefix + hit.key, hit.member)
        await pipeline.execute()

    async def _pipelined(self, calls: Sequence[tuple[str, list[str | int | float]]]) -> list[Any]:
        """One ``EVALSHA`` of the script per (key, arguments) in one pipeline; errors are
        returned, not raised."""
        if not calls:
            return []
        pipeline = self._redis.pipeline(transaction=False)
        for key, arguments in calls:
            pipeline.evalsha(self._script.sha, 1, self._prefix + key, *arguments)
        return list(await pipeline.execute(raise_on_error=False))


async def enforce(limiter: RateLimiter, key: str, limit: int, window: float, cost: int = 1) -> None:
    """Count ``cost`` hits on ``key``, or raise RATE_LIMITED (429, ``retryAfter``) when they
    would put it over ``limit`` per ``window`` (then none is counted)."""
    wait = await limiter.hit(key, limit, window, cost)
    if wait is not None:
        raise rate_limited(wait)


def rate_limited(wait: float) -> ApiError:
    """429 RATE_LIMITED with ``retryAfter``: whole seconds, at least 1, until ``wait`` ends."""
    retry_after = max(1, int(wait + 0.999))
    return ApiError(
        ErrorCode.RATE_LIMITED, f"too many requests; retry in {retry_after} s", retry_after
    )
