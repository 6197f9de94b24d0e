"""Brute-force rules with an injected clock: limits, Retry-After, sliding windows."""

from __future__ import annotations

import pytest

from authd.clock import FixedClock
from authd.config import RateLimits
from authd.core.ratelimit import BruteForceGuard, account_key
from authd.errors import RateLimited
from authd.storage.ratelimit_memory import MemoryRateLimitStore

LIMITS = RateLimits(account_failures=3, ip_failures=5, window=600, signups_per_ip=2)


def _guard(clock: FixedClock) -> BruteForceGuard:
    return BruteForceGuard(MemoryRateLimitStore(), LIMITS, clock)


async def test_account_is_locked_after_its_failures_with_a_correct_retry_after() -> None:
    """After N failures the account is refused until the oldest failure leaves the window."""
    clock = FixedClock()
    guard = _guard(clock)
    for _ in range(3):
        await guard.check_login("a@example.com", "1.1.1.1")
        await guard.record_failure("a@example.com", "1.1.1.1")
        clock.advance(10)
    with pytest.raises(RateLimited) as caught:
        await guard.check_login("a@example.com", "2.2.2.2")
    assert caught.value.retry_after == 600 - 30 + 1
    clock.advance(600 - 30)
    await guard.check_login("a@example.com", "2.2.2.2")


async def test_unknown_and_known_accounts_count_the_same() -> None:
    """The guard keys on the email as typed (normalised), existing or not."""
    clock = FixedClock()
    guard = _guard(clock)
    for _ in range(3):
        await guard.record_failure(" Nobody@Example.com ", "1.1.1.1")
    with pytest.raises(RateLimited):
        await guard.check_login("nobody@example.com", "9.9.9.9")


def test_both_unicode_forms_of_an_address_are_one_rate_limit_key() -> None:
    """Precomposed and decomposed é, in any case and with spaces, count against one account."""
    assert account_key("jos\u00e9@example.com") == account_key(" JOSE\u0301@Example.COM ")
    assert account_key("jos\u00e9@example.com") != account_key("jose@example.com")


async def test_ip_limit_spans_accounts() -> None:
    """Failures from one IP against many accounts hit the per-IP limit."""
    clock = FixedClock()
    guard = _guard(clock)
    for i in range(5):
        await guard.record_failure(f"user{i}@example.com", "6.6.6.6")
    with pytest.raises(RateLimited):
        await guard.check_login("fresh@example.com", "6.6.6.6")
    await guard.check_login("fresh@example.com", "7.7.7.7")


async def test_signups_are_limited_per_ip() -> None:
    """Every sign-up attempt counts against the per-IP sign-up limit."""
    clock = FixedClock()
    guard = _guard(clock)
    await guard.check_signup("5.5.5.5")
    await guard.check_signup("5.5.5.5")
    with pytest.raises(RateLimited):
        await guard.check_signup("5.5.5.5")
    clock.advance(601)
    await guard.check_signup("5.5.5.5")


async def test_memory_store_is_bounded() -> None:
    """The per-instance store evicts the oldest keys past its cap."""
    store = MemoryRateLimitStore(max_keys=10)
    for i in range(100):
        await store.add(f"k{i}", 600, 0.0)
    assert len(store._events) == 10
    assert (await store.count("k0", 600, 1.0))[0] == 0
    assert (await store.count("k99", 600, 1.0))[0] == 1
