"""A request that creates several things (a forward) counts each of them, all or none; a count
can be given back (a send that was not stored)."""

import uuid
from collections.abc import Awaitable, Callable

import pytest

from server.services.ratelimit import Hit, MemoryRateLimiter, RateLimiter, RedisRateLimiter
from tests.support.live_server import REDIS_URL, postgres_available


async def _counts_each_hit_all_or_none(limiter: RateLimiter, key: str) -> None:
    assert await limiter.hit(key, 5, 60, cost=3) is None
    refused = await limiter.hit(key, 5, 60, cost=3)
    assert refused is not None and 0 < refused <= 60, "3 more would make 6 of 5"
    assert await limiter.hit(key, 5, 60, cost=2) is None, "the refused hits were not counted"
    assert await limiter.hit(key, 5, 60) is not None
    assert await limiter.hit(f"{key}:empty", 5, 60, cost=6) is not None, "more than the limit"


async def _refunds_give_counts_back(limiter: RateLimiter, key: str) -> None:
    first, second = await limiter.hit_each([key, key], 2, 60)
    assert isinstance(first, Hit) and isinstance(second, Hit)
    [over] = await limiter.hit_each([key], 2, 60)
    assert isinstance(over, float)
    await limiter.refund([first])
    [again] = await limiter.hit_each([key], 2, 60)
    assert isinstance(again, Hit), "the count given back left the window"
    [over] = await limiter.hit_each([key], 2, 60)
    assert isinstance(over, float), "only that one count went back"
    await limiter.refund([])


LIMITER_CHECKS = [_counts_each_hit_all_or_none, _refunds_give_counts_back]


@pytest.mark.parametrize("check", LIMITER_CHECKS)
async def test_memory_limiter(check: Callable[[RateLimiter, str], Awaitable[None]]) -> None:
    await check(MemoryRateLimiter(), "user")


@pytest.mark.parametrize("check", LIMITER_CHECKS)
async def test_redis_limiter(check: Callable[[RateLimiter, str], Awaitable[None]]) -> None:
    reason = postgres_available()
    if reason:
        pytest.skip(reason)
    from redis.asyncio import Redis

    redis = Redis.from_url(REDIS_URL)
    try:
        await check(RedisRateLimiter(redis), f"test:{uuid.uuid4().hex}")
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
        first, second, third = await limiter.hit_each([key, key, key], 2, 60)
        assert isinstance(first, Hit) and isinstance(second, Hit)
        assert third == pytest.approx(60, abs=1)
        assert await redis.zcard(f"openchat:rl:{key}") == 2, "each hit counted once"

        async def exists_calls() -> int:
            stats = await redis.info("commandstats")
            return int(stats.get("cmdstat_script|exists", {}).get("calls", 0))

        before = await exists_calls()
        waits = await limiter.hit_each([f"{key}:b", f"{key}:b", key], 2, 60)
        assert [isinstance(wait, Hit) for wait in waits] == [True, True, False]
        assert await exists_calls() == before, "no SCRIPT EXISTS round trip"
    finally:
        await redis.aclose()
