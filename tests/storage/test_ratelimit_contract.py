"""One contract for rate-limit stores: per-instance memory and shared Redis (and its fallback)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from authd.core.ratelimit import RateLimitStore
from authd.storage.ratelimit_memory import MemoryRateLimitStore
from authd.storage.redis.client import create_redis
from authd.storage.redis.ratelimit import FallbackRateLimitStore, RedisRateLimitStore

UNLIMITED = 1_000_000


@pytest.fixture(params=["memory", "redis", "fallback"])
async def store(request: pytest.FixtureRequest) -> AsyncIterator[RateLimitStore]:
    """Each rate-limit store (in memory and Redis): they must keep one contract."""
    if request.param == "memory":
        yield MemoryRateLimitStore()
        return
    redis = create_redis(request.getfixturevalue("redis_url"))
    shared = RedisRateLimitStore(redis, request.getfixturevalue("redis_prefix"))
    yield shared if request.param == "redis" else FallbackRateLimitStore(shared, MemoryRateLimitStore())
    await redis.aclose()


async def test_counts_attempts_inside_the_window(store: RateLimitStore) -> None:
    """Attempts count until they leave the sliding window; the oldest one sets Retry-After."""
    for t in (100.0, 110.0, 120.0):
        await store.reserve("k", UNLIMITED, 60, t)
    now = await store.reserve("k", UNLIMITED, 60, 125.0)
    assert now.count == 4 and now.resets_at == pytest.approx(160.0)
    later = await store.reserve("k", UNLIMITED, 60, 165.0)  # 100.0 has left the window
    assert later.count == 4 and later.resets_at == pytest.approx(170.0)
    assert (await store.reserve("k", UNLIMITED, 60, 500.0)).count == 1
    assert (await store.reserve("other", UNLIMITED, 60, 125.0)).count == 1


async def test_refuses_at_the_limit_without_counting_the_refusal(store: RateLimitStore) -> None:
    """The limit-th attempt is allowed, the next refused and not added: it expires on schedule."""
    answers = [await store.reserve("k", 3, 60, 100.0 + i) for i in range(5)]
    assert [a.allowed for a in answers] == [True, True, True, False, False]
    assert answers[-1].count == 3 and answers[-1].resets_at == pytest.approx(160.0)
    assert (await store.reserve("k", 3, 60, 160.5)).allowed


async def test_concurrent_reservations_never_pass_the_limit(store: RateLimitStore) -> None:
    """200 simultaneous reservations of one key with limit 10: exactly 10 are allowed."""
    answers = await asyncio.gather(*(store.reserve("k", 10, 600, 1.0 + i / 1000)
                                     for i in range(200)))
    assert sum(a.allowed for a in answers) == 10


async def test_limits_above_a_thousand_are_exact(store: RateLimitStore) -> None:
    """Every configured limit works: 1,500 attempts are allowed under a limit of 1,500, not more."""
    answers = [await store.reserve("k", 1500, 600, 1.0 + i / 10_000) for i in range(1501)]
    assert sum(a.allowed for a in answers) == 1500 and not answers[-1].allowed


async def test_release_forgets_exactly_one_attempt(store: RateLimitStore) -> None:
    """Releasing an allowed attempt frees its place and leaves the others counted."""
    kept = [await store.reserve("k", 3, 60, 100.0 + i) for i in range(2)]
    released = await store.reserve("k", 3, 60, 105.0)
    await store.release(released)
    await store.release(await store.reserve("k", 3, 60, 106.0))
    assert (await store.reserve("k", 3, 60, 107.0)).count == 3
    assert not (await store.reserve("k", 3, 60, 108.0)).allowed
    assert all(k.allowed for k in kept)


async def test_two_redis_stores_share_counts(redis_url: str, redis_prefix: str) -> None:
    """Two instances (two clients) count against one limit."""
    first, second = create_redis(redis_url), create_redis(redis_url)
    try:
        a, b = RedisRateLimitStore(first, redis_prefix), RedisRateLimitStore(second, redis_prefix)
        assert (await a.reserve("acct", 2, 600, 1.0)).allowed
        assert (await b.reserve("acct", 2, 600, 2.0)).allowed
        assert not (await a.reserve("acct", 2, 600, 3.0)).allowed
    finally:
        await first.aclose()
        await second.aclose()


async def test_fallback_counts_per_instance_when_redis_is_down() -> None:
    """With Redis unreachable the fallback keeps limiting locally and reports degraded."""
    redis = create_redis("redis://127.0.0.1:1/0")
    try:
        store = FallbackRateLimitStore(RedisRateLimitStore(redis), MemoryRateLimitStore())
        for t in (1.0, 2.0):
            assert (await store.reserve("acct", 2, 600, t)).allowed
        assert store.degraded is True
        assert not (await store.reserve("acct", 2, 600, 3.0)).allowed
    finally:
        await redis.aclose()


async def test_fallback_starts_an_outage_from_the_attempts_redis_counted(
        redis_url: str, redis_prefix: str) -> None:
    """Attempts counted while Redis answered still count on this instance once it does not,
    and a released attempt is released in both."""
    live, down = create_redis(redis_url), create_redis("redis://127.0.0.1:1/0")
    local = MemoryRateLimitStore()
    try:
        shared = FallbackRateLimitStore(RedisRateLimitStore(live, redis_prefix), local)
        await shared.reserve("acct", 3, 600, 1.0)
        await shared.release(await shared.reserve("acct", 3, 600, 2.0))
        await shared.reserve("acct", 3, 600, 3.0)
        outage = FallbackRateLimitStore(RedisRateLimitStore(down), local)
        assert (await outage.reserve("acct", 3, 600, 4.0)).allowed
        assert not (await outage.reserve("acct", 3, 600, 5.0)).allowed
        assert outage.degraded is True
    finally:
        await live.aclose()
        await down.aclose()
