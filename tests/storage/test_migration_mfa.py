"""Migration 0006 (second factors): sessions and token families from before it keep working with
no recorded amr, one-time codes from before it read as social logins' (amr fed), and the
second-factor tables work; over real SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib

from sqlalchemy import Connection, text

from authd.core.models import OneTimeCode, TotpFactor
from authd.storage.sql import SqlStore, open_database
from tests.storage.migrations import CREATED, insert_old_user, run_on, upgrade_to


def _old_rows(connection: Connection) -> None:
    insert_old_user(connection)
    connection.execute(text(
        "INSERT INTO refresh_families (id, user_id, client_id, scope, audience, generation, "
        "rotated_at, created_at, last_used_at, idle_expires_at, absolute_expires_at, auth_time) "
        "VALUES ('f1', 'u1', 'authd', 'openid', 'api', 0, :t, :t, :t, :e, :e, :t)"),
        {"t": CREATED, "e": CREATED + 1000})


async def test_families_from_before_0006_read_with_no_amr(sql_url: str) -> None:
    """An upgraded server reads its old families (amr empty, auth_time kept) and can enrol TOTP."""
    db = open_database(sql_url)
    try:
        await run_on(db, upgrade_to("0005"))
        await run_on(db, _old_rows)
        await run_on(db, upgrade_to("head"))
        store = SqlStore.over(db)
        family = await store.families.get_family("f1")
        assert family is not None and family.amr == () and family.auth_time == CREATED
        assert await store.second_factors.put_pending_totp(TotpFactor("u1", b"sealed", CREATED))
        assert await store.second_factors.recovery_codes_left("u1") == 0
    finally:
        await db.dispose()


async def test_a_one_time_code_from_before_0006_reads_as_a_social_login(sql_url: str) -> None:
    """A code issued before the upgrade (always a social login's) reads with amr ["fed"], so
    its exchange still meets the second step; a new code keeps the amr it was given."""
    old_hash, new_hash = hashlib.sha256(b"old").digest(), hashlib.sha256(b"new").digest()

    def old_code(connection: Connection) -> None:
        _old_rows(connection)
        connection.execute(text(
            "INSERT INTO one_time_codes (code_hash, user_id, client_id, expires_at, family_id) "
            "VALUES (:h, 'u1', 'authd', :e, 'fam1')"), {"h": old_hash, "e": CREATED + 60})
    db = open_database(sql_url)
    try:
        await run_on(db, upgrade_to("0005"))
        await run_on(db, old_code)
        await run_on(db, upgrade_to("head"))
        store = SqlStore.over(db)
        found, first = await store.codes.use_code(old_hash, CREATED)
        assert first and found is not None and found.amr == ("fed",)
        await store.codes.add_code(OneTimeCode(new_hash, "u1", "authd", CREATED + 60, "fam2",
                                               amr=("pwd", "otp", "mfa")))
        found, _ = await store.codes.use_code(new_hash, CREATED)
        assert found is not None and found.amr == ("pwd", "otp", "mfa")
    finally:
        await db.dispose()
