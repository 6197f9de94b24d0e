"""The revocation feed in SQL: cursor order, expiry filtering, pruning, and the guarantee
that a follower never loses an entry, whatever order concurrent writers commit in."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

import pytest
from sqlalchemy import Connection, text

from authd.clock import FixedClock
from authd.core.models import Revocation
from authd.core.revocation import Revocations
from authd.storage.sql import SqlStore, migrate, open_database
from authd.storage.sql.db import AsyncDatabase, Database, SqliteDatabase

T = TypeVar("T")
NOW = 1000.0


@pytest.fixture
def db(migrated_db: Database) -> Database:
    """A migrated database on SQLite and on PostgreSQL."""
    return migrated_db


def _follower(db: Database, clock: FixedClock) -> Revocations:
    """Another instance without Redis: it learns revocations only by following the feed."""
    return Revocations(SqlStore.over(db).revocations, clock)


async def test_feed_pages_by_cursor_and_prunes_expired_entries(db: Database) -> None:
    """Entries come back in order after a cursor; expired ones are neither served nor kept."""
    clock = FixedClock(NOW)
    revocations = _follower(db, clock)
    await revocations.revoke(Revocation("jti", "short", 1100.0))
    await revocations.revoke(Revocation("sid", "long", 5000.0))
    entries, cursor = await revocations.feed(0)
    assert [(e.kind, e.value) for e in entries] == [("jti", "short"), ("sid", "long")]
    assert (await revocations.feed(cursor))[0] == []
    clock.advance(200)
    assert [e.value for e in (await revocations.feed(0))[0]] == ["long"]
    assert await revocations.prune() == 1
    assert revocations.is_revoked(None, "long") and revocations.is_revoked("short", None)
    await revocations.sync()  # a sync drops expired entries from the in-memory set too
    assert not revocations.is_revoked("short", None)


async def test_a_revocation_is_recorded_once(db: Database) -> None:
    """Revoking the same token again adds no second feed entry and is reported as not new,
    so callers neither audit nor fan it out again."""
    clock = FixedClock(NOW)
    revocations = _follower(db, clock)
    assert await revocations.revoke(Revocation("jti", "same", 5000.0)) is True
    for _ in range(5):
        assert await revocations.revoke(Revocation("jti", "same", 5000.0)) is False
    assert await revocations.revoke(Revocation("sid", "same", 5000.0)) is True  # another kind
    entries, _ = await revocations.feed(0)
    assert [(e.kind, e.value) for e in entries] == [("jti", "same"), ("sid", "same")]


async def test_cursors_never_go_back_after_the_newest_entries_are_pruned(db: Database) -> None:
    """A follower's cursor stays valid when every entry up to it has expired and been pruned:
    an entry added afterwards gets a higher number, so the follower still receives it."""
    clock = FixedClock(NOW)
    writer, follower = _follower(db, clock), _follower(db, clock)
    await writer.revoke(Revocation("jti", "old-1", NOW + 10))
    await writer.revoke(Revocation("jti", "old-2", NOW + 10))
    await follower.sync()
    _, verifier_cursor = await writer.feed(0)
    clock.advance(60)
    assert await writer.prune() == 2  # the feed is empty now
    await writer.revoke(Revocation("jti", "new", NOW + 600))
    entries, cursor = await writer.feed(verifier_cursor)
    assert [e.value for e in entries] == ["new"] and cursor > verifier_cursor
    await follower.sync()
    assert follower.is_revoked("new", None)


class _HeldCommit(Database):
    """A second writer whose ``write`` runs its statements, then keeps the transaction open
    until ``release`` is set: the slow commit of another instance, made deterministic."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self.dialect = db.dialect
        self.written = threading.Event()
        self.release = threading.Event()

    async def write(self, fn: Callable[[Connection], T]) -> T:
        if isinstance(self._db, SqliteDatabase):
            return await asyncio.to_thread(self._write_sqlite, self._db, fn)
        assert isinstance(self._db, AsyncDatabase)
        async with self._db.engine.begin() as conn:
            result = await conn.run_sync(fn)
            self.written.set()
            await asyncio.to_thread(self.release.wait, 60)
            return result

    def _write_sqlite(self, db: SqliteDatabase, fn: Callable[[Connection], T]) -> T:
        with db.engine.begin() as conn:  # its own connection: a second process on the file
            result = fn(conn)
            self.written.set()
            self.release.wait(60)
            return result


async def _lock_waiters(db: Database) -> int:
    """Sessions of this PostgreSQL database waiting for any lock."""
    query = text("SELECT count(*) FROM pg_locks l JOIN pg_database d ON d.oid = l.database "
                 "WHERE NOT l.granted AND d.datname = current_database()")
    return int(await db.read(lambda c: c.execute(query).scalar_one()))


async def _until(condition: Callable[[], Any], deadline: float = 30.0) -> None:
    """Poll an async condition until it holds or the (generous) deadline passes."""
    end = time.monotonic() + deadline
    while time.monotonic() < end and not await condition():
        await asyncio.sleep(0.02)


async def test_an_entry_committed_late_still_reaches_followers(db: Database) -> None:
    """Attack: writer A inserts a revocation and commits slowly; writer B inserts another and
    commits first. A follower that reads the feed in between must not move its cursor past
    A's entry: after both commit, the follower (and an external verifier walking the feed by
    cursor) knows both revocations."""
    clock = FixedClock(NOW)
    held = _HeldCommit(db)
    slow = Revocations(SqlStore.over(held).revocations, clock)
    fast, follower = _follower(db, clock), _follower(db, clock)
    first = asyncio.create_task(slow.revoke(Revocation("jti", "committed-late", NOW + 600)))
    await asyncio.to_thread(held.written.wait, 60)
    assert held.written.is_set(), "the slow writer never inserted"
    second = asyncio.create_task(fast.revoke(Revocation("jti", "committed-early", NOW + 600)))
    if db.dialect == "postgresql":  # B either commits or waits on a lock: both are fine
        await _until(lambda: _done_or_waiting(db, second))
    else:  # SQLite: B waits on the file's write lock; give it the chance to jump ahead
        await _until(lambda: _done(second), deadline=1.0)
    await follower.sync()
    seen, cursor = await fast.feed(0)
    held.release.set()
    await asyncio.gather(first, second)
    await follower.sync()
    assert follower.is_revoked("committed-late", None)
    assert follower.is_revoked("committed-early", None)
    later, _ = await fast.feed(cursor)
    assert {e.value for e in seen} | {e.value for e in later} == {"committed-late",
                                                                 "committed-early"}


async def _done(task: asyncio.Task[Any]) -> bool:
    return task.done()


async def _done_or_waiting(db: Database, task: asyncio.Task[Any]) -> bool:
    return task.done() or await _lock_waiters(db) > 0


def _upgrade(connection: Connection, revision: str) -> None:
    from alembic import command
    from alembic.config import Config

    from authd.storage.sql.engine import MIGRATIONS

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    command.upgrade(config, revision)


async def test_upgrading_keeps_the_first_of_repeated_entries_and_numbers_above_them(
        sql_url: str) -> None:
    """A feed written before entries were unique upgrades cleanly: repeats of one token are
    reduced to their first entry, the others stay, and new entries are numbered above all
    of them (on SQLite too), so followers' cursors stay valid."""
    db = open_database(sql_url)
    try:
        await _upgrade_with_repeats(db)
    finally:
        await db.dispose()


async def _upgrade_with_repeats(db: Database) -> None:
    old_rows = text("INSERT INTO revocations (kind, value, expires_at, created_at) VALUES "
                    "('jti', 'a', 5000, 1), ('jti', 'a', 5000, 2), ('sid', 'b', 5000, 3), "
                    "('jti', 'a', 5000, 4), ('jti', 'c', 5000, 5)")

    def at_0002(c: Connection) -> None:
        _upgrade(c, "0002")
        c.execute(old_rows)
        c.execute(text("DELETE FROM revocations WHERE value = 'c'"))  # the newest, pruned
    await db.write(at_0002)
    await migrate(db)
    revocations = _follower(db, FixedClock(NOW))
    entries, cursor = await revocations.feed(0)
    assert [(e.kind, e.value) for e in entries] == [("jti", "a"), ("sid", "b")]
    await revocations.revoke(Revocation("jti", "new", 5000.0))
    entries, _ = await revocations.feed(cursor)
    assert [e.value for e in entries] == ["new"]
    seqs = await db.read(lambda c: c.execute(text(
        "SELECT value, seq FROM revocations ORDER BY seq")).all())
    assert [value for value, _ in seqs] == ["a", "b", "new"] and seqs[-1][1] > 5
