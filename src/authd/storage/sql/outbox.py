"""The durable outbox: rows written in a use case's transaction, claimed by workers with a lease.

PostgreSQL: a claim is one ``UPDATE ... WHERE id IN (SELECT ... FOR UPDATE
SKIP LOCKED)``, so instances polling at once take disjoint rows without
waiting on each other. SQLite: one writer thread per database file makes the
same statement (without the locking clause) a claim by construction. A claim
is a lease (``claimed_until``): a crashed instance's rows are claimed again
once it runs out. Completing a row checks ``claimed_by``, so a worker whose
lease ran out and was taken over does not overwrite the new claim.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, delete, func, insert, or_, select, text, update

from authd.core.models import OutboxItem
from authd.storage.sql._base import SqlRepository
from authd.storage.sql.db import Database
from authd.storage.sql.tables import outbox as t

_DUE = ("SELECT id FROM outbox WHERE kind <> 'webhook' AND delivered_at IS NULL AND failed_at IS NULL "
        "AND next_attempt_at <= :now AND (claimed_until IS NULL OR claimed_until < :now) "
        "ORDER BY next_attempt_at LIMIT :limit")
_CLAIM = ("UPDATE outbox SET claimed_by = :claimer, claimed_until = :lease "
          "WHERE id IN ({due}) "
          "RETURNING {returning}")
RETURNING = ("id, kind, payload, created_at, next_attempt_at, attempts, endpoint, subject, "
             "event_type, last_status")


def insert_item(c: Connection, item: OutboxItem) -> None:
    """Write ``item`` in ``c``'s transaction (the one that writes the token it carries)."""
    c.execute(insert(t).values(id=item.id, kind=item.kind, payload=item.payload,
                               created_at=item.created_at, next_attempt_at=item.next_attempt_at,
                               attempts=item.attempts, endpoint=item.endpoint,
                               subject=item.subject, event_type=item.event_type))


def item_from_row(row: Any) -> OutboxItem:
    """An ``OutboxItem`` from a row holding any subset of the outbox's columns."""
    m = row._mapping
    return OutboxItem(id=m["id"], kind=m["kind"],
                      payload=bytes(m["payload"]) if m["payload"] is not None else None,
                      created_at=m["created_at"], next_attempt_at=m["next_attempt_at"],
                      attempts=m["attempts"], delivered_at=m.get("delivered_at"),
                      failed_at=m.get("failed_at"), last_error=m.get("last_error"),
                      endpoint=m.get("endpoint"), subject=m.get("subject"),
                      event_type=m.get("event_type"), last_status=m.get("last_status"))


async def claim_rows(db: Database, due: str, params: dict[str, Any]) -> list[OutboxItem]:
    """Lease the rows ``due`` selects (``FOR UPDATE SKIP LOCKED`` on PostgreSQL), oldest first."""
    locking = " FOR UPDATE SKIP LOCKED" if db.dialect == "postgresql" else ""
    sql = text(_CLAIM.format(due=due + locking, returning=RETURNING))
    rows = await db.write(lambda c: c.execute(sql, params).all())
    return sorted((item_from_row(r) for r in rows), key=lambda i: (i.created_at, i.id))


async def finish(db: Database, item_id: str, claimer: str, **values: Any) -> None:
    """Update a row this claimer still holds: a taken-over lease is left to its new holder."""
    statement = update(t).where(t.c.id == item_id, t.c.claimed_by == claimer).values(**values)
    await db.write(lambda c: c.execute(statement))


class SqlOutbox(SqlRepository):
    async def claim(self, now: float, lease_until: float, limit: int, claimer: str
                    ) -> Sequence[OutboxItem]:
        params = {"now": now, "lease": lease_until, "limit": limit, "claimer": claimer}
        items = await claim_rows(self._db, _DUE, params)
        return sorted(items, key=lambda i: i.next_attempt_at)

    async def delivered(self, item_ids: Sequence[str], claimer: str, now: float) -> None:
        if not item_ids:
            return
        statement = (update(t).where(t.c.id.in_(list(item_ids)), t.c.claimed_by == claimer)
                     .values(delivered_at=now, payload=None, claimed_until=None, last_error=None))
        await self._db.write(lambda c: c.execute(statement))

    async def retry_at(self, item_id: str, claimer: str, at: float, error: str) -> None:
        await self._finish(item_id, claimer, next_attempt_at=at, attempts=t.c.attempts + 1,
                           claimed_until=None, last_error=error)

    async def give_up(self, item_id: str, claimer: str, now: float, error: str) -> None:
        await self._finish(item_id, claimer, failed_at=now, payload=None, attempts=t.c.attempts + 1,
                           claimed_until=None, last_error=error)

    async def pending_count(self) -> int:
        query = select(func.count()).select_from(t).where(t.c.delivered_at.is_(None),
                                                          t.c.failed_at.is_(None),
                                                          t.c.kind != "webhook")
        return int(await self._db.read(lambda c: c.execute(query).scalar_one()))

    async def prune_outbox(self, delivered_before: float, failed_before: float) -> int:
        statement = delete(t).where(t.c.kind != "webhook",  # kept for replay: webhooks.py
                                    or_(t.c.delivered_at < delivered_before,
                                        t.c.failed_at < failed_before))
        return await self._db.write(lambda c: int(c.execute(statement).rowcount))

    async def _finish(self, item_id: str, claimer: str, **values: Any) -> None:
        await finish(self._db, item_id, claimer, **values)
