"""Deleting an account at the storage edge, on SQLite and PostgreSQL: one transaction removes
every row tied to the user and keeps the audit trail under a pseudonym."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import Table, func, select

from authd.clock import FixedClock
from authd.config import Settings
from authd.core.email_tokens import EmailToken
from authd.core.mail import OutboxWriter
from authd.core.models import (
    AuditEvent,
    Identity,
    OneTimeCode,
    OutboxItem,
    RefreshFamily,
    User,
)
from authd.storage.sql import tables
from authd.wiring import Services, build_services

NOW = 1_700_000_000.0


@pytest.fixture(params=["sqlite", "postgres"])
async def services(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Services]:
    """authd's services on SQLite and PostgreSQL with a fixed clock."""
    database_url = request.getfixturevalue("fresh_pg_url") if request.param == "postgres" else None
    svc = await build_services(Settings(data_dir=tmp_path, database_url=database_url),
                               FixedClock(NOW))
    try:
        yield svc
    finally:
        await svc.close()


def _user(user_id: str, email: str) -> User:
    """A user with no password (rows only: nothing is hashed)."""
    return User(id=user_id, email=email, email_verified=True, name="Ada", password_hash=None,
                disabled=False, created_at=NOW)


def _family(family_id: str, user_id: str, *, revoked: bool = False) -> RefreshFamily:
    """A refresh family of ``user_id``, live unless ``revoked``."""
    return RefreshFamily(id=family_id, user_id=user_id, client_id="authd", scope="openid",
                         audience="x", generation=0, rotated_at=NOW, created_at=NOW,
                         last_used_at=NOW, idle_expires_at=NOW + 60,
                         absolute_expires_at=NOW + 3600, revoked_at=NOW if revoked else None)


async def _count(svc: Services, table: Table, user_id: str) -> int:
    """Rows of ``table`` naming ``user_id``."""
    column = table.c.user_id
    query = select(func.count()).select_from(table).where(column == user_id)
    return int(await svc.store.db.read(lambda c: c.execute(query).scalar() or 0))


async def test_erase_removes_every_row_and_pseudonymises_the_trail(services: Services) -> None:
    """Identities, families, codes and email tokens (by user and by address) go; audit rows stay
    under the pseudonym without their IP; the live families' ids are answered for the feed;
    another user's rows are untouched."""
    store = services.store
    await store.users.create_user(_user("u1", "ada@example.com"))
    await store.users.create_user(_user("u2", "bob@example.com"))
    await store.identities.add_identity(Identity("github", "42", "u1", "ada@example.com", NOW))
    await store.families.create_family(_family("live", "u1"))
    await store.families.create_family(_family("ended", "u1", revoked=True))
    await store.families.create_family(_family("bobs", "u2"))
    await store.codes.add_code(OneTimeCode(hashlib.sha256(b"c").digest(), "u1", "authd", NOW + 60,
                                           family_id="f"))
    for secret, user_id in ((b"t1", "u1"), (b"t2", None)):  # the second names only the address
        await store.email_tokens.issue(EmailToken(hashlib.sha256(secret).digest(), "sign_in",
                                                  "ada@example.com", user_id, NOW, NOW + 60),
                                       _noop(services))
    await store.audit.record(AuditEvent(NOW, "login.ok", "u1", "203.0.113.9", {"sid": "live"}))
    await store.audit.record(AuditEvent(NOW, "login.ok", "u2", "203.0.113.7", None))

    live = await store.erasure.erase_user("u1", "del_x", NOW)

    assert live == ["live"]
    assert await store.users.get_user("u1") is None
    for table in (tables.identities, tables.refresh_families, tables.one_time_codes,
                  tables.email_tokens, tables.audit_events):
        assert await _count(services, table, "u1") == 0, table.name
    by_address = select(func.count()).select_from(tables.email_tokens).where(
        tables.email_tokens.c.email == "ada@example.com")
    assert await store.db.read(lambda c: c.execute(by_address).scalar()) == 0
    kept = await store.audit.list_events(user_id="del_x", event=None, limit=10)
    assert [(e.event, e.ip, e.detail) for e in kept] == [("login.ok", None, {"sid": "live"})]
    assert await store.users.get_user("u2") is not None
    assert await _count(services, tables.refresh_families, "u2") == 1
    assert await store.erasure.erase_user("u1", "del_x", NOW) is None


def _noop(services: Services) -> OutboxItem:
    """An outbox row that sends nothing (an email token is always written with one)."""
    return OutboxWriter(services.secrets, services.clock).item(None)
