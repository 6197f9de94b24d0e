"""One contract for rate-limit stores: per-instance memory and shared Redis (and its fallback)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from authd.core.ratelimit import RateLimitStore
from authd.storage.ratelimit_memory import MemoryRateLimitStore
from authd.storage.redis.client import create_redis
from authd.storage.redis.ratelimit import FallbackRateLimitStore, RedisRateLimitStore


@pytest.fixture(params=["memory", "redis"])
async def store(request: pytest.FixtureRequest) -> AsyncIterator[RateLimitStore]:
    """Each rate-limit store (in memory and Redis): they must keep one contract."""
    if request.param == "memory":
        yield MemoryRateLimitStore()
        return
    redis = create_redis(request.getfixturevalue("redis_url"))
    yield RedisRateLimitStore(redis, request.getfixturevalue("redis_prefix"))
    await redis.aclose()


async def test_counts_events_inside_the_window(store: RateLimitStore) -> None:
    """Events count until they leave the sliding window; the oldest one sets Retry-After."""
    for t in (100.0, 110.0, 120.0):
        await store.add("k", 60, t)
    count, oldest_leaves = await store.count("k", 60, 125.0)
    assert count == 3 and oldest_leaves == pytest.approx(160.0)
    assert (await store.count("k", 60, 165.0))[0] == 2
    assert (await store.count("k", 60, 500.0))[0] == 0
    assert (await store.count("other", 60, 125.0))[0] == 0


async def test_two_redis_stores_share_counts(redis_url: str, redis_prefix: str) -> None:
    """Two instances (two clients) add to one counter."""
    first, second = create_redis(redis_url), create_redis(redis_url)
    try:
        a, b = RedisRateLimitStore(first, redis_prefix), RedisRateLimitStore(second, redis_prefix)
        await a.add("acct", 600, 1.0)
        await b.add("acct", 600, 2.0)
        assert (await a.count("acct", 600, 3.0))[0] == 2
    finally:
        await first.aclose()
        await second.aclose()


async def test_fallback_counts_per_instance_when_redis_is_down() -> None:
    """With Redis unreachable the fallback keeps limiting locally and reports degraded."""
    redis = create_redis("redis://127.0.0.1:1/0")
    try:
        store = FallbackRateLimitStore(RedisRateLimitStore(redis), MemoryRateLimitStore())
        for t in (1.0, 2.0):
            await store.add("acct", 600, t)
        assert store.degraded is True
        assert (await store.count("acct", 600, 3.0))[0] == 2
    finally:
        await redis.aclose()
