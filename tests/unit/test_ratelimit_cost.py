"""A request that creates several things (a forward) counts each of them, all or none."""

import uuid

import pytest

from server.services.ratelimit import MemoryRateLimiter, RateLimiter, RedisRateLimiter
from tests.support.live_server import REDIS_URL, postgres_available


async def _counts_each_hit_all_or_none(limiter: RateLimiter, key: str) -> None:
    assert await limiter.hit(key, 5, 60, cost=3) is None
    refused = await limiter.hit(key, 5, 60, cost=3)
    assert refused is not None and 0 < refused <= 60, "3 more would make 6 of 5"
    assert await limiter.hit(key, 5, 60, cost=2) is None, "the refused hits were not counted"
    assert await limiter.hit(key, 5, 60) is not None
    assert await limiter.hit(f"{key}:empty", 5, 60, cost=6) is not None, "more than the limit"


async def test_memory_limiter_counts_each_hit_all_or_none() -> None:
    await _counts_each_hit_all_or_none(MemoryRateLimiter(), "user")


async def test_redis_limiter_counts_each_hit_all_or_none() -> None:
    reason = postgres_available()
    if reason:
        pytest.skip(reason)
    from redis.asyncio import Redis

    redis = Redis.from_url(REDIS_URL)
    try:
        await _counts_each_hit_all_or_none(RedisRateLimiter(redis), f"test:{uuid.uuid4().hex}")
    finally:
        await redis.aclose()


async def test_redis_batch_of_hits_is_one_round_trip_and_survives_a_script_flush() -> None:
    reason = postgres_available()
    if reason:
        pytest.skip(reason)
    from redis.asyncio import Redis

    redis = Redis.from_url(REDIS_URL)
    key = f"test:{uuid.uuid4().hex}"
    try:
        limiter = RedisRateLimiter(redis)
        await redis.script_flush()  # a restarted Redis: the script is unknown
        assert await limiter.hit_each([key, key, key], 2, 60) == [
            None,
            None,
            pytest.approx(60, abs=1),
        ]
        assert await redis.zcard(f"openchat:rl:{key}") == 2, "each hit counted once"

        async def exists_calls() -> int:
            stats = await redis.info("commandstats")
            return int(stats.get("cmdstat_script|exists", {}).get("calls", 0))

        before = await exists_calls()
        waits = await limiter.hit_each([f"{key}:b", f"{key}:b", key], 2, 60)
        assert waits[:2] == [None, None] and waits[2] is not None
        assert await exists_calls() == before, "no SCRIPT EXISTS round trip"
    finally:
        await redis.aclose()
