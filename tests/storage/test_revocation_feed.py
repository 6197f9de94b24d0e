"""The revocation feed in SQL: cursor order, expiry filtering, pruning."""

from __future__ import annotations

from authd.clock import FixedClock
from authd.core.models import Revocation
from authd.core.revocation import Revocations
from authd.storage.sql import SqlStore, migrate, open_database


async def test_feed_pages_by_cursor_and_prunes_expired_entries(tmp_path) -> None:
    """Entries come back in order after a cursor; expired ones are neither served nor kept."""
    db = open_database(f"sqlite:///{tmp_path}/feed.db")
    await migrate(db)
    clock = FixedClock(1000.0)
    revocations = Revocations(SqlStore.over(db).revocations, clock)
    try:
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
    finally:
        await db.dispose()
