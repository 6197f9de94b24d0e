"""Migration 0010 (private_key_jwt's single-use jti table) up and down, over SQLite and PostgreSQL.

An operator upgrading gets the table with nothing else changed; rolling back
to the previous revision drops it cleanly, and upgrading again works.
"""

from __future__ import annotations

from sqlalchemy import Connection, inspect

from authd.storage.sql import open_database
from authd.storage.sql.client_assertions import SqlClientAssertions
from tests.storage.migrations import downgrade_to, run_on, upgrade_to

NOW = 1_700_000_000.0




def _tables(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names())


async def test_the_jti_table_comes_and_goes_with_its_revision(sql_url: str) -> None:
    """Up: the table exists and records a first use; down to the previous revision: gone;
    up again: usable again."""
    db = open_database(sql_url)
    try:
        await run_on(db, upgrade_to("0010"))
        assert "client_assertions" in await run_on(db, _tables)
        assert await SqlClientAssertions(db).first_use(b"k" * 32, NOW + 60, NOW) is True
        await run_on(db, downgrade_to("0010-1"))
        assert "client_assertions" not in await run_on(db, _tables)
        await run_on(db, upgrade_to("head"))
        assert await SqlClientAssertions(db).first_use(b"k" * 32, NOW + 60, NOW) is True
    finally:
        await db.dispose()
