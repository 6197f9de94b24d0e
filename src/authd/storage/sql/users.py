"""Users and their social-login identities."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import ColumnElement, Connection, func, insert, or_, select, tuple_, update
from sqlalchemy.exc import IntegrityError

from authd.core.models import AuditEvent, User
from authd.errors import EmailTaken
from authd.storage.sql._base import SqlRepository, to_model
from authd.storage.sql.audit import SqlAudit
from authd.storage.sql.db import Database
from authd.storage.sql.tables import users

# Hot-path reads are plain SQL run by the database's fastest path (see db.py).
_BY_ID = "SELECT * FROM users WHERE id = :id"
_BY_EMAIL = "SELECT * FROM users WHERE email = :email"


class SqlUsers(SqlRepository):
    def __init__(self, db: Database, audit: SqlAudit) -> None:
        super().__init__(db)
        self._audit = audit

    async def create_user(self, user: User, event: AuditEvent | None = None) -> None:
        statement = insert(users).values(**{c.name: getattr(user, c.name) for c in users.c})

        def create(c: Connection) -> None:
            c.execute(statement)
            if event is not None:  # the sign-up, its audit row and its webhooks: one commit
                self._audit.write_in(c, event)
        try:
            await self._db.write(create)
        except IntegrityError:
            raise EmailTaken() from None

    async def get_user(self, user_id: str) -> User | None:
        return user_from_row(await self._db.fetch_one(_BY_ID, {"id": user_id}))

    async def find_user_by_email(self, email: str) -> User | None:
        return user_from_row(await self._db.fetch_one(_BY_EMAIL, {"email": email}))

    async def set_password_hash(self, user_id: str, password_hash: str,
                                changed_at: float | None, event: AuditEvent | None = None) -> None:
        values: dict[str, object] = {"password_hash": password_hash}
        if changed_at is not None:
            values["password_changed_at"] = changed_at
        statement = update(users).where(users.c.id == user_id).values(**values)

        def change(c: Connection) -> None:
            c.execute(statement)
            if event is not None:
                self._audit.write_in(c, event)
        await self._db.write(change)

    async def set_disabled(self, user_id: str, disabled: bool) -> bool:
        statement = update(users).where(users.c.id == user_id).values(disabled=disabled)
        return await self._db.write(lambda c: c.execute(statement).rowcount > 0)

    async def list_users(self, limit: int, offset: int) -> Sequence[User]:
        query = select(users).order_by(users.c.created_at, users.c.id).limit(limit).offset(offset)
        rows = await self._db.read(lambda c: c.execute(query).all())
        return [to_model(User, row) for row in rows]

    async def search_users(self, prefix: str | None, after: tuple[float, str] | None,
                           limit: int) -> Sequence[User]:
        query = select(users)
        if prefix:
            query = query.where(_starts_with(prefix))
        if after is not None:
            query = query.where(tuple_(users.c.created_at, users.c.id) > tuple_(*after))
        final = query.order_by(users.c.created_at, users.c.id).limit(limit)
        rows = await self._db.read(lambda c: c.execute(final).mappings().all())
        return [u for u in (user_from_row(dict(r)) for r in rows) if u is not None]

    async def update_user(self, user_id: str, changes: Mapping[str, object],
                          events: Sequence[AuditEvent] = ()) -> User | None:
        statement = update(users).where(users.c.id == user_id).values(**changes)

        def change(c: Connection) -> bool:
            if c.execute(statement).rowcount == 0:
                return False
            for event in events:  # with their webhook rows, in the change's transaction
                self._audit.write_in(c, event)
            return True
        try:
            updated = await self._db.write(change)
        except IntegrityError:
            raise EmailTaken() from None
        return await self.get_user(user_id) if updated else None


def _starts_with(prefix: str) -> ColumnElement[bool]:
    """Email or name starting with ``prefix`` (already lower-cased): both are served by a
    ``text_pattern_ops`` index on PostgreSQL (migration 0008); emails are stored lower-case."""
    pattern = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    return or_(users.c.email.like(pattern, escape="\\"),
               func.lower(users.c.name).like(pattern, escape="\\"))


def user_from_row(row: dict[str, Any] | None) -> User | None:
    if row is None:
        return None
    # SQLite hands booleans back as 0/1.
    return User(**{**row, "email_verified": bool(row["email_verified"]),
                   "disabled": bool(row["disabled"])})
