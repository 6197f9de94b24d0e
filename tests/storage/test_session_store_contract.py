"""One contract for every cookie-session store: SQL on SQLite and PostgreSQL, and Redis."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator

import pytest

from authd.core.ids import digest, new_id
from authd.core.models import CookieSession, User
from authd.core.ports import CookieSessionStore
from authd.core.sessions import session_id_for
from authd.errors import ServiceUnavailable
from authd.storage.redis.client import create_redis
from authd.storage.redis.sessions import RedisCookieSessions
from authd.storage.sql import SqlStore, migrate, open_database

NOW = 1_700_000_000.0


def _session(user_id: str, created: float = NOW, idle: float = 1800,
             absolute: float = 86400) -> tuple[str, CookieSession]:
    cookie = secrets.token_urlsafe(32)
    return cookie, CookieSession(id=session_id_for(digest(cookie)), token_hash=digest(cookie),
                                 user_id=user_id,
                                 created_at=created,
                                 last_used_at=created, idle_expires_at=created + idle,
                                 absolute_expires_at=created + absolute,
                                 user_agent="Mozilla/5.0 " + "x" * 300, ip="203.0.113.7")


async def _sql_store(url: str) -> tuple[CookieSessionStore, list[str], object]:

    engine = open_database(url)
    await migrate(engine)
    store = SqlStore.over(engine)
    users = []
    for _ in range(2):  # sessions reference users in SQL
        user = User(id=new_id(), email=f"{new_id()}@example.com", email_verified=False, name=None,
                    password_hash=None, disabled=False, created_at=NOW)
        await store.users.create_user(user)
        users.append(user.id)
    return store.sessions, users, engine


@pytest.fixture(params=["sqlite", "postgres", "redis"])
async def store(request: pytest.FixtureRequest,
                tmp_path) -> AsyncIterator[tuple[CookieSessionStore, list[str]]]:
    """Each cookie-session store (SQLite, PostgreSQL, Redis): they must keep one contract."""
    if request.param == "redis":
        url = request.getfixturevalue("redis_url")
        redis = create_redis(url)
        yield RedisCookieSessions(redis, request.getfixturevalue("redis_prefix")), [new_id(), new_id()]
        await redis.aclose()
        return
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path}/sessions.db"
    else:
        url = request.getfixturevalue("fresh_pg_url").replace("postgresql://", "postgresql+asyncpg://")
    sessions, users, engine = await _sql_store(url)
    yield sessions, users
    await engine.dispose()  # type: ignore[attr-defined]


async def test_create_and_find_by_hash(store) -> None:
    """A stored session is found by its cookie's digest, and only by it."""
    sessions, (alice, _) = store
    cookie, session = _session(alice)
    await sessions.create_session(session)
    found = await sessions.get_session_by_hash(digest(cookie))
    assert found is not None and found.id == session.id and found.user_id == alice
    assert found.token_hash == session.token_hash
    assert found.absolute_expires_at == pytest.approx(session.absolute_expires_at, abs=1)
    assert await sessions.get_session_by_hash(digest("unknown")) is None


async def test_touch_moves_last_used_and_idle_deadline(store) -> None:
    """touch_session records use and slides the idle deadline."""
    sessions, (alice, _) = store
    cookie, session = _session(alice)
    await sessions.create_session(session)
    await sessions.touch_session(session.id, NOW + 100, NOW + 1900)
    found = await sessions.get_session_by_hash(digest(cookie))
    assert found is not None
    assert found.last_used_at == pytest.approx(NOW + 100, abs=1)
    assert found.idle_expires_at == pytest.approx(NOW + 1900, abs=1)


async def test_delete_by_id(store) -> None:
    """Deleting by the public id removes the session; a second delete reports nothing removed."""
    sessions, (alice, _) = store
    cookie, session = _session(alice)
    await sessions.create_session(session)
    assert await sessions.delete_session(session.id) is True
    assert await sessions.get_session_by_hash(digest(cookie)) is None
    assert await sessions.delete_session(session.id) is False
    assert await sessions.list_sessions(alice, NOW) == []


async def test_list_is_per_user_and_skips_expired(store) -> None:
    """A user's list holds their live sessions only."""
    sessions, (alice, bob) = store
    live = [_session(alice)[1] for _ in range(3)]
    short = _session(alice, idle=10)[1]
    for s in [*live, short, _session(bob)[1]]:
        await sessions.create_session(s)
    listed = await sessions.list_sessions(alice, NOW + 60)
    assert {s.id for s in listed} == {s.id for s in live}


async def test_delete_user_sessions_with_and_without_exception(store) -> None:
    """Ending a user's sessions can spare the current one; other users are untouched."""
    sessions, (alice, bob) = store
    mine = [_session(alice)[1] for _ in range(3)]
    theirs = _session(bob)[1]
    for s in [*mine, theirs]:
        await sessions.create_session(s)
    ended = await sessions.delete_user_sessions(alice, except_id=mine[0].id)
    assert set(ended) == {mine[1].id, mine[2].id}
    assert [s.id for s in await sessions.list_sessions(alice, NOW)] == [mine[0].id]
    assert set(await sessions.delete_user_sessions(alice)) == {mine[0].id}
    assert [s.id for s in await sessions.list_sessions(bob, NOW)] == [theirs.id]


async def test_redis_never_stores_the_cookie_value(redis_url: str, redis_prefix: str) -> None:
    """Only the digest of the cookie appears in Redis keys and values."""
    redis = create_redis(redis_url)
    try:
        sessions = RedisCookieSessions(redis, redis_prefix)
        cookie, session = _session(new_id())
        await sessions.create_session(session)
        keys = [k async for k in redis.scan_iter(match=f"{redis_prefix}*")]
        assert keys
        for key in keys:
            assert cookie.encode() not in key
            kind = await redis.type(key)
            value = await redis.get(key) if kind == b"string" else b""
            assert cookie.encode() not in (value or b"")
    finally:
        await redis.aclose()


async def test_redis_records_expire_with_their_session(redis_url: str, redis_prefix: str) -> None:
    """A Redis record's TTL is the time left to the session's earliest expiry."""
    import time

    redis = create_redis(redis_url)
    try:
        sessions = RedisCookieSessions(redis, redis_prefix)
        _, session = _session(new_id(), created=time.time(), idle=120)
        await sessions.create_session(session)
        ttl = await redis.pttl(f"{redis_prefix}s:{session.id}")
        assert 100_000 < ttl <= 120_000
    finally:
        await redis.aclose()


async def test_redis_record_is_compact(redis_url: str, redis_prefix: str) -> None:
    """A session record with a long user agent costs under 350 bytes of Redis memory."""
    redis = create_redis(redis_url)
    try:
        sessions = RedisCookieSessions(redis, redis_prefix)
        _, session = _session(new_id())
        await sessions.create_session(session)
        record = await redis.memory_usage(f"{redis_prefix}s:{session.id}")
        assert record is not None and record < 350, record
    finally:
        await redis.aclose()


async def test_redis_down_is_service_unavailable() -> None:
    """With Redis unreachable every operation raises ServiceUnavailable (fail closed)."""
    redis = create_redis("redis://127.0.0.1:1/0")
    sessions = RedisCookieSessions(redis, "authd-test:")
    try:
        cookie, session = _session(new_id())
        for call in (sessions.create_session(session), sessions.get_session_by_hash(digest(cookie)),
                     sessions.delete_session(session.id), sessions.list_sessions("u", NOW)):
            with pytest.raises(ServiceUnavailable):
                await call
    finally:
        await redis.aclose()


async def test_redis_connection_loss_is_survived(redis_url: str, redis_prefix: str) -> None:
    """After the server drops the client's connections, the next call reconnects."""
    redis = create_redis(redis_url, name="authd-reconnect-test")
    admin = create_redis(redis_url, name="authd-admin")
    try:
        sessions = RedisCookieSessions(redis, redis_prefix)
        cookie, session = _session(new_id())
        await sessions.create_session(session)
        clients = (await admin.execute_command("CLIENT", "LIST")).decode().splitlines()
        ids = [line.split()[0].split("=")[1] for line in clients
               if "name=authd-reconnect-test" in line]
        assert ids
        for client_id in ids:
            await admin.execute_command("CLIENT", "KILL", "ID", client_id)
        found = await sessions.get_session_by_hash(digest(cookie))
        assert found is not None and found.id == session.id
    finally:
        await redis.aclose()
        await admin.aclose()
