"""One small interface over two very different engines.

* SQLite (embedded default): a synchronous pysqlite engine. Reads run inline
  on the event loop (tens of microseconds with WAL; an async bridge costs a
  thread round trip per statement, measured at ~3 ms here). Writes run in a
  single writer thread, so that ``synchronous=FULL`` fsyncs never block the
  loop and writers never contend for SQLite's one write lock.
* PostgreSQL (scale-out): an asyncpg-backed AsyncEngine with a pool; the
  same synchronous statement functions run inside it through ``run_sync``.

Repositories pass plain functions of a SQLAlchemy ``Connection``, so one
implementation serves both engines.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.ext.asyncio import AsyncEngine

T = TypeVar("T")


class Database:
    dialect: str

    async def fetch_one(self, sql: str, params: dict[str, Any]) -> dict[str, Any] | None:
        """One row of a hot-path read as a dict (``:name`` parameters, plain SQL)."""
        raise NotImplementedError

    async def read(self, fn: Callable[[Connection], T]) -> T:
        raise NotImplementedError

    async def write(self, fn: Callable[[Connection], T]) -> T:
        """Run ``fn`` in one transaction, committed (durably) before this returns."""
        raise NotImplementedError

    async def dispose(self) -> None:
        raise NotImplementedError


class SqliteDatabase(Database):
    dialect = "sqlite"

    def __init__(self, engine: Engine, path: str, configure: Callable[[Any, Any], None]) -> None:
        self.engine = engine
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite-writer")
        # The hottest reads (a session, a user, a family per request) go straight
        # to sqlite3: ~10 µs instead of ~80 µs through SQLAlchemy's execution layer.
        self._reader = sqlite3.connect(path, check_same_thread=False, timeout=30)
        configure(self._reader, None)
        self._reader.row_factory = sqlite3.Row

    async def fetch_one(self, sql: str, params: dict[str, Any]) -> dict[str, Any] | None:
        row = self._reader.execute(sql, params).fetchone()
        return dict(row) if row is not None else None

    async def read(self, fn: Callable[[Connection], T]) -> T:
        with self.engine.connect() as conn:
            return fn(conn)

    async def write(self, fn: Callable[[Connection], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._writer, self._write, fn)

    def _write(self, fn: Callable[[Connection], T]) -> T:
        with self.engine.begin() as conn:
            return fn(conn)

    async def dispose(self) -> None:
        self._writer.shutdown(wait=True)
        self._reader.close()
        self.engine.dispose()


class AsyncDatabase(Database):
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.dialect = engine.dialect.name

    async def read(self, fn: Callable[[Connection], T]) -> T:
        async with self.engine.connect() as conn:
            return await conn.run_sync(fn)

    async def fetch_one(self, sql: str, params: dict[str, Any]) -> dict[str, Any] | None:
        async with self.engine.connect() as conn:
            row = (await conn.execute(text(sql), params)).first()
        return row._asdict() if row is not None else None

    async def write(self, fn: Callable[[Connection], T]) -> T:
        async with self.engine.begin() as conn:
            return await conn.run_sync(fn)

    async def dispose(self) -> None:
        await self.engine.dispose()
