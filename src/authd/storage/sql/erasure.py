"""Deleting an account: every row about the user in one transaction, the audit trail kept
under a pseudonym.

Foreign keys to ``users.id`` cascade (identities, sessions, families, codes,
email tokens and any table added later with ``ondelete="CASCADE"``); rows
that name the user only by address (a sign-in code sent before the account
existed) are deleted explicitly. The audit trail has no foreign key: its rows
are rewritten to the pseudonym in the same transaction, so a crash can never
leave the user gone and their id still in the trail. The rows' addresses are
dropped too: an IP address is personal data, the event and its time are not.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, delete, select, update

from authd.storage.sql._base import SqlRepository
from authd.storage.sql.tables import audit_events, email_tokens, refresh_families, users


class SqlErasure(SqlRepository):
    async def erase_user(self, user_id: str, pseudonym: str, now: float) -> Sequence[str] | None:
        def erase(c: Connection) -> list[str] | None:
            email = c.execute(select(users.c.email).where(users.c.id == user_id)
                              .with_for_update()).scalar()
            if email is None:
                return None
            live = c.execute(select(refresh_families.c.id).where(
                refresh_families.c.user_id == user_id, refresh_families.c.revoked_at.is_(None),
                refresh_families.c.absolute_expires_at > now)).scalars().all()
            c.execute(delete(email_tokens).where(email_tokens.c.email == email))
            c.execute(update(audit_events).where(audit_events.c.user_id == user_id)
                      .values(user_id=pseudonym, ip=None))
            c.execute(delete(users).where(users.c.id == user_id))
            return list(live)
        return await self._db.write(erase)
