"""Webhook rows of the outbox: claimed per endpoint, in order per user, kept for replay.

The claim is the outbox's (``outbox.claim_rows``: a lease, ``FOR UPDATE SKIP
LOCKED`` on PostgreSQL, the single writer on SQLite) over a ``due`` query that
only offers a row when no earlier row of the same user to the same endpoint is
still undelivered. So a batch holds at most one row per user, rows of one user
go out one after the other, and instances polling at once never take one row
twice. Unlike mail, a delivered row keeps its sealed payload until it is pruned
(``webhook_delivery.retention``), so ``authd webhooks replay`` can send it again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import and_, bindparam, delete, func, or_, select, update

from authd.core.models import OutboxItem
from authd.storage.sql._base import SqlRepository
from authd.storage.sql.outbox import claim_rows, finish, item_from_row
from authd.storage.sql.tables import outbox as t

_DUE = ("SELECT o.id FROM outbox o WHERE o.kind = 'webhook' AND o.endpoint = :endpoint "
        "AND o.delivered_at IS NULL AND o.failed_at IS NULL AND o.next_attempt_at <= :now "
        "AND (o.claimed_until IS NULL OR o.claimed_until < :now) "
        "AND NOT EXISTS (SELECT 1 FROM outbox p WHERE p.endpoint = o.endpoint "
        "AND p.subject = o.subject AND p.delivered_at IS NULL AND p.failed_at IS NULL "
        "AND (p.created_at < o.created_at OR (p.created_at = o.created_at AND p.id < o.id))) "
        "ORDER BY o.created_at LIMIT :limit")
_WEBHOOK = t.c.kind == "webhook"
_OPEN = and_(t.c.delivered_at.is_(None), t.c.failed_at.is_(None))


class SqlWebhooks(SqlRepository):
    async def claim_webhooks(self, endpoint: str, now: float, lease_until: float, limit: int,
                             claimer: str) -> Sequence[OutboxItem]:
        return await claim_rows(self._db, _DUE, {"endpoint": endpoint, "now": now,
                                                 "lease": lease_until, "limit": limit,
                                                 "claimer": claimer})

    async def webhooks_delivered(self, done: Sequence[tuple[str, int]], claimer: str,
                                 now: float) -> None:
        if not done:
            return
        statement = (update(t).where(t.c.id == bindparam("item_id"), t.c.claimed_by == claimer)
                     .values(delivered_at=now, last_status=bindparam("status"),
                             attempts=t.c.attempts + 1, claimed_until=None, last_error=None))
        params = [{"item_id": item_id, "status": status} for item_id, status in done]
        await self._db.write(lambda c: c.execute(statement, params))

    async def webhook_retry(self, item_id: str, claimer: str, at: float, status: int | None,
                            error: str) -> None:
        await finish(self._db, item_id, claimer, next_attempt_at=at, last_status=status,
                     attempts=t.c.attempts + 1, claimed_until=None, last_error=error)

    async def webhook_given_up(self, item_id: str, claimer: str, now: float, status: int | None,
                               error: str) -> None:
        await finish(self._db, item_id, claimer, failed_at=now, last_status=status,
                     attempts=t.c.attempts + 1, claimed_until=None, last_error=error)

    async def list_webhooks(self, endpoint: str | None, status: str | None,
                            before: tuple[float, str] | None, limit: int) -> Sequence[OutboxItem]:
        query = select(t).where(_WEBHOOK)
        if endpoint is not None:
            query = query.where(t.c.endpoint == endpoint)
        if status == "pending":
            query = query.where(_OPEN)
        elif status == "delivered":
            query = query.where(t.c.delivered_at.is_not(None))
        elif status == "failed":
            query = query.where(t.c.failed_at.is_not(None))
        if before is not None:
            at, item_id = before
            query = query.where(or_(t.c.created_at < at,
                                    and_(t.c.created_at == at, t.c.id < item_id)))
        final = query.order_by(t.c.created_at.desc(), t.c.id.desc()).limit(limit)
        rows = await self._db.read(lambda c: c.execute(final).all())
        return [item_from_row(r) for r in rows]

    async def replay_webhooks(self, since: float, now: float, endpoint: str | None,
                              event_type: str | None) -> int:
        where: list[Any] = [_WEBHOOK, t.c.created_at >= since, t.c.payload.is_not(None)]
        if endpoint is not None:
            where.append(t.c.endpoint == endpoint)
        if event_type is not None:
            where.append(t.c.event_type == event_type)
        statement = update(t).where(*where).values(
            delivered_at=None, failed_at=None, attempts=0, next_attempt_at=now,
            claimed_by=None, claimed_until=None, last_error=None, last_status=None)
        return await self._db.write(lambda c: int(c.execute(statement).rowcount))

    async def pending_webhooks(self) -> Mapping[str, int]:
        query = (select(t.c.endpoint, func.count()).where(_WEBHOOK, _OPEN)
                 .group_by(t.c.endpoint))
        rows = await self._db.read(lambda c: c.execute(query).all())
        return {str(endpoint): int(count) for endpoint, count in rows}

    async def prune_webhooks(self, done_before: float) -> int:
        statement = delete(t).where(_WEBHOOK, or_(t.c.delivered_at < done_before,
                                                  t.c.failed_at < done_before))
        return await self._db.write(lambda c: int(c.execute(statement).rowcount))
