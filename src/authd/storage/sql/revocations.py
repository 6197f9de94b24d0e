"""The revocation feed: an append-only log read by cursor (its sequence number).

A follower (another instance, an external verifier) keeps the highest number it
has read and asks for everything above it, so the feed must never make a number
visible before a lower one that will still commit. PostgreSQL hands out
sequence numbers at INSERT, not at COMMIT: two concurrent writers could commit
out of order and a follower reading in between would step over the slower one's
entry for good. Every feed insert therefore takes one transaction-level
advisory lock first, so numbers are handed out in commit order. SQLite has a
single writer per database file, so the same order holds there by construction,
and its table is AUTOINCREMENT so that pruning the newest entries never lets a
number be handed out twice.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, delete, select, text

from authd.core.models import Revocation
from authd.storage.sql._base import SqlRepository
from authd.storage.sql.tables import revocations as t

# "authd_rv": the feed's writers queue on this lock until the holder commits or rolls back.
FEED_LOCK_ID = 0x61757468645F7276
_LOCK = text("SELECT pg_advisory_xact_lock(:id)")
# Revoking a token again is a no-op: one entry per (kind, value), whoever repeats it.
_APPEND = text("INSERT INTO revocations (kind, value, expires_at, created_at) "
               "VALUES (:kind, :value, :expires_at, :created_at) "
               "ON CONFLICT (kind, value) DO NOTHING RETURNING seq")


def append_revocation(c: Connection, revocation: Revocation, now: float) -> int | None:
    """Append in ``c``'s transaction (which must commit promptly): the new sequence number,
    or None if this (kind, value) is in the feed already."""
    if c.dialect.name == "postgresql":
        c.execute(_LOCK, {"id": FEED_LOCK_ID})  # held to COMMIT: numbers follow commit order
    seq = c.execute(_APPEND, {"kind": revocation.kind, "value": revocation.value,
                              "expires_at": revocation.expires_at, "created_at": now}
                    ).scalar_one_or_none()
    return int(seq) if seq is not None else None


class SqlRevocations(SqlRepository):
    async def add_revocation(self, revocation: Revocation, now: float) -> int | None:
        return await self._db.write(lambda c: append_revocation(c, revocation, now))

    async def revocations_since(self, after: int, now: float, limit: int
                                ) -> tuple[Sequence[Revocation], int]:
        query = (select(t.c.seq, t.c.kind, t.c.value, t.c.expires_at)
                 .where(t.c.seq > after).order_by(t.c.seq).limit(limit))
        rows = await self._db.read(lambda c: c.execute(query).all())
        cursor = rows[-1].seq if rows else after
        live = [Revocation(r.kind, r.value, r.expires_at) for r in rows if r.expires_at > now]
        return live, cursor

    async def prune_revocations(self, now: float) -> int:
        statement = delete(t).where(t.c.expires_at <= now)
        return await self._db.write(lambda c: c.execute(statement).rowcount)
