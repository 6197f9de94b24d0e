"""Migration 0003: families and cookie sessions from before it date their login from their creation.

So an upgrade neither signs anyone out nor makes an old login look recent.
Over real SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, text

from authd.storage.sql import open_database
from authd.storage.sql.db import AsyncDatabase, SqliteDatabase
from authd.storage.sql.engine import MIGRATIONS

CREATED = 1_700_000_000.0


def _to(revision: str) -> Callable[[Connection], None]:
    def upgrade(connection: Connection) -> None:
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
    return upgrade


def _old_rows(connection: Connection) -> None:
    connection.execute(text(
        "INSERT INTO users (id, email, email_verified, disabled, created_at) "
        "VALUES ('u1', 'a@example.com', false, false, :t)"), {"t": CREATED})
    connection.execute(text(
        "INSERT INTO refresh_families (id, user_id, client_id, scope, audience, generation, "
        "rotated_at, created_at, last_used_at, idle_expires_at, absolute_expires_at) "
        "VALUES ('f1', 'u1', 'authd', 'openid', 'api', 3, :t, :t, :t, :t, :t)"), {"t": CREATED})
    connection.execute(text(
        "INSERT INTO cookie_sessions (id, token_hash, user_id, created_at, last_used_at, "
        "idle_expires_at, absolute_expires_at) VALUES ('s1', :h, 'u1', :t, :t, :t, :t)"),
        {"t": CREATED, "h": b"\x01" * 32})


def _auth_times(connection: Connection) -> list[Any]:
    return [connection.execute(text(f"SELECT auth_time FROM {table}")).scalar_one()
            for table in ("refresh_families", "cookie_sessions")]


async def _run(db: Any, action: Callable[[Connection], Any]) -> Any:
    if isinstance(db, SqliteDatabase):
        with db.engine.begin() as connection:
            return action(connection)
    assert isinstance(db, AsyncDatabase)
    async with db.engine.begin() as connection:
        return await connection.run_sync(action)


async def test_rows_from_before_0003_get_their_creation_as_auth_time(sql_url: str) -> None:
    """An upgraded server treats existing logins as made when they started."""
    db = open_database(sql_url)
    try:
        await _run(db, _to("0002"))
        await _run(db, _old_rows)
        await _run(db, _to("head"))
        assert await _run(db, _auth_times) == [CREATED, CREATED]
    finally:
        await db.dispose()
