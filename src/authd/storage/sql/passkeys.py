"""Passkeys: WebAuthn credentials, with the signature counter moved by compare-and-set."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from authd.core.models import Passkey
from authd.errors import Conflict
from authd.storage.sql._base import SqlRepository
from authd.storage.sql.tables import passkeys as t


def _passkey(row: Any) -> Passkey:
    data = dict(row._mapping)
    return Passkey(**{**data, "credential_id": bytes(data["credential_id"]),
                      "public_key": bytes(data["public_key"]),
                      "transports": tuple(data["transports"] or ())})


class SqlPasskeys(SqlRepository):
    async def add_passkey(self, passkey: Passkey) -> None:
        values = {c.name: getattr(passkey, c.name) for c in t.c}
        values["transports"] = list(passkey.transports)
        try:
            await self._db.write(lambda c: c.execute(insert(t).values(**values)))
        except IntegrityError:
            raise Conflict("this passkey is registered already") from None

    async def find_passkey(self, credential_id: bytes) -> Passkey | None:
        query = select(t).where(t.c.credential_id == credential_id)
        row = await self._db.read(lambda c: c.execute(query).first())
        return _passkey(row) if row is not None else None

    async def list_passkeys(self, user_id: str) -> Sequence[Passkey]:
        query = select(t).where(t.c.user_id == user_id).order_by(t.c.created_at, t.c.id)
        rows = await self._db.read(lambda c: c.execute(query).all())
        return [_passkey(row) for row in rows]

    async def remove_passkey(self, user_id: str, passkey_id: str) -> bool:
        statement = delete(t).where(t.c.id == passkey_id, t.c.user_id == user_id)
        return await self._db.write(lambda c: c.execute(statement).rowcount == 1)

    async def remove_passkeys(self, user_id: str) -> int:
        statement = delete(t).where(t.c.user_id == user_id)
        return await self._db.write(lambda c: int(c.execute(statement).rowcount))

    async def count_passkeys(self, user_id: str) -> int:
        query = select(func.count()).select_from(t).where(t.c.user_id == user_id)
        return int(await self._db.read(lambda c: c.execute(query).scalar_one()))

    async def record_use(self, passkey_id: str, expected_count: int, new_count: int,
                         now: float) -> bool:
        # The UPDATE's row lock (PostgreSQL) or the single writer (SQLite): one winner per value.
        statement = (update(t).where(t.c.id == passkey_id, t.c.sign_count == expected_count)
                     .values(sign_count=new_count, last_used_at=now))
        return await self._db.write(lambda c: c.execute(statement).rowcount == 1)
