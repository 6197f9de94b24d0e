"""The single-use record of client assertions: one row per (client, jti) until it expires."""

from __future__ import annotations

from sqlalchemy import delete

from authd.storage.sql._base import SqlRepository
from authd.storage.sql.tables import client_assertions

# One statement, atomic on both engines: a new key is inserted; a known key is taken
# over only if its assertion has expired. The row count says whether this use is first.
_FIRST_USE = (
    "INSERT INTO client_assertions (key_hash, expires_at) VALUES (:key_hash, :expires_at) "
    "ON CONFLICT (key_hash) DO UPDATE SET expires_at = excluded.expires_at "
    "WHERE client_assertions.expires_at <= :now")


class SqlClientAssertions(SqlRepository):
    async def first_use(self, key: bytes, expires_at: float, now: float) -> bool:
        count = await self._db.execute(_FIRST_USE, {"key_hash": key, "expires_at": expires_at,
                                                    "now": now})
        return count == 1

    async def prune(self, now: float) -> int:
        statement = delete(client_assertions).where(client_assertions.c.expires_at <= now)
        return await self._db.write(lambda c: int(c.execute(statement).rowcount))
