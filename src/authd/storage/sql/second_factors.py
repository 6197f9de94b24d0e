"""TOTP factors, recovery codes and waiting second steps (mfa tokens).

Every check-and-use is one conditional UPDATE: of two requests with the same
code (or the same mfa_token), exactly one matches a row — PostgreSQL's row
lock or SQLite's single writer decides which.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson
from sqlalchemy import Connection, delete, func, insert, select, update

from authd.core.models import AuditEvent, MfaChallenge, RefreshFamily, TotpFactor
from authd.storage.sql._base import SqlRepository
from authd.storage.sql.audit import SqlAudit
from authd.storage.sql.db import Database, run
from authd.storage.sql.families import write_family
from authd.storage.sql.tables import mfa_tokens, recovery_codes, totp_factors

# The second step's hot path (see db.py): plain SQL, so that a login pays for neither
# statement construction nor SQLAlchemy's execution layer.
_TOTP_BY_USER = "SELECT * FROM totp_factors WHERE user_id = :user_id"
_CHALLENGE_BY_HASH = "SELECT * FROM mfa_tokens WHERE token_hash = :token_hash"
_COUNT_TRY = ("UPDATE mfa_tokens SET attempts = attempts + 1 WHERE token_hash = :hash"
              " AND used_at IS NULL AND expires_at > :now AND attempts < :max")
_ACCEPT_STEP = ("UPDATE totp_factors SET last_step = :step WHERE user_id = :user"
                " AND confirmed_at IS NOT NULL AND (last_step IS NULL OR last_step < :step)")
_FINISH = "UPDATE mfa_tokens SET used_at = :now WHERE token_hash = :hash AND used_at IS NULL"
# The second step's try and single use in one statement (a right code's path): undone by
# _UNUSE, in the same transaction, if the code's step turns out to be taken.
_TRY_AND_USE = ("UPDATE mfa_tokens SET attempts = attempts + 1, used_at = :now"
                " WHERE token_hash = :hash AND used_at IS NULL AND expires_at > :now"
                " AND attempts < :max")
_UNUSE = "UPDATE mfa_tokens SET used_at = NULL WHERE token_hash = :hash"

def _factor(row: Any) -> TotpFactor:
    data = row if isinstance(row, dict) else dict(row._mapping)
    return TotpFactor(**{**data, "secret_enc": bytes(data["secret_enc"])})


def _challenge(row: Any) -> MfaChallenge:
    data = row if isinstance(row, dict) else dict(row._mapping)
    return MfaChallenge(**{**data, "token_hash": bytes(data["token_hash"]),
                           "binding": orjson.loads(data["binding"])})


def _replace_codes(c: Connection, user_id: str, hashes: Sequence[bytes], now: float) -> None:
    c.execute(delete(recovery_codes).where(recovery_codes.c.user_id == user_id))
    if hashes:
        c.execute(insert(recovery_codes), [
            {"user_id": user_id, "code_hash": h, "created_at": now, "used_at": None}
            for h in hashes])


class SqlSecondFactors(SqlRepository):
    def __init__(self, db: Database, audit: SqlAudit) -> None:
        super().__init__(db)
        self._audit = audit

    async def put_pending_totp(self, factor: TotpFactor) -> bool:
        t = totp_factors

        def put(c: Connection) -> bool:
            current = c.execute(select(t.c.confirmed_at).where(t.c.user_id == factor.user_id)
                                ).first()
            if current is not None and current.confirmed_at is not None:
                return False
            c.execute(delete(t).where(t.c.user_id == factor.user_id))
            c.execute(insert(t).values(user_id=factor.user_id, secret_enc=factor.secret_enc,
                                       created_at=factor.created_at, confirmed_at=None,
                                       last_step=None))
            return True
        return await self._db.write(put)

    async def get_totp(self, user_id: str) -> TotpFactor | None:
        row = await self._db.fetch_one(_TOTP_BY_USER, {"user_id": user_id})
        return _factor(row) if row is not None else None

    async def confirm_totp(self, user_id: str, step: int, now: float,
                           recovery_hashes: Sequence[bytes], event: AuditEvent | None = None
                           ) -> bool:
        t = totp_factors
        mark = (update(t).where(t.c.user_id == user_id, t.c.confirmed_at.is_(None))
                .values(confirmed_at=now, last_step=step))

        def confirm(c: Connection) -> bool:
            if c.execute(mark).rowcount != 1:
                return False
            _replace_codes(c, user_id, recovery_hashes, now)
            if event is not None:  # with its webhook rows, in the change's transaction
                self._audit.write_in(c, event)
            return True
        return await self._db.write(confirm)

    async def accept_step(self, user_id: str, step: int) -> bool:
        return await self._db.execute(_ACCEPT_STEP, {"user": user_id, "step": step}) == 1

    async def delete_totp(self, user_id: str, event: AuditEvent | None = None) -> bool:
        def remove(c: Connection) -> bool:
            c.execute(delete(recovery_codes).where(recovery_codes.c.user_id == user_id))
            removed = c.execute(delete(totp_factors).where(totp_factors.c.user_id == user_id)
                                ).rowcount > 0
            if removed and event is not None:  # with its webhook rows, in the same transaction
                self._audit.write_in(c, event)
            return bool(removed)
        return await self._db.write(remove)

    async def replace_recovery_codes(self, user_id: str, hashes: Sequence[bytes],
                                     now: float) -> None:
        await self._db.write(lambda c: _replace_codes(c, user_id, hashes, now))

    async def use_recovery_code(self, user_id: str, code_hash: bytes, now: float) -> bool:
        r = recovery_codes
        statement = (update(r).where(r.c.user_id == user_id, r.c.code_hash == code_hash,
                                     r.c.used_at.is_(None)).values(used_at=now))
        return await self._db.write(lambda c: c.execute(statement).rowcount == 1)

    async def recovery_codes_left(self, user_id: str) -> int:
        r = recovery_codes
        query = select(func.count()).select_from(r).where(r.c.user_id == user_id,
                                                          r.c.used_at.is_(None))
        return int(await self._db.read(lambda c: c.execute(query).scalar_one()))

    async def add_challenge(self, challenge: MfaChallenge) -> None:
        statement = insert(mfa_tokens).values(
            token_hash=challenge.token_hash, user_id=challenge.user_id,
            binding=orjson.dumps(challenge.binding).decode(), created_at=challenge.created_at,
            expires_at=challenge.expires_at, attempts=challenge.attempts, used_at=None)
        await self._db.write(lambda c: c.execute(statement))

    async def count_attempt(self, token_hash: bytes, now: float, max_attempts: int
                            ) -> MfaChallenge | None:
        row = await self._db.write_one(_COUNT_TRY + " RETURNING *",
                                       {"hash": token_hash, "now": now, "max": max_attempts})
        return _challenge(row) if row is not None else None

    async def get_challenge(self, token_hash: bytes) -> MfaChallenge | None:
        row = await self._db.fetch_one(_CHALLENGE_BY_HASH, {"token_hash": token_hash})
        return _challenge(row) if row is not None else None

    async def redeem_with_step(self, token_hash: bytes, now: float, max_attempts: int,
                               user_id: str, step: int, family: RefreshFamily | None) -> bool:
        tried = {"hash": token_hash, "now": now, "max": max_attempts}
        stepped = {"user": user_id, "step": step}

        def redeem(c: Connection) -> bool:
            # One commit for the whole second step: the try, the step and the single use
            # (three statements on a right code: on SQLite each one hands the GIL back and
            # forth between the writer thread and the event loop).
            if run(c, _TRY_AND_USE, tried).rowcount != 1:
                return False
            if run(c, _ACCEPT_STEP, stepped).rowcount != 1:
                run(c, _UNUSE, {"hash": token_hash})  # a replayed code: only the try counts
                return False
            if family is not None:  # the login's family, in the same commit
                write_family(c, family)
            return True
        return await self._db.write(redeem)

    async def finish_challenge(self, token_hash: bytes, now: float) -> bool:
        return await self._db.execute(_FINISH, {"hash": token_hash, "now": now}) == 1

    async def prune_challenges(self, now: float) -> int:
        statement = delete(mfa_tokens).where(mfa_tokens.c.expires_at <= now)
        return await self._db.write(lambda c: int(c.execute(statement).rowcount))
