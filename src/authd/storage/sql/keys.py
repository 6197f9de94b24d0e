"""Signing keys (private halves encrypted by the core before they get here)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, insert, select, update

from authd.core.models import KeyRecord
from authd.storage.sql._base import SqlRepository, to_model
from authd.storage.sql.tables import signing_keys


class SqlKeys(SqlRepository):
    async def list_keys(self) -> Sequence[KeyRecord]:
        async with self._engine.connect() as conn:
            rows = (await conn.execute(select(signing_keys).order_by(signing_keys.c.created_at))).all()
        return [to_model(KeyRecord, row) for row in rows]

    async def add_key(self, key: KeyRecord) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(insert(signing_keys).values(
                kid=key.kid, alg=key.alg, state=key.state, public_jwk=key.public_jwk,
                private_jwk_enc=key.private_jwk_enc, created_at=key.created_at,
                activated_at=key.activated_at, retired_at=key.retired_at,
                publish_until=key.publish_until,
            ))

    async def save_key_states(self, keys: Sequence[KeyRecord]) -> None:
        async with self._engine.begin() as conn:
            for key in keys:
                await conn.execute(update(signing_keys).where(signing_keys.c.kid == key.kid).values(
                    state=key.state, activated_at=key.activated_at, retired_at=key.retired_at,
                    publish_until=key.publish_until,
                ))

    async def delete_keys(self, kids: Sequence[str]) -> None:
        if kids:
            async with self._engine.begin() as conn:
                await conn.execute(delete(signing_keys).where(signing_keys.c.kid.in_(kids)))
