"""auth_time in every store: kept by touches and rotations, renewed only by a re-login.

The same contract for the cookie-session stores (SQL on SQLite and PostgreSQL,
and Redis) and for refresh families (SQLite and PostgreSQL). What users rely
on: a refresh or a busy session never makes an old login look recent, and
``POST /v1/reauth`` is remembered.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from authd.core import audit
from authd.core.ids import new_id
from authd.core.models import AuditEvent, RefreshFamily, User
from authd.core.ports import CookieSessionStore
from authd.storage.sql import SqlStore
from authd.storage.sql.db import Database
from tests.storage.test_session_store_contract import NOW, _session
from tests.storage.test_session_store_contract import store as session_store  # noqa: F401

LOGIN = NOW - 3000


async def test_a_session_keeps_its_auth_time_until_a_re_login(
        session_store: tuple[CookieSessionStore, list[str]]) -> None:  # noqa: F811
    """Touches keep the login time; renew_auth_time replaces it; a gone session says False."""
    sessions, users = session_store
    session = replace(_session(users[0], created=NOW)[1], auth_time=NOW)
    await sessions.create_session(session)
    found = await sessions.get_session_by_hash(session.token_hash)
    assert found is not None and found.auth_time == NOW
    await sessions.touch_session(session.id, NOW + 120, NOW + 1800)
    touched = await sessions.get_session_by_hash(session.token_hash)
    assert touched is not None and touched.auth_time == NOW and touched.last_used_at == NOW + 120
    assert await sessions.renew_auth_time(session.id, NOW + 500, ["pwd"])
    renewed = await sessions.get_session_by_hash(session.token_hash)
    assert renewed is not None and renewed.auth_time == NOW + 500
    assert renewed.idle_expires_at == touched.idle_expires_at  # a re-login extends nothing
    await sessions.delete_session(session.id)
    assert not await sessions.renew_auth_time(session.id, NOW + 600, ["pwd"])


@pytest.fixture
def sql(migrated_db: Database) -> SqlStore:
    """A migrated SQL store on SQLite and on PostgreSQL."""
    return SqlStore.over(migrated_db)


async def _family(store: SqlStore) -> RefreshFamily:
    user = User(id=new_id(), email=f"{new_id()}@example.com", email_verified=False, name=None,
                password_hash=None, disabled=False, created_at=NOW)
    await store.users.create_user(user)
    family = RefreshFamily(id=new_id(), user_id=user.id, client_id="authd", scope="openid",
                           audience="api", generation=0, rotated_at=LOGIN, created_at=LOGIN,
                           last_used_at=LOGIN, idle_expires_at=NOW + 100,
                           absolute_expires_at=NOW + 1000, auth_time=LOGIN)
    await store.families.create_family(family)
    return family


async def test_a_family_keeps_its_auth_time_through_rotations(sql: SqlStore) -> None:
    """A refresh (even by a thief) leaves auth_time at the login; a re-login renews it."""
    family = await _family(sql)
    event = AuditEvent(NOW, audit.REFRESH, family.user_id, None, {"sid": family.id})
    assert await sql.families.rotate(family.id, 0, NOW, NOW + 100, event) is not None
    rotated = await sql.families.get_family(family.id)
    assert rotated is not None and rotated.generation == 1 and rotated.auth_time == LOGIN
    assert await sql.families.renew_auth_time(family.id, NOW, ["pwd"])
    renewed = await sql.families.get_family(family.id)
    assert renewed is not None and renewed.auth_time == NOW


async def test_a_revoked_family_cannot_be_renewed(sql: SqlStore) -> None:
    """Re-login on an ended family changes nothing: the caller must log in afresh."""
    family = await _family(sql)
    assert await sql.families.revoke_family(family.id, NOW, "logout")
    assert not await sql.families.renew_auth_time(family.id, NOW, ["pwd"])
    assert not await sql.families.renew_auth_time(new_id(), NOW, ["pwd"])
