"""Passkeys: WebAuthn credentials, with the signature counter moved by compare-and-set."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import orjson
from sqlalchemy import Connection, delete, func, insert, select
from sqlalchemy.dialects import postgresql
from sqlalchemy.exc import IntegrityError

from authd.core.models import AuditEvent, Passkey, PasskeyUse, RefreshFamily, UsedChallenge
from authd.errors import Conflict
from authd.storage.sql._base import SqlRepository
from authd.storage.sql.audit import INSERT_EVENT, event_params
from authd.storage.sql.db import run
from authd.storage.sql.families import FAMILY_COLUMNS, family_params, write_family
from authd.storage.sql.tables import passkeys as t
from authd.storage.sql.tables import refresh_families

# On every passkey sign-in: the database's one-round-trip read path (see db.py).
_BY_CREDENTIAL = "SELECT * FROM passkeys WHERE credential_id = :credential_id"
_REDEEM = ("INSERT INTO pending_logins (key, record, expires_at) VALUES (:key, :record, :expires_at)"
           " ON CONFLICT DO NOTHING")  # a duplicate neither raises nor aborts the transaction
_MOVE = ("UPDATE passkeys SET sign_count = :new, last_used_at = :now"
         " WHERE id = :id AND sign_count = :expected")
# PostgreSQL: the redemption, the counter's compare-and-set, the audit row and a sign-in's
# refresh family in one statement (one round trip, one durable commit). The update waits for
# the redemption, so a replayed challenge moves nothing; a row lock taken by a racing use
# makes PostgreSQL re-check ``sign_count = :expected`` against the winner's row, so one
# counter value is used once; the family is written only if the counter moved.
_PG = postgresql.dialect()  # type: ignore[no-untyped-call]
_FAMILY_CASTS = ", ".join(f"CAST(:f_{c.name} AS {c.type.compile(dialect=_PG)})"
                          for c in refresh_families.c)
_USE_PG = (
    "WITH redeemed AS ("  # noqa: S608 (constants only)
    " INSERT INTO pending_logins (key, record, expires_at)"
    " VALUES (CAST(:key AS varchar), CAST(:record AS bytea), CAST(:expires_at AS double precision))"
    " ON CONFLICT DO NOTHING RETURNING 1), "
    "moved AS ("
    " UPDATE passkeys SET sign_count = CAST(:new AS bigint), last_used_at = CAST(:now AS double precision)"
    " WHERE id = CAST(:id AS varchar) AND sign_count = CAST(:expected AS bigint)"
    " AND EXISTS (SELECT 1 FROM redeemed) RETURNING 1), "
    "logged AS ("
    " INSERT INTO audit_events (at, event, user_id, ip, detail)"
    " SELECT CAST(:at AS double precision), CAST(:event AS varchar), CAST(:user_id AS varchar),"
    " CAST(:ip AS varchar), CAST(:detail AS json) FROM moved WHERE CAST(:log AS boolean)), "
    "made AS ("
    f" INSERT INTO refresh_families ({', '.join(FAMILY_COLUMNS)})"
    f" SELECT {_FAMILY_CASTS} FROM moved WHERE CAST(:with_family AS boolean)) "
    "SELECT (SELECT count(*) FROM redeemed) AS redeemed, (SELECT count(*) FROM moved) AS moved")


def _passkey(data: Mapping[str, Any]) -> Passkey:
    transports = data["transports"]
    if isinstance(transports, str | bytes):  # the raw drivers hand JSON back as text
        transports = orjson.loads(transports)
    return Passkey(**{**data, "credential_id": bytes(data["credential_id"]),
                      "public_key": bytes(data["public_key"]),
                      "transports": tuple(transports or ())})


class SqlPasskeys(SqlRepository):
    async def add_passkey(self, passkey: Passkey, challenge: UsedChallenge, event: AuditEvent
                          ) -> bool:
        values = {c.name: getattr(passkey, c.name) for c in t.c}
        values["transports"] = list(passkey.transports)

        def add(c: Connection) -> bool:
            if not _redeem(c, challenge):
                return False
            c.execute(insert(t).values(**values))
            _record(c, event)
            return True
        try:
            return await self._db.write(add)
        except IntegrityError:
            raise Conflict("this passkey is registered already") from None

    async def find_passkey(self, credential_id: bytes) -> Passkey | None:
        row = await self._db.fetch_one(_BY_CREDENTIAL, {"credential_id": credential_id})
        return _passkey(row) if row is not None else None

    async def list_passkeys(self, user_id: str) -> Sequence[Passkey]:
        query = select(t).where(t.c.user_id == user_id).order_by(t.c.created_at, t.c.id)
        rows = await self._db.read(lambda c: c.execute(query).all())
        return [_passkey(dict(row._mapping)) for row in rows]

    async def remove_passkey(self, user_id: str, passkey_id: str) -> bool:
        statement = delete(t).where(t.c.id == passkey_id, t.c.user_id == user_id)
        return await self._db.write(lambda c: c.execute(statement).rowcount == 1)

    async def remove_passkeys(self, user_id: str) -> int:
        statement = delete(t).where(t.c.user_id == user_id)
        return await self._db.write(lambda c: int(c.execute(statement).rowcount))

    async def count_passkeys(self, user_id: str) -> int:
        query = select(func.count()).select_from(t).where(t.c.user_id == user_id)
        return int(await self._db.read(lambda c: c.execute(query).scalar_one()))

    async def use_passkey(self, passkey_id: str, expected_count: int, new_count: int, now: float,
                          challenge: UsedChallenge, event: AuditEvent | None,
                          family: RefreshFamily | None = None) -> PasskeyUse:
        if self._db.dialect == "postgresql":
            return await self._use_pg(passkey_id, expected_count, new_count, now, challenge,
                                      event, family)
        # The single writer runs the statements as one transaction (one fsync), in plain SQL:
        # a passkey sign-in's whole durable write.
        moved = {"new": new_count, "now": now, "id": passkey_id, "expected": expected_count}

        def use(c: Connection) -> PasskeyUse:
            if not _redeem(c, challenge):
                return PasskeyUse.REPLAYED
            if run(c, _MOVE, moved).rowcount != 1:
                return PasskeyUse.COUNTER_MOVED  # the challenge stays redeemed: it was presented
            if event is not None:
                _record(c, event)
            if family is not None:
                write_family(c, family)
            return PasskeyUse.OK
        return await self._db.write(use)

    async def _use_pg(self, passkey_id: str, expected_count: int, new_count: int, now: float,
                      challenge: UsedChallenge, event: AuditEvent | None,
                      family: RefreshFamily | None) -> PasskeyUse:
        logged = event_params(event) if event is not None else dict.fromkeys(
            ("at", "event", "user_id", "ip", "detail"))
        made = (family_params(family) if family is not None
                else dict.fromkeys(FAMILY_COLUMNS))
        row = await self._db.write_one(_USE_PG, {
            "key": challenge.key, "record": b"", "expires_at": challenge.expires_at,
            "new": new_count, "now": now, "id": passkey_id, "expected": expected_count,
            "log": event is not None, **logged, "with_family": family is not None,
            **{f"f_{name}": value for name, value in made.items()}})
        if row is None or not row["redeemed"]:
            return PasskeyUse.REPLAYED
        return PasskeyUse.OK if row["moved"] else PasskeyUse.COUNTER_MOVED


def _redeem(c: Connection, challenge: UsedChallenge) -> bool:
    """Write the challenge down (pruned with the pending logins once expired); False if it is
    there already."""
    params = {"key": challenge.key, "record": b"", "expires_at": challenge.expires_at}
    return bool(run(c, _REDEEM, params).rowcount == 1)


def _record(c: Connection, event: AuditEvent) -> None:
    run(c, INSERT_EVENT, event_params(event))
