"""Users and their social-login identities."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from authd.core.models import User
from authd.errors import Conflict, EmailTaken
from authd.storage.sql._base import SqlRepository, to_model
from authd.storage.sql.tables import identities, users


class SqlUsers(SqlRepository):
    async def create_user(self, user: User) -> None:
        try:
            async with self._engine.begin() as conn:
                await conn.execute(insert(users).values(**_user_values(user)))
        except IntegrityError:
            raise EmailTaken() from None

    async def get_user(self, user_id: str) -> User | None:
        async with self._engine.connect() as conn:
            row = (await conn.execute(select(users).where(users.c.id == user_id))).first()
        return to_model(User, row) if row else None

    async def find_user_by_email(self, email: str) -> User | None:
        async with self._engine.connect() as conn:
            row = (await conn.execute(select(users).where(users.c.email == email))).first()
        return to_model(User, row) if row else None

    async def set_password_hash(self, user_id: str, password_hash: str, changed_at: float | None) -> None:
        values: dict[str, object] = {"password_hash": password_hash}
        if changed_at is not None:
            values["password_changed_at"] = changed_at
        async with self._engine.begin() as conn:
            await conn.execute(update(users).where(users.c.id == user_id).values(**values))

    async def set_disabled(self, user_id: str, disabled: bool) -> bool:
        async with self._engine.begin() as conn:
            result = await conn.execute(
                update(users).where(users.c.id == user_id).values(disabled=disabled)
            )
        return result.rowcount > 0

    async def list_users(self, limit: int, offset: int) -> Sequence[User]:
        query = select(users).order_by(users.c.created_at, users.c.id).limit(limit).offset(offset)
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return [to_model(User, row) for row in rows]

    async def find_identity(self, provider: str, subject: str) -> str | None:
        query = select(identities.c.user_id).where(
            identities.c.provider == provider, identities.c.subject == subject
        )
        async with self._engine.connect() as conn:
            return (await conn.execute(query)).scalar_one_or_none()

    async def link_identity(self, provider: str, subject: str, user_id: str, email: str | None,
                            now: float) -> None:
        try:
            async with self._engine.begin() as conn:
                await conn.execute(insert(identities).values(
                    provider=provider, subject=subject, user_id=user_id, email=email, created_at=now
                ))
        except IntegrityError:
            raise Conflict("this identity is already linked") from None


def _user_values(user: User) -> dict[str, object]:
    return {
        "id": user.id, "email": user.email, "email_verified": user.email_verified,
        "name": user.name, "password_hash": user.password_hash, "disabled": user.disabled,
        "created_at": user.created_at, "password_changed_at": user.password_changed_at,
    }
