"""All SQL repositories over one database: what the server wires into the core."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text

from authd.storage.sql.audit import SqlAudit
from authd.storage.sql.client_assertions import SqlClientAssertions
from authd.storage.sql.db import Database
from authd.storage.sql.email_tokens import SqlEmailTokens
from authd.storage.sql.erasure import SqlErasure
from authd.storage.sql.families import SqlFamilies
from authd.storage.sql.keys import SqlKeys
from authd.storage.sql.outbox import SqlOutbox
from authd.storage.sql.passkeys import SqlPasskeys
from authd.storage.sql.revocations import SqlRevocations
from authd.storage.sql.second_factors import SqlSecondFactors
from authd.storage.sql.sessions import SqlCookieSessions
from authd.storage.sql.social import SqlIdentities, SqlOneTimeCodes, SqlPendingLogins
from authd.storage.sql.users import SqlUsers
from authd.storage.sql.webhooks import SqlWebhooks


@dataclass(frozen=True)
class SqlStore:
    db: Database
    users: SqlUsers
    keys: SqlKeys
    families: SqlFamilies
    sessions: SqlCookieSessions
    revocations: SqlRevocations
    audit: SqlAudit
    identities: SqlIdentities
    codes: SqlOneTimeCodes
    pending: SqlPendingLogins
    email_tokens: SqlEmailTokens
    outbox: SqlOutbox
    client_assertions: SqlClientAssertions
    erasure: SqlErasure
    webhooks: SqlWebhooks
    passkeys: SqlPasskeys
    second_factors: SqlSecondFactors

    @classmethod
    def over(cls, db: Database) -> SqlStore:
        audit = SqlAudit(db)
        return cls(db=db, users=SqlUsers(db, audit), keys=SqlKeys(db), families=SqlFamilies(db),
                   sessions=SqlCookieSessions(db), revocations=SqlRevocations(db),
                   audit=audit, identities=SqlIdentities(db), codes=SqlOneTimeCodes(db),
                   pending=SqlPendingLogins(db), email_tokens=SqlEmailTokens(db, audit),
                   outbox=SqlOutbox(db), client_assertions=SqlClientAssertions(db),
                   erasure=SqlErasure(db), webhooks=SqlWebhooks(db), passkeys=SqlPasskeys(db),
                   second_factors=SqlSecondFactors(db, audit))

    async def ping(self) -> None:
        await self.db.read(lambda c: c.execute(text("SELECT 1")).scalar())
