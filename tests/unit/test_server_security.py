"""Server building blocks: tokens and rate limits (memory and Redis)."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from protocol.errors import ErrorCode
from server.errors import ApiError
from server.services.ratelimit import Hit, MemoryRateLimiter, RedisRateLimiter, enforce
from server.services.tokens import TokenService
from tests.support.live_server import REDIS_URL, postgres_available

TOKENS = TokenService("k" * 48, access_ttl=60, refresh_ttl=3600)


def test_access_token_round_trip_and_refusals() -> None:
    """A fresh token names its user; expired, forged and garbage tokens are INVALID_TOKEN."""
    assert TOKENS.verify_access(TOKENS.issue_access("user-1")) == "user-1"
    expired = TOKENS.issue_access("user-1", now=datetime.now(UTC) - timedelta(minutes=5))
    forged = TokenService("other-secret" * 4, 60, 60).issue_access("user-1")
    for token in (expired, forged, "not-a-jwt", ""):
        with pytest.raises(ApiError) as refused:
            TOKENS.verify_access(token)
        assert refused.value.code == ErrorCode.INVALID_TOKEN


def test_refresh_tokens_are_random_and_stored_hashed() -> None:
    """Two refresh tokens differ; the stored form is a stable hash, not the token."""
    first, second = TokenService.new_refresh_token(), TokenService.new_refresh_token()
    assert first != second
    assert TokenService.hash_refresh_token(first) == TokenService.hash_refresh_token(first)
    assert first not in TokenService.hash_refresh_token(first)


async def test_memory_rate_limiter_allows_the_limit_then_answers_retry_after() -> None:
    """The limit passes; the next hit is refused with a positive retryAfter."""
    limiter = MemoryRateLimiter()
    for _ in range(3):
        await enforce(limiter, "user", 3, 60)
    with pytest.raises(ApiError) as refused:
        await enforce(limiter, "user", 3, 60)
    assert refused.value.code == ErrorCode.RATE_LIMITED
    assert refused.value.retry_after is not None and 1 <= refused.value.retry_after <= 60
    await enforce(limiter, "someone-else", 3, 60)


async def test_redis_rate_limiter_is_shared_between_instances() -> None:
    """Two limiters on one Redis (two server nodes) count the same key together."""
    reason = postgres_available()
    if reason:
        pytest.skip(reason)
    from redis.asyncio import Redis

    redis = Redis.from_url(REDIS_URL)
    try:
        key = f"test:{uuid.uuid4().hex}"
        first, second = RedisRateLimiter(redis), RedisRateLimiter(redis)
        assert await first.hit(key, 2, 60) is None
        assert await second.hit(key, 2, 60) is None
        wait = await first.hit(key, 2, 60)
        assert wait is not None and 0 < wait <= 60
    finally:
        await redis.aclose()


async def test_hit_each_counts_in_order_on_both_limiters() -> None:
    """A batch's hits in one call: each key counted in the order given (a key may repeat), the
    hits past the limit refused, on the memory limiter and, pipelined, on Redis."""
    memory = MemoryRateLimiter()
    key = f"test:{uuid.uuid4().hex}"
    keys = [key, "other", key, key]
    waits = await memory.hit_each(keys, 2, 60)
    assert [isinstance(wait, Hit) for wait in waits] == [True, True, True, False]
    reason = postgres_available()
    if reason:
        pytest.skip(reason)
    from redis.asyncio import Redis

    redis = Redis.from_url(REDIS_URL)
    try:
        limiter = RedisRateLimiter(redis, f"test{uuid.uuid4().hex}")
        waits = await limiter.hit_each(keys, 2, 60)
        assert [isinstance(wait, Hit) for wait in waits] == [True, True, True, False]
        assert (await limiter.hit_each([], 2, 60)) == []
        refused = waits[3]
        assert isinstance(refused, float) and 0 < refused <= 60
    finally:
        await redis.aclose()
