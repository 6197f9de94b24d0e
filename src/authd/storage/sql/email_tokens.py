"""Email tokens, written with the outbox message that carries them in one transaction."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from authd.core.email_tokens import EmailToken, Purpose
from authd.core.models import AuditEvent, OutboxItem
from authd.errors import EmailTaken
from authd.storage.sql._base import SqlRepository
from authd.storage.sql.audit import SqlAudit
from authd.storage.sql.db import Database
from authd.storage.sql.outbox import insert_item
from authd.storage.sql.tables import email_tokens as t
from authd.storage.sql.tables import users


def _token(row: Any) -> EmailToken:
    data = dict(row._mapping)
    data["token_hash"] = bytes(data["token_hash"])
    if data["code_hash"] is not None:
        data["code_hash"] = bytes(data["code_hash"])
    return EmailToken(**data)


class SqlEmailTokens(SqlRepository):
    def __init__(self, db: Database, audit: SqlAudit) -> None:
        super().__init__(db)
        self._audit = audit

    async def issue(self, token: EmailToken | None, message: OutboxItem) -> None:
        def write(c: Connection) -> None:
            if token is not None:
                c.execute(insert(t).values(**{col.name: getattr(token, col.name) for col in t.c}))
            insert_item(c, message)
        await self._db.write(write)

    async def find(self, token_hash: bytes) -> EmailToken | None:
        query = select(t).where(t.c.token_hash == token_hash)
        row = await self._db.read(lambda c: c.execute(query).first())
        return _token(row) if row is not None else None

    async def consume(self, token_hash: bytes, purpose: str, now: float) -> EmailToken | None:
        mark = (update(t).where(t.c.token_hash == token_hash, t.c.purpose == purpose,
                                t.c.used_at.is_(None),
                                t.c.expires_at > now).values(used_at=now).returning(*t.c))

        def use(c: Connection) -> EmailToken | None:
            # The UPDATE's row lock (PostgreSQL) or the single writer (SQLite): one winner.
            row = c.execute(mark).first()
            if row is None:
                return None
            token = _token(row)
            if token.user_id is not None:  # a newer token used voids the older ones
                c.execute(update(t).where(t.c.user_id == token.user_id,
                                          t.c.purpose == token.purpose, t.c.used_at.is_(None))
                          .values(used_at=now))
            return token
        return await self._db.write(use)

    async def try_code(self, email: str, code_hash: bytes, now: float, max_attempts: int
                       ) -> EmailToken | None:
        newest = (select(t).where(t.c.email == email, t.c.purpose == Purpose.SIGN_IN.value,
                                  t.c.used_at.is_(None), t.c.expires_at > now)
                  .order_by(t.c.created_at.desc()).limit(1))

        def attempt(c: Connection) -> EmailToken | None:
            query = newest.with_for_update() if c.dialect.name == "postgresql" else newest
            row = c.execute(query).first()
            if row is None:
                return None
            token = _token(row)
            if token.code_hash is not None and _same(token.code_hash, code_hash):
                c.execute(update(t).where(t.c.email == email, t.c.purpose == token.purpose,
                                          t.c.used_at.is_(None)).values(used_at=now))
                return token
            misses = token.attempts + 1
            c.execute(update(t).where(t.c.token_hash == token.token_hash).values(
                attempts=misses, used_at=now if misses >= max_attempts else None))
            return None
        return await self._db.write(attempt)

    async def prune_tokens(self, expired_before: float) -> int:
        statement = delete(t).where(t.c.expires_at < expired_before)
        return await self._db.write(lambda c: int(c.execute(statement).rowcount))

    async def set_email(self, user_id: str, email: str, event: AuditEvent | None = None) -> None:
        statement = update(users).where(users.c.id == user_id).values(email=email,
                                                                      email_verified=True)

        def change(c: Connection) -> None:
            c.execute(statement)
            self._record(c, event)
        try:
            await self._db.write(change)
        except IntegrityError:
            raise EmailTaken() from None

    async def mark_verified(self, user_id: str, email: str, event: AuditEvent | None = None
                            ) -> bool:
        statement = (update(users).where(users.c.id == user_id, users.c.email == email)
                     .values(email_verified=True))

        def mark(c: Connection) -> bool:
            if c.execute(statement).rowcount != 1:
                return False
            self._record(c, event)
            return True
        return await self._db.write(mark)

    async def reset_password(self, user_id: str, password_hash: str, email: str, now: float,
                             event: AuditEvent | None = None) -> None:
        def reset(c: Connection) -> None:
            c.execute(update(users).where(users.c.id == user_id)
                      .values(password_hash=password_hash, password_changed_at=now))
            c.execute(update(users).where(users.c.id == user_id, users.c.email == email)
                      .values(email_verified=True))
            c.execute(update(t).where(t.c.user_id == user_id, t.c.purpose == Purpose.RESET.value,
                                      t.c.used_at.is_(None)).values(used_at=now))
            self._record(c, event)
        await self._db.write(reset)

    def _record(self, c: Connection, event: AuditEvent | None) -> None:
        """The change's audit event and its webhook rows, in the change's own transaction."""
        if event is not None:
            self._audit.write_in(c, event)

def _same(a: bytes, b: bytes) -> bool:
    import hmac

    return hmac.compare_digest(a, b)
