"""Engines and migrations for SQLite (embedded default) and PostgreSQL.

SQLite runs in WAL mode with ``synchronous=FULL``: a commit is on disk before
authd answers, so an acknowledged write survives ``kill -9`` and power loss.
Migrations hold a PostgreSQL advisory lock so that several instances starting
together apply them once.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine as create_sync_engine
from sqlalchemy import event, make_url, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from authd.storage.sql.db import AsyncDatabase, Database, SqliteDatabase

MIGRATIONS = Path(__file__).parent / "migrations"
_MIGRATION_LOCK_ID = 0x617574686400  # "authd\0": one advisory lock for schema changes


def open_database(url: str, *, pool_size: int = 10) -> Database:
    """The database for a URL: ``sqlite:///path`` or ``postgresql+asyncpg://...``."""
    if url.startswith("sqlite"):
        path = url.split(":///", 1)[1] if ":///" in url else ""
        if path and path != ":memory:":
            _create_private_file(Path(path))
        engine = create_sync_engine(f"sqlite:///{path}", pool_size=pool_size,
                                    connect_args={"timeout": 30, "check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
        return SqliteDatabase(engine, path, _sqlite_pragmas)
    async_engine = create_async_engine(url, pool_size=pool_size, max_overflow=pool_size,
                                       pool_pre_ping=True, pool_recycle=1800)
    return AsyncDatabase(async_engine, url.replace("postgresql+asyncpg://", "postgresql://", 1),
                         pool_size)


def describe_database(url: str) -> str:
    """The database for messages to operators: a file path, or name and host; never a password."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return parsed.database or "the in-memory database"
    name = f"the database {parsed.database}" if parsed.database else "the database"
    return f"{name} on {parsed.host or 'localhost'}:{parsed.port or 5432}"


def _create_private_file(path: Path) -> None:
    """A new database file is created 0600 in a new 0700 folder, before SQLite opens it.

    The file holds password hashes and sealed keys; SQLite gives its -wal and
    -shm files the database file's mode, so they are private too. Existing
    files and folders keep the modes their operator chose.
    """
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    if not path.exists():
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


async def migrate(db: Database) -> None:
    """Bring the schema to the newest revision; safe to run from many instances at once."""
    if isinstance(db, SqliteDatabase):
        await asyncio.to_thread(_migrate_sync, db)
        return
    assert isinstance(db, AsyncDatabase)
    async with db.engine.begin() as conn:
        if db.dialect == "postgresql":
            await conn.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": _MIGRATION_LOCK_ID})
        await conn.run_sync(_upgrade_to_head)


def _migrate_sync(db: SqliteDatabase) -> None:
    with db.engine.begin() as conn:
        _upgrade_to_head(conn)


def _upgrade_to_head(connection: Connection) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    command.upgrade(config, "head")
