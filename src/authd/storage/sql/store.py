"""All SQL repositories over one engine: what the server wires into the core."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from authd.clock import Clock
from authd.storage.sql.audit import SqlAudit
from authd.storage.sql.codes import SqlOneTimeCodes, SqlPendingLogins
from authd.storage.sql.families import SqlFamilies
from authd.storage.sql.keys import SqlKeys
from authd.storage.sql.revocations import SqlRevocations
from authd.storage.sql.sessions import SqlCookieSessions
from authd.storage.sql.users import SqlUsers


@dataclass(frozen=True)
class SqlStore:
    engine: AsyncEngine
    users: SqlUsers
    keys: SqlKeys
    families: SqlFamilies
    sessions: SqlCookieSessions
    revocations: SqlRevocations
    audit: SqlAudit
    codes: SqlOneTimeCodes
    pending_logins: SqlPendingLogins

    @classmethod
    def over(cls, engine: AsyncEngine, clock: Clock) -> SqlStore:
        return cls(
            engine=engine, users=SqlUsers(engine), keys=SqlKeys(engine),
            families=SqlFamilies(engine), sessions=SqlCookieSessions(engine),
            revocations=SqlRevocations(engine), audit=SqlAudit(engine),
            codes=SqlOneTimeCodes(engine), pending_logins=SqlPendingLogins(engine, clock),
        )

    async def ping(self) -> None:
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
