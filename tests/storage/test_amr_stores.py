"""amr in every store: recorded at login, replaced by a re-login, empty for old rows.

The cookie-session stores (SQL on SQLite and PostgreSQL, and Redis) and
refresh families (SQLite and PostgreSQL). What users rely on: the session
list and tokens say how a login was made, and sessions from before authd
recorded it still load (as "no methods known") instead of failing.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy import update

from authd.core.ports import CookieSessionStore
from authd.storage.sql import SqlStore
from authd.storage.sql.db import Database
from authd.storage.sql.tables import refresh_families
from tests.storage.test_auth_time_stores import _family
from tests.storage.test_session_store_contract import NOW, _session
from tests.storage.test_session_store_contract import store as session_store  # noqa: F401


async def test_a_session_keeps_its_amr_until_a_re_login(
        session_store: tuple[CookieSessionStore, list[str]]) -> None:  # noqa: F811
    """The login's methods come back on read and in the list; a re-login replaces them."""
    sessions, users = session_store
    session = replace(_session(users[0], created=NOW)[1], auth_time=NOW, amr=("pwd", "otp", "mfa"))
    await sessions.create_session(session)
    found = await sessions.get_session_by_hash(session.token_hash)
    assert found is not None and found.amr == ("pwd", "otp", "mfa") and found.auth_time == NOW
    listed = await sessions.list_sessions(users[0], NOW)
    assert [s.amr for s in listed] == [("pwd", "otp", "mfa")]
    assert await sessions.renew_auth_time(session.id, NOW + 5, ["pwd"])
    renewed = await sessions.get_session_by_hash(session.token_hash)
    assert renewed is not None and renewed.amr == ("pwd",) and renewed.auth_time == NOW + 5


async def test_a_session_without_amr_reads_as_none_known(
        session_store: tuple[CookieSessionStore, list[str]]) -> None:  # noqa: F811
    """A session written without methods (as before they were recorded) reads as ()."""
    sessions, users = session_store
    session = _session(users[0], created=NOW)[1]
    await sessions.create_session(session)
    found = await sessions.get_session_by_hash(session.token_hash)
    assert found is not None and found.amr == ()


@pytest.fixture
def sql(migrated_db: Database) -> SqlStore:
    """A migrated SQL store on SQLite and on PostgreSQL."""
    return SqlStore.over(migrated_db)


async def test_a_family_records_amr_and_old_rows_read_empty(sql: SqlStore,
                                                            migrated_db: Database) -> None:
    """A family's amr round-trips, a re-login replaces it, a NULL column reads as ()."""
    family = await _family(sql)
    assert await sql.families.renew_auth_time(family.id, NOW, ["email", "otp", "mfa"])
    renewed = await sql.families.get_family(family.id)
    assert renewed is not None and renewed.amr == ("email", "otp", "mfa")
    listed = await sql.families.list_families(family.user_id, NOW)
    assert [f.amr for f in listed] == [("email", "otp", "mfa")]
    statement = update(refresh_families).where(refresh_families.c.id == family.id).values(amr=None)
    await migrated_db.write(lambda c: c.execute(statement))
    old = await sql.families.get_family(family.id)
    assert old is not None and old.amr == ()
