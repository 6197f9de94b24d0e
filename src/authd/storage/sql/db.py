"""One small interface over two very different engines.

* SQLite (embedded default): a synchronous pysqlite engine. Reads run inline
  on the event loop (tens of microseconds with WAL; an async bridge costs a
  thread round trip per statement, measured at ~3 ms on the reference machine
  of docs/bench.md). Writes run in a single writer thread, so that
  ``synchronous=FULL`` fsyncs never block the loop and writers never contend
  for SQLite's one write lock.
* PostgreSQL (scale-out): an asyncpg-backed AsyncEngine with a pool; the
  same synchronous statement functions run inside it through ``run_sync``.

Repositories pass plain functions of a SQLAlchemy ``Connection``, so one
implementation serves both engines. Every statement method maps an
unreachable database to ``ServiceUnavailable`` (``authd.storage.errors``):
driver exceptions never leave this module for that reason.
"""

from __future__ import annotations

import asyncio
import functools
import re
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from sqlalchemy import TextClause, text
from sqlalchemy.engine import Connection, CursorResult, Engine
from sqlalchemy.ext.asyncio import AsyncEngine

from authd.storage.errors import maps_unavailable

T = TypeVar("T")


class Database:
    dialect: str

    async def fetch_one(self, sql: str, params: dict[str, Any]) -> dict[str, Any] | None:
        """One row of a hot-path read as a dict (``:name`` parameters, plain SQL)."""
        raise NotImplementedError

    async def execute(self, sql: str, params: dict[str, Any]) -> int:
        """A hot-path write in its own transaction, committed before it returns; the row count."""
        raise NotImplementedError

    async def write_one(self, sql: str, params: dict[str, Any]) -> dict[str, Any] | None:
        """Like ``execute``, for a write that returns (at most) one row (``RETURNING``)."""
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

    @maps_unavailable
    async def fetch_one(self, sql: str, params: dict[str, Any]) -> dict[str, Any] | None:
        row = self._reader.execute(sql, params).fetchone()
        return dict(row) if row is not None else None

    @maps_unavailable
    async def read(self, fn: Callable[[Connection], T]) -> T:
        with self.engine.connect() as conn:
            return fn(conn)

    @maps_unavailable
    async def write(self, fn: Callable[[Connection], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._writer, self._write, fn)

    def _write(self, fn: Callable[[Connection], T]) -> T:
        with self.engine.begin() as conn:
            return fn(conn)

    @maps_unavailable
    async def execute(self, sql: str, params: dict[str, Any]) -> int:
        return await asyncio.get_running_loop().run_in_executor(
            self._writer, self._execute, sql, params)

    def _execute(self, sql: str, params: dict[str, Any]) -> int:
        with self.engine.begin() as conn:
            return int(conn.exec_driver_sql(sql, params).rowcount)

    @maps_unavailable
    async def write_one(self, sql: str, params: dict[str, Any]) -> dict[str, Any] | None:
        return await asyncio.get_running_loop().run_in_executor(
            self._writer, self._write_one, sql, params)

    def _write_one(self, sql: str, params: dict[str, Any]) -> dict[str, Any] | None:
        with self.engine.begin() as conn:
            row = conn.exec_driver_sql(sql, params).first()
            return dict(row._mapping) if row is not None else None

    async def dispose(self) -> None:
        self._writer.shutdown(wait=True)
        self._reader.close()
        self.engine.dispose()


class AsyncDatabase(Database):
    """PostgreSQL. Hot-path statements go straight to an asyncpg pool: one round trip
    each, where SQLAlchemy's async layer adds a pre-ping, BEGIN and ROLLBACK (measured
    ~2-4 ms per read on a machine whose loopback round trip is ~0.5 ms).

    The pool skips asyncpg's reset on release (``SELECT pg_advisory_unlock_all(); CLOSE
    ALL; UNLISTEN *; RESET ALL``): a second round trip per read, ~80 µs of this process's
    CPU and a query's worth of PostgreSQL's. Only ``fetch_one``, ``execute`` and ``write_one`` use these
    connections, each one statement outside a transaction, so there is no session state
    to reset; asyncpg still rolls back a transaction left open by an error."""

    def __init__(self, engine: AsyncEngine, dsn: str, pool_size: int) -> None:
        self.engine = engine
        self.dialect = engine.dialect.name
        self._dsn = dsn
        self._pool_size = pool_size
        self._pool: Any = None
        self._pool_lock = asyncio.Lock()

    async def _raw(self) -> Any:
        if self._pool is None:
            async with self._pool_lock:
                if self._pool is None:
                    import asyncpg

                    self._pool = await asyncpg.create_pool(
                        self._dsn, min_size=1, max_size=self._pool_size,
                        max_inactive_connection_lifetime=300, reset=_no_reset)
        return self._pool

    @maps_unavailable
    async def fetch_one(self, sql: str, params: dict[str, Any]) -> dict[str, Any] | None:
        query, args = _positional(sql, params)
        row = await (await self._raw()).fetchrow(query, *args)
        return dict(row) if row is not None else None

    @maps_unavailable
    async def execute(self, sql: str, params: dict[str, Any]) -> int:
        query, args = _positional(sql, params)
        status: str = await (await self._raw()).execute(query, *args)
        return int(status.rsplit(" ", 1)[-1]) if status[-1:].isdigit() else 0

    @maps_unavailable
    async def write_one(self, sql: str, params: dict[str, Any]) -> dict[str, Any] | None:
        # Outside a transaction block PostgreSQL commits the statement before answering.
        return await self.fetch_one(sql, params)

    @maps_unavailable
    async def read(self, fn: Callable[[Connection], T]) -> T:
        async with self.engine.connect() as conn:
            return await conn.run_sync(fn)

    @maps_unavailable
    async def write(self, fn: Callable[[Connection], T]) -> T:
        async with self.engine.begin() as conn:
            return await conn.run_sync(fn)

    async def dispose(self) -> None:
        if self._pool is not None:
            await self._pool.close()
        await self.engine.dispose()


def run(c: Connection, sql: str, params: dict[str, Any]) -> CursorResult[Any]:
    """One plain-SQL statement (``:name`` parameters) inside a ``write`` transaction.

    On SQLite it goes straight to the driver (~10 µs where SQLAlchemy's execution layer
    costs ~80 µs: the writer thread is SQLite's one bottleneck); on other engines through
    a ``text()`` clause built once per statement, which renders the driver's parameter
    style.
    """
    if c.dialect.name == "sqlite":
        return c.exec_driver_sql(sql, params)
    return c.execute(_clause(sql), params)


@functools.cache
def _clause(sql: str) -> TextClause:
    return text(sql)


async def _no_reset(_connection: Any) -> None:
    """Nothing to reset: see ``AsyncDatabase`` (asyncpg calls this instead of its reset query)."""


_NAMED = re.compile(r"(?<!:):([a-z_]+)")


@functools.cache
def _numbered(sql: str) -> tuple[str, tuple[str, ...]]:
    names: list[str] = []

    def number(match: re.Match[str]) -> str:
        if match.group(1) not in names:
            names.append(match.group(1))
        return f"${names.index(match.group(1)) + 1}"
    return _NAMED.sub(number, sql), tuple(names)


def _positional(sql: str, params: dict[str, Any]) -> tuple[str, list[Any]]:
    """``:name`` parameters (SQLite's style) as asyncpg's ``$1``."""
    query, names = _numbered(sql)
    return query, [params[name] for name in names]
