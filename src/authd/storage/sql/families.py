"""Refresh-token families: one row per login chain, advanced by compare-and-set."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, select, update

from authd.core.models import AuditEvent, RefreshFamily, Rotated
from authd.storage.sql import amr
from authd.storage.sql._base import SqlRepository
from authd.storage.sql.audit import INSERT_EVENT, event_params
from authd.storage.sql.db import run
from authd.storage.sql.tables import refresh_families as t
from authd.storage.sql.users import user_from_row

_BY_ID = "SELECT * FROM refresh_families WHERE id = :id"  # refresh hot path: see db.py
# The WHERE clause is the whole concurrency story: of N concurrent refreshes of
# one token exactly one matches, the rest see 0 rows.
_ADVANCE = ("UPDATE refresh_families SET generation = :next, rotated_at = :now, "
            "last_used_at = :now, idle_expires_at = :idle "
            "WHERE id = :id AND generation = :expected AND revoked_at IS NULL")
_OWNER = ("SELECT users.* FROM refresh_families f JOIN users ON users.id = f.user_id "
          "WHERE f.id = :id")
# PostgreSQL: the same compare-and-set (_ADVANCE itself), the owner's row and the audit row in one
# statement, so one round trip and one durable commit per refresh. The LEFT JOIN
# keeps a won rotation visible (a row of NULLs) even if the user were gone.
_ROTATE_PG = (
    "WITH rotated AS (" + _ADVANCE + " RETURNING user_id), "  # noqa: S608 (constants only)
    "owner AS (SELECT users.* FROM rotated JOIN users ON users.id = rotated.user_id), "
    "logged AS ("
    " INSERT INTO audit_events (at, event, user_id, ip, detail)"
    " SELECT CAST(:at AS double precision), CAST(:event AS varchar), CAST(:user_id AS varchar),"
    " CAST(:ip AS varchar), CAST(:detail AS json)"
    " FROM owner WHERE NOT owner.disabled) "
    "SELECT owner.* FROM rotated LEFT JOIN owner ON true")


FAMILY_COLUMNS = tuple(c.name for c in t.c)
# Plain SQL: every login writes one, some inside another use's commit (``write_family``).
INSERT_FAMILY = (f"INSERT INTO refresh_families ({', '.join(FAMILY_COLUMNS)}) "  # noqa: S608
                 f"VALUES ({', '.join(':' + name for name in FAMILY_COLUMNS)})")


def family_params(family: RefreshFamily) -> dict[str, Any]:
    """The parameters of ``INSERT_FAMILY``."""
    values = {name: getattr(family, name) for name in FAMILY_COLUMNS}
    values["amr"] = amr.encode(family.amr)
    return values


def write_family(c: Connection, family: RefreshFamily) -> None:
    """Store a new family in ``c``'s transaction (a login's second step, a passkey's use)."""
    run(c, INSERT_FAMILY, family_params(family))


class SqlFamilies(SqlRepository):
    async def create_family(self, family: RefreshFamily) -> None:
        await self._db.execute(INSERT_FAMILY, family_params(family))

    async def get_family(self, family_id: str) -> RefreshFamily | None:
        row = await self._db.fetch_one(_BY_ID, {"id": family_id})
        return RefreshFamily(**amr.from_row(row)) if row else None

    async def rotate(self, family_id: str, expected: int, now: float, idle_expires_at: float,
                     event: AuditEvent) -> Rotated | None:
        params = {"id": family_id, "expected": expected, "next": expected + 1, "now": now,
                  "idle": idle_expires_at}
        if self._db.dialect != "postgresql":
            # SQLite has no writing CTEs; its single writer runs the three statements
            # as one transaction (one fsync) instead.
            return await self._db.write(lambda c: _rotate(c, params, event))
        row = await self._db.write_one(_ROTATE_PG, {**params, **event_params(event)})
        if row is None:
            return None
        return Rotated(user_from_row(row) if row["id"] is not None else None)

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
        return [RefreshFamily(**amr.from_row(row._asdict())) for row in rows]

    async def renew_auth_time(self, family_id: str, auth_time: float,
                              methods: Sequence[str]) -> bool:
        statement = (update(t).where(t.c.id == family_id, t.c.revoked_at.is_(None))
                     .values(auth_time=auth_time, amr=amr.encode(methods)))
        return await self._db.write(lambda c: c.execute(statement).rowcount == 1)


def _rotate(c: Connection, params: dict[str, Any], event: AuditEvent) -> Rotated | None:
    if c.exec_driver_sql(_ADVANCE, params).rowcount != 1:
        return None
    row = c.exec_driver_sql(_OWNER, {"id": params["id"]}).first()
    user = user_from_row(dict(row._mapping)) if row is not None else None
    if user is not None and not user.disabled:
        c.exec_driver_sql(INSERT_EVENT, event_params(event))
    return Rotated(user)
