"""Refresh-token families: one row per login chain, advanced by compare-and-set."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import insert, select, update

from authd.core.models import RefreshFamily
from authd.storage.sql._base import SqlRepository, to_model
from authd.storage.sql.tables import refresh_families as t

_BY_ID = "SELECT * FROM refresh_families WHERE id = :id"  # refresh hot path: see db.py
_ADVANCE = ("UPDATE refresh_families SET generation = :next, rotated_at = :now, "
            "last_used_at = :now, idle_expires_at = :idle "
            "WHERE id = :id AND generation = :expected AND revoked_at IS NULL")


class SqlFamilies(SqlRepository):
    async def create_family(self, family: RefreshFamily) -> None:
        statement = insert(t).values(**{c.name: getattr(family, c.name) for c in t.c})
        await self._db.write(lambda c: c.execute(statement))

    async def get_family(self, family_id: str) -> RefreshFamily | None:
        row = await self._db.fetch_one(_BY_ID, {"id": family_id})
        return RefreshFamily(**row) if row else None

    async def advance_generation(self, family_id: str, expected: int, now: float,
                                 idle_expires_at: float) -> bool:
        # The WHERE clause is the whole concurrency story: of N concurrent
        # refreshes of one token exactly one matches, the rest see 0 rows.
        changed = await self._db.execute(_ADVANCE, {
            "id": family_id, "expected": expected, "next": expected + 1, "now": now,
            "idle": idle_expires_at})
        return changed == 1

    async def revoke_family(self, family_id: str, now: float, reason: str) -> bool:
        statement = (update(t).where(t.c.id == family_id, t.c.revoked_at.is_(None))
                     .values(revoked_at=now, revoked_reason=reason))
        return await self._db.write(lambda c: c.execute(statement).rowcount == 1)

    async def list_families(self, user_id: str, now: float) -> Sequence[RefreshFamily]:
        query = (select(t)
                 .where(t.c.user_id == user_id, t.c.revoked_at.is_(None),
                        t.c.idle_expires_at > now, t.c.absolute_expires_at > now)
                 .order_by(t.c.created_at))
        rows = await self._db.read(lambda c: c.execute(query).all())
        return [to_model(RefreshFamily, row) for row in rows]
