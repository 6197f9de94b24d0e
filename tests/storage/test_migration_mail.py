"""Migration 0005 (accounts by email): existing users keep everything, gain no locale, and the new
tables work; over real SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Connection, text

from authd.storage.sql import SqlStore, open_database
from tests.storage.test_migration_auth_time import _run, _to

CREATED = 1_700_000_000.0


def _old_user(connection: Connection) -> None:
    connection.execute(text(
        "INSERT INTO users (id, email, email_verified, password_hash, disabled, created_at) "
        "VALUES ('u1', 'a@example.com', false, 'h', false, :t)"), {"t": CREATED})


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
async def test_users_from_before_0005_keep_their_rows_and_have_no_locale(
        backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    """An upgraded server finds its users as they were (no locale: mail in the request's language)
    and can queue mail at once."""
    url = f"sqlite:///{tmp_path}/old.db"
    if backend == "postgres":
        url = request.getfixturevalue("fresh_pg_url").replace("postgresql://",
                                                              "postgresql+asyncpg://")
    db = open_database(url)
    try:
        await _run(db, _to("0004"))
        await _run(db, _old_user)
        await _run(db, _to("head"))
        store = SqlStore.over(db)
        user = await store.users.get_user("u1")
        assert user is not None and user.locale is None and user.password_hash == "h"
        assert await store.outbox.pending_count() == 0
    finally:
        await db.dispose()
