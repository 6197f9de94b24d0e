"""Migration 0008 (admin search indexes): applies over existing users, and reverts, on SQLite and
PostgreSQL; existing users are found by the new search at once."""

from __future__ import annotations

from collections.abc import Callable

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, inspect, text

from authd.storage.sql import SqlStore, open_database
from authd.storage.sql.engine import MIGRATIONS
from tests.storage.test_migration_auth_time import _run, _to


def _down_to(revision: str) -> Callable[[Connection], None]:
    """Alembic's downgrade to ``revision`` on the test's connection."""
    def downgrade(connection: Connection) -> None:
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        config.attributes["connection"] = connection
        command.downgrade(config, revision)
    return downgrade


def _indexes(connection: Connection) -> set[str]:
    """The names of the users table's indexes."""
    return {str(i["name"]) for i in inspect(connection).get_indexes("users")}


async def test_0008_applies_over_existing_users_and_reverts(sql_url: str) -> None:
    """Users from before 0008 are searchable by email and name prefix after it; a downgrade
    drops the new indexes and an upgrade brings them back."""
    db = open_database(sql_url)
    try:
        await _run(db, _to("0005"))
        await _run(db, lambda c: c.execute(text(
            "INSERT INTO users (id, email, email_verified, name, disabled, created_at) "
            "VALUES ('u1', 'ada@example.com', false, 'Ada Lovelace', false, 1.0)")))
        await _run(db, _to("head"))
        assert "ix_users_created" in await _run(db, _indexes)
        store = SqlStore.over(db)
        assert [u.id for u in await store.users.search_users("ada@", None, 10)] == ["u1"]
        assert [u.id for u in await store.users.search_users("ada love", None, 10)] == ["u1"]
        assert await store.users.search_users("lovelace", None, 10) == []  # prefixes only
        await _run(db, _down_to("0005"))
        assert not {"ix_users_created", "ix_users_email_pattern"} & await _run(db, _indexes)
        await _run(db, _to("head"))
        assert "ix_users_created" in await _run(db, _indexes)
    finally:
        await db.dispose()
