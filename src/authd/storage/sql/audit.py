"""The audit trail of security events, queryable by admins (``authd audit``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson
from sqlalchemy import Connection, delete, insert, select

from authd.core.models import AuditEvent
from authd.core.webhooks import WebhookEvents
from authd.storage.sql._base import SqlRepository
from authd.storage.sql.db import Database
from authd.storage.sql.outbox import insert_item
from authd.storage.sql.tables import audit_events as t
from authd.storage.sql.tables import users

INSERT_EVENT = ("INSERT INTO audit_events (at, event, user_id, ip, detail) "
                "VALUES (:at, :event, :user_id, :ip, :detail)")


def event_params(event: AuditEvent) -> dict[str, Any]:
    """The parameters of ``INSERT_EVENT``."""
    detail = orjson.dumps(event.detail).decode() if event.detail is not None else None
    return {"at": event.at, "event": event.event, "user_id": event.user_id, "ip": event.ip,
            "detail": detail}


class SqlAudit(SqlRepository):
    """Audit rows, and the webhook outbox rows of the events endpoints subscribe to.

    Both are written in one transaction (``write_in``), by ``record`` or by a store
    that records the event with the change it reports (sign-up: ``SqlUsers``).
    """

    def __init__(self, db: Database) -> None:
        super().__init__(db)
        self._webhooks: WebhookEvents | None = None

    def attach(self, webhooks: WebhookEvents) -> None:
        """From now on, events that map to a subscribed webhook type write its rows too."""
        self._webhooks = webhooks

    async def record(self, event: AuditEvent) -> None:
        if self._webhooks is not None and self._webhooks.wants(event.event):
            await self._db.write(lambda c: self.write_in(c, event))
            return
        # On every login: the database's one-round-trip path (see db.py). A refresh
        # writes its row with the rotation instead (families.py).
        await self._db.execute(INSERT_EVENT, event_params(event))

    def write_in(self, c: Connection, event: AuditEvent) -> None:
        """Record ``event`` and its webhook rows in ``c``'s transaction."""
        c.execute(insert(t).values(at=event.at, event=event.event, user_id=event.user_id,
                                   ip=event.ip, detail=event.detail))
        hooks = self._webhooks
        if hooks is None or not hooks.wants(event.event):
            return
        email = None
        if event.user_id is not None:
            email = c.execute(select(users.c.email).where(users.c.id == event.user_id)).scalar()
        for item in hooks.items(event, email):
            insert_item(c, item)

    async def list_events(self, *, user_id: str | None, event: str | None, limit: int
                          ) -> Sequence[AuditEvent]:
        query = select(t.c.at, t.c.event, t.c.user_id, t.c.ip, t.c.detail)
        if user_id is not None:
            query = query.where(t.c.user_id == user_id)
        if event is not None:
            query = query.where(t.c.event == event)
        final = query.order_by(t.c.seq.desc()).limit(limit)
        rows = await self._db.read(lambda c: c.execute(final).all())
        return [AuditEvent(r.at, r.event, r.user_id, r.ip, r.detail) for r in rows]

    async def page_events(self, *, user_id: str | None, event: str | None, since: float | None,
                          before_seq: int | None, limit: int) -> Sequence[tuple[int, AuditEvent]]:
        query = select(t.c.seq, t.c.at, t.c.event, t.c.user_id, t.c.ip, t.c.detail)
        if user_id is not None:
            query = query.where(t.c.user_id == user_id)
        if event is not None:
            query = query.where(t.c.event == event)
        if since is not None:
            query = query.where(t.c.at >= since)
        if before_seq is not None:
            query = query.where(t.c.seq < before_seq)
        final = query.order_by(t.c.seq.desc()).limit(limit)
        rows = await self._db.read(lambda c: c.execute(final).all())
        return [(r.seq, AuditEvent(r.at, r.event, r.user_id, r.ip, r.detail)) for r in rows]

    async def prune_events(self, before: float, limit: int) -> int:
        oldest = select(t.c.seq).where(t.c.at < before).order_by(t.c.at).limit(limit)
        statement = delete(t).where(t.c.seq.in_(oldest.scalar_subquery()))
        return await self._db.write(lambda c: int(c.execute(statement).rowcount))
