"""One-time codes (social login, token mode) and pending social logins."""

from __future__ import annotations

from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Connection

from authd.clock import Clock
from authd.storage.sql._base import SqlRepository
from authd.storage.sql.db import Database
from authd.storage.sql.tables import one_time_codes as codes
from authd.storage.sql.tables import pending_logins as pending


class SqlOneTimeCodes(SqlRepository):
    async def add_code(self, code_hash: bytes, user_id: str, client_id: str,
                       expires_at: float) -> None:
        statement = insert(codes).values(code_hash=code_hash, user_id=user_id,
                                         client_id=client_id, expires_at=expires_at)
        await self._db.write(lambda c: c.execute(statement))

    async def use_code(self, code_hash: bytes, now: float
                       ) -> tuple[str, str, str | None, bool] | None:
        def use(conn: Connection) -> tuple[str, str, str | None, bool] | None:
            row = conn.execute(select(codes).where(codes.c.code_hash == code_hash)).first()
            if row is None:
                return None
            first = conn.execute(update(codes).where(
                codes.c.code_hash == code_hash, codes.c.used_at.is_(None)).values(used_at=now)
            ).rowcount == 1
            if first and row.expires_at <= now:
                return None
            return row.user_id, row.client_id, row.family_id, first
        return await self._db.write(use)

    async def attach_family(self, code_hash: bytes, family_id: str) -> None:
        statement = update(codes).where(codes.c.code_hash == code_hash).values(family_id=family_id)
        await self._db.write(lambda c: c.execute(statement))


class SqlPendingLogins(SqlRepository):
    """Single-use records of social logins in flight (state, nonce, PKCE verifier)."""

    def __init__(self, db: Database, clock: Clock) -> None:
        super().__init__(db)
        self._clock = clock

    async def put(self, key: str, record: bytes, ttl: float) -> None:
        now = self._clock.now()

        def put(conn: Connection) -> None:
            conn.execute(delete(pending).where(pending.c.expires_at <= now))
            conn.execute(insert(pending).values(key=key, record=record, expires_at=now + ttl))
        await self._db.write(put)

    async def take(self, key: str) -> bytes | None:
        now = self._clock.now()

        def take(conn: Connection) -> bytes | None:
            row = conn.execute(select(pending).where(pending.c.key == key)).first()
            if row is None:
                return None
            deleted = conn.execute(delete(pending).where(pending.c.key == key)).rowcount
            return bytes(row.record) if deleted == 1 and row.expires_at > now else None
        return await self._db.write(take)
