"""Migration 0003: families and cookie sessions from before it date their login from their creation.

So an upgrade neither signs anyone out nor makes an old login look recent.
Over real SQLite and PostgreSQL.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, text

from authd.storage.sql import open_database
from tests.storage.migrations import CREATED, run_on, upgrade_to


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




async def test_rows_from_before_0003_get_their_creation_as_auth_time(sql_url: str) -> None:
    """An upgraded server treats existing logins as made when they started."""
    db = open_database(sql_url)
    try:
        await run_on(db, upgrade_to("0002"))
        await run_on(db, _old_rows)
        await run_on(db, upgrade_to("head"))
        assert await run_on(db, _auth_times) == [CREATED, CREATED]
    finally:
        await db.dispose()
