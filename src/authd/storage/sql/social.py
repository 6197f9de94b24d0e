"""Social login's tables: identities, one-time codes and pending logins."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from authd.core.amr import FEDERATED
from authd.core.models import Identity, OneTimeCode, User
from authd.errors import Conflict, EmailTaken
from authd.storage.sql import amr
from authd.storage.sql._base import SqlRepository, to_model
from authd.storage.sql.tables import identities, one_time_codes, pending_logins, users


class SqlIdentities(SqlRepository):
    async def find_identity(self, provider: str, subject: str) -> Identity | None:
        query = select(identities).where(identities.c.provider == provider,
                                         identities.c.subject == subject)
        row = await self._db.read(lambda c: c.execute(query).first())
        return to_model(Identity, row) if row else None

    async def create_user_with_identity(self, user: User, identity: Identity) -> None:
        def create(c: Connection) -> None:
            c.execute(insert(users).values(**{col.name: getattr(user, col.name) for col in users.c}))
            c.execute(insert(identities).values(**_identity_row(identity)))
        try:
            await self._db.write(create)
        except IntegrityError as exc:
            raise (EmailTaken() if "email" in str(exc.orig).lower() else Conflict()) from None

    async def add_identity(self, identity: Identity) -> None:
        statement = insert(identities).values(**_identity_row(identity))
        try:
            await self._db.write(lambda c: c.execute(statement))
        except IntegrityError:
            raise Conflict("this identity is linked already") from None

    async def list_identities(self, user_id: str) -> list[Identity]:
        query = (select(identities).where(identities.c.user_id == user_id)
                 .order_by(identities.c.created_at, identities.c.provider))
        rows = await self._db.read(lambda c: c.execute(query).all())
        return [to_model(Identity, row) for row in rows]

    async def remove_identity(self, user_id: str, provider: str) -> bool:
        def remove(c: Connection) -> bool:
            # Lock the user row so two concurrent unlinks cannot both see "another way remains".
            has_password = c.execute(
                select(users.c.password_hash.isnot(None)).where(users.c.id == user_id)
                .with_for_update()).scalar()
            linked = c.execute(select(identities.c.provider)
                               .where(identities.c.user_id == user_id)).scalars().all()
            if provider not in linked:
                return False
            if not has_password and len(linked) == 1:
                raise Conflict("this is the account's only way to sign in; link another first")
            c.execute(delete(identities).where(identities.c.user_id == user_id,
                                               identities.c.provider == provider))
            return True
        return await self._db.write(remove)


def _identity_row(identity: Identity) -> dict[str, object]:
    return {c.name: getattr(identity, c.name) for c in identities.c}


def _code_of(row: dict[str, Any]) -> OneTimeCode:
    """A stored code; a NULL ``amr`` (a code issued before the column) is a social login's."""
    return OneTimeCode(**{**row, "amr": amr.decode(row.get("amr")) or (FEDERATED,)})


class SqlOneTimeCodes(SqlRepository):
    async def add_code(self, code: OneTimeCode) -> None:
        values = {c.name: getattr(code, c.name) for c in one_time_codes.c}
        statement = insert(one_time_codes).values(**{**values, "amr": amr.encode(code.amr)})
        await self._db.write(lambda c: c.execute(statement))

    async def use_code(self, code_hash: bytes, now: float) -> tuple[OneTimeCode | None, bool]:
        mark = (update(one_time_codes)
                .where(one_time_codes.c.code_hash == code_hash, one_time_codes.c.used_at.is_(None))
                .values(used_at=now))
        query = select(one_time_codes).where(one_time_codes.c.code_hash == code_hash)

        def use(c: Connection) -> tuple[OneTimeCode | None, bool]:
            # The UPDATE's row lock (PostgreSQL) or the single writer (SQLite) makes
            # exactly one of N concurrent exchanges see its first use.
            first = c.execute(mark).rowcount == 1
            row = c.execute(query).first()
            return (_code_of(row._asdict()) if row else None), first
        return await self._db.write(use)

    async def prune_codes(self, now: float) -> int:
        # Used codes are kept a while past expiry so a late replay still revokes.
        statement = delete(one_time_codes).where(one_time_codes.c.expires_at < now - 86_400)
        return await self._db.write(lambda c: c.execute(statement).rowcount)


class SqlPendingLogins(SqlRepository):
    async def put_pending(self, key: str, record: bytes, expires_at: float) -> None:
        statement = insert(pending_logins).values(key=key, record=record, expires_at=expires_at)
        await self._db.write(lambda c: c.execute(statement))

    async def take_pending(self, key: str, now: float) -> bytes | None:
        statement = (delete(pending_logins)
                     .where(pending_logins.c.key == key, pending_logins.c.expires_at > now)
                     .returning(pending_logins.c.record))
        record = await self._db.write(lambda c: c.execute(statement).scalar())
        return bytes(record) if record is not None else None

    async def prune_pending(self, now: float) -> int:
        statement = delete(pending_logins).where(pending_logins.c.expires_at <= now)
        return await self._db.write(lambda c: c.execute(statement).rowcount)
