"""The per-instance cookie-session cache over real Redis: two instances A and B in one process.

Each instance is a full ``build_services`` (SQLite users shared through one data
directory, one Redis, one key prefix) with its pub/sub subscriber running, as in
production. The clock is fixed, so only pub/sub (or a deliberate clock move) can
make an instance see a change; attacks are written as an attacker would try them.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from redis.asyncio import Redis

from authd.clock import FixedClock
from authd.config import Settings
from authd.core.ids import digest
from authd.core.models import ClientInfo, User
from authd.core.session_cache import CACHE_TTL
from authd.core.sessions import StartedSession
from authd.errors import Unauthenticated
from authd.storage.redis.sessions import RedisCookieSessions
from authd.wiring import Services, build_services

PASSWORD = "correct horse battery staple 42"
IDLE, ABSOLUTE = 90, 120
WHO = ClientInfo(ip="203.0.113.9", user_agent="test")


@dataclass
class Pair:
    a: Services
    b: Services
    clock: FixedClock
    redis: Redis  # a plain client of the test's own, to act behind the instances' backs
    prefix: str


@pytest.fixture
async def pair(tmp_path: Path, redis_url: str, redis_prefix: str) -> AsyncIterator[Pair]:
    """Two authd instances sharing one Redis, each with its session cache, on one moved clock."""
    clock = FixedClock(float(int(time.time())))  # whole seconds, as the Redis record keeps them
    settings = Settings(data_dir=tmp_path, redis_url=redis_url, redis_key_prefix=redis_prefix,
                        revocation_poll_interval=10, session_idle_timeout=IDLE,
                        session_absolute_lifetime=ABSOLUTE)
    a = await build_services(settings, clock)
    b = await build_services(settings, clock, run_migrations=False)
    raw = Redis.from_url(redis_url)
    try:
        for svc in (a, b):
            await svc.start_background()
        await _until(lambda: _fanout_up(a) and _fanout_up(b))
        yield Pair(a, b, clock, raw, redis_prefix)
    finally:
        await raw.aclose()
        await b.close()
        await a.close()


def _fanout_up(svc: Services) -> bool:
    assert svc.fanout is not None
    return svc.fanout.connected


async def _until(condition: Callable[[], bool], limit: float = 3.0) -> float:
    start = time.monotonic()
    while not condition():
        if time.monotonic() - start > limit:
            raise AssertionError("condition not reached")
        await asyncio.sleep(0.005)
    return time.monotonic() - start


async def _login(svc: Services) -> tuple[User, StartedSession]:
    user = await svc.accounts.sign_up(f"{secrets.token_hex(6)}@example.com", PASSWORD, None, WHO)
    return user, await svc.cookie_sessions.start(user, WHO, amr=["pwd"])


async def _accepted(svc: Services, cookie: str) -> bool:
    try:
        await svc.cookie_sessions.authenticate(cookie)
    except Unauthenticated:
        return False
    return True


async def _seconds_until_refused(svc: Services, cookie: str, limit: float = 3.0) -> float:
    start = time.monotonic()
    while await _accepted(svc, cookie):
        if time.monotonic() - start > limit:
            return float("inf")
        await asyncio.sleep(0.005)
    return time.monotonic() - start


async def _delete_behind_the_back(pair: Pair, session_id: str) -> None:
    """Remove the record with no pub/sub message: what a lost message looks like to B."""
    assert await pair.redis.delete(f"{pair.prefix}s:{session_id}") == 1


async def test_a_hit_needs_no_redis_and_lasts_at_most_the_ttl(pair: Pair) -> None:
    """A repeat request is served from memory; even with its invalidation lost, an ended
    session is refused once the entry's 1 s (the revocation promise) has passed."""
    _, started = await _login(pair.a)
    assert await _accepted(pair.b, started.cookie_value)
    await _delete_behind_the_back(pair, started.session.id)
    assert await _accepted(pair.b, started.cookie_value)  # from the cache
    pair.clock.advance(CACHE_TTL)
    assert not await _accepted(pair.b, started.cookie_value)


async def test_logout_on_a_is_refused_on_b_at_once(pair: Pair) -> None:
    """Attack: replay a logged-out cookie against the instance that has it cached."""
    _, started = await _login(pair.a)
    for _ in range(3):
        assert await _accepted(pair.b, started.cookie_value)
    await pair.a.cookie_sessions.end(started.session, WHO)
    assert not await _accepted(pair.a, started.cookie_value)  # the ending instance: at once
    assert await _seconds_until_refused(pair.b, started.cookie_value) < 1.0


async def test_revoke_all_and_password_change_reach_cached_sessions(pair: Pair) -> None:
    """Logout everywhere (as a password change does) ends sessions cached on the other
    instance, and spares the one that asked."""
    user, phone = await _login(pair.a)
    laptop = await pair.a.cookie_sessions.start(user, WHO, amr=["pwd"])
    for cookie in (phone.cookie_value, laptop.cookie_value):
        assert await _accepted(pair.b, cookie)
    await pair.a.directory.revoke_all(user.id, WHO, except_id=laptop.session.id)
    assert await _seconds_until_refused(pair.b, phone.cookie_value) < 1.0
    assert await _accepted(pair.b, laptop.cookie_value)


async def test_subscription_down_means_no_cache(pair: Pair) -> None:
    """Attack: cut B's pub/sub so that it misses the logout; B must ask Redis, not its cache."""
    _, started = await _login(pair.a)
    assert await _accepted(pair.b, started.cookie_value)
    assert pair.b.fanout is not None
    pair.b.fanout.connected = False  # what the subscriber sets the moment its connection drops
    await _delete_behind_the_back(pair, started.session.id)
    assert not await _accepted(pair.b, started.cookie_value)


async def test_killed_subscription_drops_the_cache_on_reconnect(pair: Pair) -> None:
    """Attack: kill B's subscriber connection in Redis, end the session while nobody hears;
    once B has noticed, whether still down or already back, the ended session is refused.

    (Before B notices a dead connection, what it has cached lives out its 1 s, as in
    ``test_a_hit_needs_no_redis_and_lasts_at_most_the_ttl``.)"""
    _, started = await _login(pair.a)
    assert await _accepted(pair.b, started.cookie_value)
    assert pair.b.fanout is not None
    killed = 0
    for client in await pair.redis.client_list(_type="pubsub"):
        if int(client.get("sub", 0)) > 0:
            killed += await pair.redis.client_kill_filter(_id=client["id"])
    assert killed >= 2  # A's and B's subscribers (other tests' may be among them)
    await _until(lambda: not _fanout_up(pair.b))
    await _delete_behind_the_back(pair, started.session.id)  # a message sent now is lost anyway
    assert not await _accepted(pair.b, started.cookie_value)
    await _until(lambda: _fanout_up(pair.b))
    assert not await _accepted(pair.b, started.cookie_value)


async def test_idle_deadline_holds_for_a_cached_session(pair: Pair) -> None:
    """A session left idle past its deadline is refused though B once cached it."""
    _, started = await _login(pair.a)
    assert await _accepted(pair.b, started.cookie_value)
    pair.clock.set(started.session.idle_expires_at)
    assert not await _accepted(pair.b, started.cookie_value)


async def test_absolute_deadline_holds_on_a_cache_hit(pair: Pair) -> None:
    """A session cached half a second before its absolute end is refused at the end itself."""
    _, started = await _login(pair.a)
    t0 = started.session.created_at
    pair.clock.set(t0 + 61)
    assert await _accepted(pair.b, started.cookie_value)  # touched: idle deadline = the end
    pair.clock.set(t0 + 100)
    assert await _accepted(pair.b, started.cookie_value)  # touched again (every IDLE / 4)
    pair.clock.set(t0 + ABSOLUTE - 0.5)
    assert await _accepted(pair.b, started.cookie_value)  # read and cached, no touch due
    pair.clock.set(t0 + ABSOLUTE - 0.25)
    cache = pair.b.session_cache
    assert cache is not None
    assert cache.get(started.session.id, started.session.token_hash, pair.clock.now())
    pair.clock.set(t0 + ABSOLUTE)
    assert not await _accepted(pair.b, started.cookie_value)


async def test_a_read_racing_an_invalidation_is_not_cached(pair: Pair) -> None:
    """A lookup that started before a session ended cannot leave the old record cached."""
    _, started = await _login(pair.a)
    cache = pair.b.session_cache
    assert cache is not None
    generation = cache.generation
    assert pair.b.redis is not None
    store = RedisCookieSessions(pair.b.redis, pair.prefix)
    session = await store.get_session_by_hash(digest(started.cookie_value))
    assert session is not None
    await pair.a.cookie_sessions.end(started.session, WHO)
    await _until(lambda: cache.generation != generation)  # B heard it
    user = await pair.b.store.users.get_user(session.user_id)
    assert user is not None
    cache.put(session, user, pair.clock.now(), generation)
    assert cache.get(session.id, session.token_hash, pair.clock.now()) is None
