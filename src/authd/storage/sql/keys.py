"""Signing keys (private halves encrypted by the core before they get here)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Connection

from authd.core.models import KeyRecord
from authd.storage.sql._base import SqlRepository, to_model
from authd.storage.sql.tables import signing_keys as t


class SqlKeys(SqlRepository):
    async def list_keys(self) -> Sequence[KeyRecord]:
        query = select(t).order_by(t.c.created_at)
        rows = await self._db.read(lambda c: c.execute(query).all())
        return [to_model(KeyRecord, row) for row in rows]

    async def add_key(self, key: KeyRecord) -> None:
        statement = insert(t).values(**{c.name: getattr(key, c.name) for c in t.c})
        await self._db.write(lambda c: c.execute(statement))

    async def save_key_states(self, keys: Sequence[KeyRecord]) -> None:
        def save(conn: Connection) -> None:
            for key in keys:
                conn.execute(update(t).where(t.c.kid == key.kid).values(
                    state=key.state, activated_at=key.activated_at, retired_at=key.retired_at,
                    publish_until=key.publish_until))
        await self._db.write(save)

    async def delete_keys(self, kids: Sequence[str]) -> None:
        if kids:
            statement = delete(t).where(t.c.kid.in_(kids))
            await self._db.write(lambda c: c.execute(statement))
