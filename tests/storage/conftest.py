"""Storage fixtures: a fresh database on each SQL backend, so every storage test runs on both."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from authd.storage.sql import migrate, open_database
from authd.storage.sql.db import Database


@pytest.fixture(params=["sqlite", "postgres"])
def sql_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of a fresh, empty database: a SQLite file, or a throw-away PostgreSQL database."""
    if request.param == "postgres":
        url: str = request.getfixturevalue("fresh_pg_url")
        return url.replace("postgresql://", "postgresql+asyncpg://")
    return f"sqlite:///{tmp_path}/authd.db"


@pytest.fixture
async def migrated_db(sql_url: str) -> AsyncIterator[Database]:
    """A database at the newest schema on SQLite and on PostgreSQL, disposed afterwards."""
    database = open_database(sql_url)
    await migrate(database)
    try:
        yield database
    finally:
        await database.dispose()
