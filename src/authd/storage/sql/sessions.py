"""Cookie sessions in SQL (the default store; Redis is the other adapter)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, insert, select, update

from authd.core.models import CookieSession
from authd.storage.sql._base import SqlRepository, to_model
from authd.storage.sql.tables import cookie_sessions as t


class SqlCookieSessions(SqlRepository):
    async def create_session(self, session: CookieSession) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(insert(t).values(**{c.name: getattr(session, c.name) for c in t.c}))

    async def get_session_by_hash(self, token_hash: bytes) -> CookieSession | None:
        async with self._engine.connect() as conn:
            row = (await conn.execute(select(t).where(t.c.token_hash == token_hash))).first()
        return to_model(CookieSession, row) if row else None

    async def touch_session(self, session_id: str, now: float, idle_expires_at: float) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(update(t).where(t.c.id == session_id).values(
                last_used_at=now, idle_expires_at=idle_expires_at))

    async def delete_session(self, session_id: str) -> bool:
        async with self._engine.begin() as conn:
            result = await conn.execute(delete(t).where(t.c.id == session_id))
        return result.rowcount > 0

    async def list_sessions(self, user_id: str, now: float) -> Sequence[CookieSession]:
        query = (
            select(t)
            .where(t.c.user_id == user_id, t.c.idle_expires_at > now, t.c.absolute_expires_at > now)
            .order_by(t.c.created_at)
        )
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return [to_model(CookieSession, row) for row in rows]

    async def delete_user_sessions(self, user_id: str, except_id: str | None = None) -> Sequence[str]:
        condition = t.c.user_id == user_id
        if except_id is not None:
            condition = condition & (t.c.id != except_id)
        async with self._engine.begin() as conn:
            ids = (await conn.execute(select(t.c.id).where(condition))).scalars().all()
            await conn.execute(delete(t).where(condition))
        return list(ids)
