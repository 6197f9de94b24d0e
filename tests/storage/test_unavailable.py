"""An unreachable database leaves the storage layer as ServiceUnavailable (a 503), not a driver error."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from authd.errors import ServiceUnavailable
from authd.storage.sql import open_database
from authd.storage.sql.db import Database


def _closed_port() -> int:
    """A loopback port nothing listens on (bound once by the OS, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
async def unreachable() -> AsyncIterator[Database]:
    """A PostgreSQL database whose server is down: every connection attempt is refused."""
    db = open_database(f"postgresql+asyncpg://postgres@127.0.0.1:{_closed_port()}/authd")
    try:
        yield db
    finally:
        await db.dispose()


STATEMENTS: dict[str, Callable[[Database], Awaitable[Any]]] = {
    "fetch_one": lambda db: db.fetch_one("SELECT 1", {}),
    "execute": lambda db: db.execute("SELECT 1", {}),
    "write_one": lambda db: db.write_one("SELECT 1", {}),
    "read": lambda db: db.read(lambda c: c.execute(text("SELECT 1")).scalar()),
    "write": lambda db: db.write(lambda c: c.execute(text("SELECT 1")).scalar()),
}


@pytest.mark.parametrize("method", sorted(STATEMENTS))
async def test_a_database_that_cannot_be_reached_is_service_unavailable(
        unreachable: Database, method: str) -> None:
    """Every way of running a statement reports a down database as ServiceUnavailable, with the
    driver's error kept as its cause: the HTTP layer answers 503 without knowing any driver."""
    with pytest.raises(ServiceUnavailable) as caught:
        await STATEMENTS[method](unreachable)
    assert caught.value.status == 503
    assert caught.value.__cause__ is not None


async def test_a_refused_write_is_not_an_outage(tmp_path: Any) -> None:
    """A write the database refuses (a duplicate key) keeps its own error, which the stores turn
    into answers such as 409 email_taken; it is not reported as a 503 to wait out."""
    db = open_database(f"sqlite:///{tmp_path / 'authd.db'}")
    try:
        await db.write(lambda c: c.execute(text("CREATE TABLE t (k INTEGER PRIMARY KEY)")))
        await db.execute("INSERT INTO t VALUES (1)", {})
        with pytest.raises(IntegrityError):
            await db.execute("INSERT INTO t VALUES (1)", {})
    finally:
        await db.dispose()
