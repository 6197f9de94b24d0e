"""Brute-force rules with an injected clock: limits, Retry-After, sliding windows."""

from __future__ import annotations

import asyncio
import sqlite3
from collections import Counter
from collections.abc import AsyncIterator, Awaitable
from pathlib import Path

import pytest

from authd.clock import FixedClock
from authd.config import RateLimits, Settings
from authd.core import audit
from authd.core.models import ClientInfo
from authd.core.policies import RateLimitPolicy
from authd.core.ratelimit import BruteForceGuard, account_key
from authd.errors import InvalidCredentials, RateLimited
from authd.storage.ratelimit_memory import MemoryRateLimitStore
from authd.wiring import Services, build_services

LIMITS = RateLimitPolicy(account_failures=3, ip_failures=5, window=600, signups_per_ip=2)


def _guard(clock: FixedClock) -> BruteForceGuard:
    return BruteForceGuard(MemoryRateLimitStore(), LIMITS, clock)


async def test_account_is_locked_after_its_failures_with_a_correct_retry_after() -> None:
    """After N failures the account is refused until the oldest failure leaves the window."""
    clock = FixedClock()
    guard = _guard(clock)
    for _ in range(3):
        await guard.reserve_login("a@example.com", "1.1.1.1")  # kept: a failure
        clock.advance(10)
    with pytest.raises(RateLimited) as caught:
        await guard.reserve_login("a@example.com", "2.2.2.2")
    assert caught.value.retry_after == 600 - 30 + 1
    clock.advance(600 - 30)
    await guard.reserve_login("a@example.com", "2.2.2.2")


async def test_unknown_and_known_accounts_count_the_same() -> None:
    """The guard keys on the email as typed (canonical form), existing or not."""
    clock = FixedClock()
    guard = _guard(clock)
    for _ in range(3):
        await guard.reserve_login(" Nobody@Example.com ", "1.1.1.1")
    with pytest.raises(RateLimited):
        await guard.reserve_login("nobody@example.com", "9.9.9.9")


def test_both_unicode_forms_of_an_address_are_one_rate_limit_key() -> None:
    """Precomposed and decomposed é, in any case and with spaces, count against one account."""
    assert account_key("jos\u00e9@example.com") == account_key(" JOSE\u0301@Example.COM ")
    assert account_key("jos\u00e9@example.com") != account_key("jose@example.com")


async def test_ip_limit_spans_accounts() -> None:
    """Failures from one IP against many accounts hit the per-IP limit."""
    clock = FixedClock()
    guard = _guard(clock)
    for i in range(5):
        await guard.reserve_login(f"user{i}@example.com", "6.6.6.6")
    with pytest.raises(RateLimited):
        await guard.reserve_login("fresh@example.com", "6.6.6.6")
    await guard.reserve_login("fresh@example.com", "7.7.7.7")


async def test_an_ip_refusal_does_not_count_against_the_account() -> None:
    """A locked-out IP naming an account does not use up that account's limit."""
    clock = FixedClock()
    guard = _guard(clock)
    for i in range(5):
        await guard.reserve_login(f"user{i}@example.com", "6.6.6.6")
    for _ in range(10):
        with pytest.raises(RateLimited):
            await guard.reserve_login("victim@example.com", "6.6.6.6")
    for _ in range(3):
        await guard.reserve_login("victim@example.com", "7.7.7.7")


async def test_a_successful_attempt_gives_its_count_back_and_only_its_own() -> None:
    """A right password releases its reservation; earlier failures stay counted."""
    clock = FixedClock()
    guard = _guard(clock)
    for _ in range(2):
        await guard.reserve_login("a@example.com", "1.1.1.1")
    for _ in range(10):
        await guard.release_login(await guard.reserve_login("a@example.com", "1.1.1.1"))
    await guard.reserve_login("a@example.com", "1.1.1.1")
    with pytest.raises(RateLimited):
        await guard.reserve_login("a@example.com", "1.1.1.1")


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


async def test_a_limit_above_a_thousand_is_enforced_exactly() -> None:
    """A configured limit of 2,500 allows 2,500 attempts and refuses the next (the store once kept
    only 1,000 events per key, so such a limit never triggered)."""
    clock = FixedClock()
    guard = BruteForceGuard(MemoryRateLimitStore(), RateLimitPolicy(ip_failures=2500, account_failures=2500),
                            clock)
    for i in range(2500):
        await guard.reserve_login(f"user{i}@example.com", "8.8.8.8")
    with pytest.raises(RateLimited):
        await guard.reserve_login("one-more@example.com", "8.8.8.8")


async def test_memory_store_is_bounded() -> None:
    """The per-instance store evicts the oldest keys past its cap."""
    store = MemoryRateLimitStore(max_keys=10)
    for i in range(100):
        await store.reserve(f"k{i}", 5, 600, 0.0)
    assert len(store._events) == 10
    assert (await store.reserve("k0", 5, 600, 1.0)).count == 1
    assert (await store.reserve("k99", 5, 600, 1.0)).count == 2


# -- concurrent attempts over the real use cases: memory and Redis counters --------------------

WHO = ClientInfo(ip="203.0.113.7", user_agent="test")
PASSWORD = "correct horse battery staple 42"
WRONG = "wrong password, surely"


@pytest.fixture(params=["memory", "redis"])
async def services(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Services]:
    """Real services over SQLite, counting in memory or in Redis; limits 10 per account, 15 per IP,
    5 sign-ups and 5 social starts per IP."""
    redis: dict[str, str] = {}
    if request.param == "redis":
        redis = {"redis_url": request.getfixturevalue("redis_url"),
                 "redis_key_prefix": request.getfixturevalue("redis_prefix")}
    limits = RateLimits(account_failures=10, ip_failures=15, signups_per_ip=5,
                        social_logins_per_ip=5)
    svc = await build_services(Settings(data_dir=tmp_path, rate_limits=limits, **redis))
    try:
        yield svc
    finally:
        await svc.close()


async def _burst(attempts: list[Awaitable[object]]) -> Counter[str]:
    """Run the attempts concurrently; count the outcomes by kind."""
    outcomes = await asyncio.gather(*attempts, return_exceptions=True)
    return Counter(type(o).__name__ if isinstance(o, BaseException) else "ok" for o in outcomes)


async def _failed_logins(svc: Services) -> int:
    return len(await svc.store.audit.list_events(user_id=None, event=audit.LOGIN_FAILED,
                                                  limit=1000))


async def test_concurrent_guesses_evaluate_at_most_the_account_limit(services: Services) -> None:
    """60 simultaneous wrong passwords for one account: at most 10 reach the password hash, the
    rest are refused before it, and the right password afterwards is refused too."""
    email = "victim@example.com"
    await services.accounts.sign_up(email, PASSWORD, None, ClientInfo(ip="198.51.100.1"))
    outcomes = await _burst([services.accounts.authenticate(email, WRONG, WHO) for _ in range(60)])
    assert outcomes == Counter(InvalidCredentials=10, RateLimited=50)
    assert await _failed_logins(services) == 10
    with pytest.raises(RateLimited):
        await services.accounts.authenticate(email, PASSWORD, ClientInfo(ip="198.51.100.2"))


async def test_concurrent_guesses_across_accounts_evaluate_at_most_the_ip_limit(
        services: Services) -> None:
    """40 simultaneous guesses from one IP at 40 accounts: at most 15 (the IP limit) are evaluated."""
    outcomes = await _burst([services.accounts.authenticate(f"u{i}@example.com", WRONG, WHO)
                             for i in range(40)])
    assert outcomes == Counter(InvalidCredentials=15, RateLimited=25)
    assert await _failed_logins(services) == 15


async def test_concurrent_wrong_current_passwords_evaluate_at_most_the_account_limit(
        services: Services) -> None:
    """A stolen session cannot race the password-change check: 30 simultaneous wrong current
    passwords, at most 10 evaluated."""
    user = await services.accounts.sign_up("owner@example.com", PASSWORD, None, WHO)
    outcomes = await _burst([services.accounts.change_password(user.id, WRONG, PASSWORD + "!", WHO)
                             for _ in range(30)])
    assert outcomes == Counter(InvalidRequest=10, RateLimited=20)


async def test_concurrent_sign_ups_stop_at_the_ip_limit(services: Services) -> None:
    """20 simultaneous sign-ups from one IP create at most the 5 the limit allows."""
    outcomes = await _burst([services.accounts.sign_up(f"new{i}@example.com", PASSWORD, None, WHO)
                             for i in range(20)])
    assert outcomes == Counter(ok=5, RateLimited=15)


async def test_concurrent_social_starts_stop_at_the_ip_limit(services: Services) -> None:
    """20 simultaneous social-login starts from one IP: 5 pass, each of which stores a pending login."""
    outcomes = await _burst([services.guard.check_social_start("192.0.2.1") for _ in range(20)])
    assert outcomes == Counter(ok=5, RateLimited=15)


async def test_right_passwords_neither_use_up_nor_reset_the_account_limit(services: Services) -> None:
    """The owner's own logins do not lock the account, and they do not wipe an attacker's failures."""
    email = "owner@example.com"
    await services.accounts.sign_up(email, PASSWORD, None, WHO)
    for _ in range(9):
        with pytest.raises(InvalidCredentials):
            await services.accounts.authenticate(email, WRONG, WHO)
    for _ in range(12):
        assert (await services.accounts.authenticate(email, PASSWORD, WHO)).email == email
    with pytest.raises(InvalidCredentials):
        await services.accounts.authenticate(email, WRONG, WHO)
    with pytest.raises(RateLimited):
        await services.accounts.authenticate(email, PASSWORD, WHO)


async def test_a_database_outage_does_not_lock_out_those_who_retried(
        services: Services, tmp_path: Path) -> None:
    """Logins that fail because the user table cannot be read answered no guess: they do not count,
    so once the database is back the owner logs in at once."""
    email = "patient@example.com"
    await services.accounts.sign_up(email, PASSWORD, None, WHO)
    with sqlite3.connect(tmp_path / "authd.db") as db:
        db.execute("ALTER TABLE users RENAME TO users_elsewhere")
    for _ in range(15):  # a user retrying through the outage
        with pytest.raises(Exception) as failed:
            await services.accounts.authenticate(email, PASSWORD, WHO)
        assert not isinstance(failed.value, RateLimited | InvalidCredentials)
    with sqlite3.connect(tmp_path / "authd.db") as db:
        db.execute("ALTER TABLE users_elsewhere RENAME TO users")
    assert (await services.accounts.authenticate(email, PASSWORD, WHO)).email == email


async def test_both_unicode_forms_of_an_email_are_one_account(services: Services) -> None:
    """A user who signed up as 'josé' (precomposed é) logs in typing the decomposed form, and the
    failures of both forms count against the same account."""
    composed, decomposed = "jos\u00e9@example.com", "jose\u0301@example.com"
    user = await services.accounts.sign_up(composed, PASSWORD, None, WHO)
    assert (await services.accounts.authenticate(decomposed.upper(), PASSWORD, WHO)).id == user.id
    for i in range(10):
        with pytest.raises(InvalidCredentials):
            await services.accounts.authenticate(decomposed if i % 2 else composed, WRONG, WHO)
    with pytest.raises(RateLimited):
        await services.accounts.authenticate(decomposed, PASSWORD, WHO)
