"""Migration 0010 (private_key_jwt's single-use jti table) up and down, over SQLite and PostgreSQL.

An operator upgrading gets the table with nothing else changed; rolling back
to the previous revision drops it cleanly, and upgrading again works.
"""

from __future__ import annotations

from collections.abc import Callable

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, inspect

from authd.storage.sql import open_database
from authd.storage.sql.client_assertions import SqlClientAssertions
from tests.storage.test_migration_auth_time import MIGRATIONS, _run, _to

NOW = 1_700_000_000.0


def _down_to(revision: str) -> Callable[[Connection], None]:
    def downgrade(connection: Connection) -> None:
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        config.attributes["connection"] = connection
        command.downgrade(config, revision)
    return downgrade


def _tables(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names())


async def test_the_jti_table_comes_and_goes_with_its_revision(sql_url: str) -> None:
    """Up: the table exists and records a first use; down to the previous revision: gone;
    up again: usable again."""
    db = open_database(sql_url)
    try:
        await _run(db, _to("0010"))
        assert "client_assertions" in await _run(db, _tables)
        assert await SqlClientAssertions(db).first_use(b"k" * 32, NOW + 60, NOW) is True
        await _run(db, _down_to("0010-1"))
        assert "client_assertions" not in await _run(db, _tables)
        await _run(db, _to("head"))
        assert await SqlClientAssertions(db).first_use(b"k" * 32, NOW + 60, NOW) is True
    finally:
        await db.dispose()
