"""The single-use record of client assertions: one row per (client, jti) until it expires."""

from __future__ import annotations

from sqlalchemy import Connection, delete, text

from authd.core.models import AuditEvent
from authd.storage.sql._base import SqlRepository
from authd.storage.sql.audit import INSERT_EVENT, event_params
from authd.storage.sql.tables import client_assertions

# One statement, atomic on both engines: a new key is inserted; a known key is taken
# over only if its assertion has expired. The row count says whether this use is first.
_FIRST_USE = (
    "INSERT INTO client_assertions (key_hash, expires_at) VALUES (:key_hash, :expires_at) "
    "ON CONFLICT (key_hash) DO UPDATE SET expires_at = excluded.expires_at "
    "WHERE client_assertions.expires_at <= :now")


class SqlClientAssertions(SqlRepository):
    async def first_use(self, key: bytes, expires_at: float, now: float,
                        event: AuditEvent | None = None) -> bool:
        params = {"key_hash": key, "expires_at": expires_at, "now": now}
        if event is None:
            return await self._db.execute(_FIRST_USE, params) == 1

        def use(c: Connection) -> bool:  # the jti and the success's audit row: one commit
            if c.execute(text(_FIRST_USE), params).rowcount != 1:
                return False
            c.execute(text(INSERT_EVENT), event_params(event))
            return True
        return await self._db.write(use)

    async def prune(self, now: float) -> int:
        statement = delete(client_assertions).where(client_assertions.c.expires_at <= now)
        return await self._db.write(lambda c: int(c.execute(statement).rowcount))
