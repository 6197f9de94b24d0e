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
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from sqlalchemy.engine import Connection, Engine
from sqlalchemy.ext.asyncio import AsyncEngine

T = TypeVar("T")


class Database:
    dialect: str

    async def read(self, fn: Callable[[Connection], T]) -> T:
        raise NotImplementedError

    async def write(self, fn: Callable[[Connection], T]) -> T:
        """Run ``fn`` in one transaction, committed (durably) before this returns."""
        raise NotImplementedError

    async def dispose(self) -> None:
        raise NotImplementedError


class SqliteDatabase(Database):
    dialect = "sqlite"

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite-writer")

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
        self.engine.dispose()


class AsyncDatabase(Database):
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.dialect = engine.dialect.name

    async def read(self, fn: Callable[[Connection], T]) -> T:
        async with self.engine.connect() as conn:
            return await conn.run_sync(fn)

    async def write(self, fn: Callable[[Connection], T]) -> T:
        async with self.engine.begin() as conn:
            return await conn.run_sync(fn)

    async def dispose(self) -> None:
        await self.engine.dispose()
