"""Migration 0008 (admin search indexes): applies over existing users, and reverts, on SQLite and
PostgreSQL; existing users are found by the new search at once."""

from __future__ import annotations

from sqlalchemy import Connection, inspect, text

from authd.storage.sql import SqlStore, open_database
from tests.storage.migrations import downgrade_to, run_on, upgrade_to


def _indexes(connection: Connection) -> set[str]:
    """The names of the users table's indexes."""
    return {str(i["name"]) for i in inspect(connection).get_indexes("users")}


async def test_0008_applies_over_existing_users_and_reverts(sql_url: str) -> None:
    """Users from before 0008 are searchable by email and name prefix after it; a downgrade
    drops the new indexes and an upgrade brings them back."""
    db = open_database(sql_url)
    try:
        await run_on(db, upgrade_to("0005"))
        await run_on(db, lambda c: c.execute(text(
            "INSERT INTO users (id, email, email_verified, name, disabled, created_at) "
            "VALUES ('u1', 'ada@example.com', false, 'Ada Lovelace', false, 1.0)")))
        await run_on(db, upgrade_to("head"))
        assert "ix_users_created" in await run_on(db, _indexes)
        store = SqlStore.over(db)
        assert [u.id for u in await store.users.search_users("ada@", None, 10)] == ["u1"]
        assert [u.id for u in await store.users.search_users("ada love", None, 10)] == ["u1"]
        assert await store.users.search_users("lovelace", None, 10) == []  # prefixes only
        await run_on(db, downgrade_to("0005"))
        assert not {"ix_users_created", "ix_users_email_pattern"} & await run_on(db, _indexes)
        await run_on(db, upgrade_to("head"))
        assert "ix_users_created" in await run_on(db, _indexes)
    finally:
        await db.dispose()
