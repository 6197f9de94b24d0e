"""Shared fixtures: real PostgreSQL and Redis, never mocks.

Under ``CI=true`` a missing PostgreSQL or Redis fails the tests that need it
(a skipped storage suite must not look like a green one); on a developer's
machine those tests are skipped with the reason.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import socket
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

PG_HOST = os.environ.get("AUTHD_TEST_PG_HOST", "127.0.0.1")
PG_PORT = int(os.environ.get("AUTHD_TEST_PG_PORT", "5432"))
PG_USER = os.environ.get("AUTHD_TEST_PG_USER", "postgres")
REDIS_URL = os.environ.get("AUTHD_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def require_service(name: str, host: str, port: int) -> None:
    """Skip locally, fail under CI, when a backing service is missing."""
    if _reachable(host, port):
        return
    message = f"{name} is not reachable on {host}:{port}"
    if IN_CI:
        pytest.fail(message + " (CI=true: tests that need it must not be skipped)")
    pytest.skip(message)


def _admin_psql(sql: str) -> None:
    import subprocess

    subprocess.run(
        ["psql", "-h", PG_HOST, "-p", str(PG_PORT), "-U", PG_USER, "-d", "postgres",
         "-v", "ON_ERROR_STOP=1", "-q", "-c", sql],
        check=True, capture_output=True,
    )


def make_pg_database() -> str:
    """Create a throw-away database; return its plain postgresql:// URL."""
    require_service("PostgreSQL", PG_HOST, PG_PORT)
    name = "authd_test_" + secrets.token_hex(6)
    _admin_psql(f'CREATE DATABASE "{name}"')
    return f"postgresql://{PG_USER}@{PG_HOST}:{PG_PORT}/{name}"


def drop_pg_database(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    _admin_psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session (plain postgresql:// URL)."""
    url = make_pg_database()
    yield url
    drop_pg_database(url)


@pytest.fixture
def fresh_pg_url() -> Iterator[str]:
    """A fresh PostgreSQL database for one test."""
    url = make_pg_database()
    yield url
    drop_pg_database(url)


@pytest.fixture(scope="session")
def redis_url() -> str:
    """Redis on loopback; tests must use keys under their own random prefix."""
    from urllib.parse import urlsplit

    parts = urlsplit(REDIS_URL)
    require_service("Redis", parts.hostname or "127.0.0.1", parts.port or 6379)
    return REDIS_URL


@pytest.fixture
def redis_prefix() -> str:
    """A key prefix unique to one test, so tests sharing the Redis server never collide."""
    return f"authd-test:{secrets.token_hex(4)}:"


@pytest.fixture(params=["sqlite", "postgres"])
def sql_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of a fresh, empty database: a SQLite file, or a throw-away PostgreSQL database."""
    if request.param == "postgres":
        url: str = request.getfixturevalue("fresh_pg_url")
        return url.replace("postgresql://", "postgresql+asyncpg://")
    return f"sqlite:///{tmp_path}/authd.db"


@pytest.fixture
async def migrated_db(sql_url: str) -> AsyncIterator[Any]:
    """A database at the newest schema on SQLite and on PostgreSQL, disposed afterwards."""
    from authd.storage.sql import migrate, open_database

    database = open_database(sql_url)
    await migrate(database)
    try:
        yield database
    finally:
        await database.dispose()


@contextlib.contextmanager
def backend_settings(backend: str) -> Iterator[dict[str, Any]]:
    """Settings keywords for an app over ``backend``: "sqlite" (none), "postgres" (a fresh
    database) or "redis" (a fresh database plus Redis under a key prefix of its own); the
    database is dropped afterwards."""
    extra: dict[str, Any] = {}
    pg_url = make_pg_database() if backend in ("postgres", "redis") else None
    if pg_url:
        extra["database_url"] = pg_url
    if backend == "redis":
        require_service("Redis", "127.0.0.1", 6379)
        extra.update(redis_url=REDIS_URL, redis_key_prefix=f"authd-test:{secrets.token_hex(4)}:")
    try:
        yield extra
    finally:
        if pg_url:
            drop_pg_database(pg_url)
