"""Cookie sessions in SQL (the default store; Redis is the other adapter)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Connection

from authd.core.models import CookieSession
from authd.storage.sql import amr
from authd.storage.sql._base import SqlRepository
from authd.storage.sql.tables import cookie_sessions as t

_BY_HASH = "SELECT * FROM cookie_sessions WHERE token_hash = :hash"  # hot path: see db.py


class SqlCookieSessions(SqlRepository):
    async def create_session(self, session: CookieSession) -> None:
        values = {c.name: getattr(session, c.name) for c in t.c}
        statement = insert(t).values(**{**values, "amr": amr.encode(session.amr)})
        await self._db.write(lambda c: c.execute(statement))

    async def get_session_by_hash(self, token_hash: bytes) -> CookieSession | None:
        row = await self._db.fetch_one(_BY_HASH, {"hash": token_hash})
        if row is None:
            return None
        return CookieSession(**{**amr.from_row(row), "token_hash": bytes(row["token_hash"])})

    async def touch_session(self, session_id: str, now: float, idle_expires_at: float) -> None:
        statement = update(t).where(t.c.id == session_id).values(
            last_used_at=now, idle_expires_at=idle_expires_at)
        await self._db.write(lambda c: c.execute(statement))

    async def renew_auth_time(self, session_id: str, auth_time: float,
                              methods: Sequence[str]) -> bool:
        statement = update(t).where(t.c.id == session_id).values(
            auth_time=auth_time, amr=amr.encode(methods))
        return await self._db.write(lambda c: c.execute(statement).rowcount == 1)

    async def delete_session(self, session_id: str) -> bool:
        statement = delete(t).where(t.c.id == session_id)
        return await self._db.write(lambda c: c.execute(statement).rowcount > 0)

    async def list_sessions(self, user_id: str, now: float) -> Sequence[CookieSession]:
        query = (select(t)
                 .where(t.c.user_id == user_id, t.c.idle_expires_at > now,
                        t.c.absolute_expires_at > now)
                 .order_by(t.c.created_at))
        rows = await self._db.read(lambda c: c.execute(query).all())
        return [CookieSession(**{**amr.from_row(row._asdict()),
                                 "token_hash": bytes(row.token_hash)}) for row in rows]

    async def delete_user_sessions(self, user_id: str, except_id: str | None = None
                                   ) -> Sequence[str]:
        condition = t.c.user_id == user_id
        if except_id is not None:
            condition = condition & (t.c.id != except_id)

        def end(conn: Connection) -> list[str]:
            ids = list(conn.execute(select(t.c.id).where(condition)).scalars().all())
            conn.execute(delete(t).where(condition))
            return ids
        return await self._db.write(end)
