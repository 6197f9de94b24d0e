"""Alembic steps on a test's own connection, for the migration tests: upgrade or downgrade
to a revision, and run a synchronous action on either backend."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, text

from authd.storage.sql.db import AsyncDatabase, SqliteDatabase
from authd.storage.sql.engine import MIGRATIONS

CREATED = 1_700_000_000.0


def _config(connection: Connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def upgrade_to(revision: str) -> Callable[[Connection], None]:
    """Alembic's upgrade to ``revision`` on the test's connection."""
    def upgrade(connection: Connection) -> None:
        command.upgrade(_config(connection), revision)
    return upgrade


def downgrade_to(revision: str) -> Callable[[Connection], None]:
    """Alembic's downgrade to ``revision`` on the test's connection."""
    def downgrade(connection: Connection) -> None:
        command.downgrade(_config(connection), revision)
    return downgrade


async def run_on(db: Any, action: Callable[[Connection], Any]) -> Any:
    """``action`` in one transaction of ``db``, whichever backend it is."""
    if isinstance(db, SqliteDatabase):
        with db.engine.begin() as connection:
            return action(connection)
    assert isinstance(db, AsyncDatabase)
    async with db.engine.begin() as connection:
        return await connection.run_sync(action)


def insert_old_user(connection: Connection) -> None:
    """User ``u1`` (a@example.com, password hash ``h``) as any schema since 0001 can hold it."""
    connection.execute(text(
        "INSERT INTO users (id, email, email_verified, password_hash, disabled, created_at) "
        "VALUES ('u1', 'a@example.com', false, 'h', false, :t)"), {"t": CREATED})
