"""The revocation feed: an append-only log read by cursor (its sequence number)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, insert, select

from authd.core.models import Revocation
from authd.storage.sql._base import SqlRepository
from authd.storage.sql.tables import revocations as t


class SqlRevocations(SqlRepository):
    async def add_revocation(self, revocation: Revocation, now: float) -> int:
        statement = insert(t).values(kind=revocation.kind, value=revocation.value,
                                     expires_at=revocation.expires_at, created_at=now
                                     ).returning(t.c.seq)
        return await self._db.write(lambda c: int(c.execute(statement).scalar_one()))

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
