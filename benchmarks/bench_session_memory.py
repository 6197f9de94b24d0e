"""What one active cookie session costs each store: Redis memory, SQL bytes on disk.

    .venv/bin/python -m benchmarks.bench_session_memory [--sessions 10000]

Creates N sessions (one per user, a 120-character browser user agent) in
Redis, SQLite and PostgreSQL, and reports the growth per session: Redis
`MEMORY USAGE` of the record and the per-user index; the SQLite file; the
PostgreSQL table and its indexes (`pg_total_relation_size`).
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import tempfile
import time
from pathlib import Path

from tests.conftest import drop_pg_database, make_pg_database

from authd.core.ids import digest, new_id
from authd.core.models import CookieSession
from authd.core.sessions import session_id_for
from authd.storage.redis.client import create_redis
from authd.storage.redis.sessions import RedisCookieSessions
from authd.storage.sql import migrate, open_database
from authd.storage.sql.sessions import SqlCookieSessions

AGENT = ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
         "Chrome/130.0.0.0 Safari/537.36")


def session(now: float) -> CookieSession:
    token_hash = digest(secrets.token_urlsafe(32))
    return CookieSession(id=session_id_for(token_hash), token_hash=token_hash, user_id=new_id(),
                         created_at=now, last_used_at=now, idle_expires_at=now + 1800,
                         absolute_expires_at=now + 7 * 86400, user_agent=AGENT, ip="203.0.113.7")


async def redis_bytes(n: int) -> float:
    redis = create_redis("redis://127.0.0.1:6379/0")
    prefix = f"authd-bench:{secrets.token_hex(3)}:"
    store = RedisCookieSessions(redis, prefix)
    now = time.time()
    total = 0
    for _ in range(min(n, 2000)):
        s = session(now)
        await store.create_session(s)
        total += (await redis.memory_usage(f"{prefix}s:{s.id}") or 0)
        total += (await redis.memory_usage(f"{prefix}u:{s.user_id}") or 0)
    async for key in redis.scan_iter(match=f"{prefix}*"):
        await redis.delete(key)
    await redis.aclose()
    return total / min(n, 2000)


async def sql_bytes(url: str, n: int, size: object) -> float:
    from sqlalchemy import text

    from authd.storage.sql import SqlStore
    db = open_database(url)
    await migrate(db)
    store = SqlStore.over(db)
    await db.write(lambda c: c.execute(text("PRAGMA foreign_keys=OFF")) if db.dialect == "sqlite"
                   else c.execute(text("ALTER TABLE cookie_sessions DROP CONSTRAINT IF EXISTS "
                                       "cookie_sessions_user_id_fkey")))
    sessions: SqlCookieSessions = store.sessions
    before = await size(db)  # type: ignore[operator]
    now = time.time()
    for _ in range(n):
        await sessions.create_session(session(now))
    after = await size(db)  # type: ignore[operator]
    await db.dispose()
    return (after - before) / n


async def main(n: int) -> None:
    print(f"redis: {await redis_bytes(n):.0f} bytes per session (record + index, MEMORY USAGE)")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "s.db"

        async def sqlite_size(_: object) -> int:
            import sqlite3
            with sqlite3.connect(path) as db:  # fold the WAL into the file first
                db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            return path.stat().st_size
        print(f"sqlite: {await sql_bytes(f'sqlite:///{path}', n, sqlite_size):.0f} bytes per "
              f"session (file growth over {n}, after a checkpoint)")
    url = make_pg_database()
    try:
        from sqlalchemy import text

        async def pg_size(db: object) -> int:
            return int(await db.read(lambda c: c.execute(text(  # type: ignore[attr-defined]
                "SELECT pg_total_relation_size('cookie_sessions')")).scalar()))
        pg = url.replace("postgresql://", "postgresql+asyncpg://")
        print(f"postgresql: {await sql_bytes(pg, n, pg_size):.0f} bytes per session "
              f"(table + indexes over {n})")
    finally:
        drop_pg_database(url)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=5000)
    asyncio.run(main(parser.parse_args().sessions))
