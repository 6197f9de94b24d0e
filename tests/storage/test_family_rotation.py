"""Refresh rotation in one commit (``FamilyStore.rotate``), over real SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from authd.clock import FixedClock
from authd.config import Settings
from authd.core import audit
from authd.core.ids import new_id
from authd.core.models import AuditEvent, ClientInfo, RefreshFamily, User
from authd.errors import InvalidGrant, InvalidScope
from authd.storage.sql import SqlStore
from authd.storage.sql.db import Database
from authd.wiring import Services, build_services

NOW = 1_700_000_000.0
WHO = ClientInfo(ip="203.0.113.9", user_agent="test")


@pytest.fixture
def store(migrated_db: Database) -> SqlStore:
    """A real SQL store (SQLite and PostgreSQL) for the rotation statements."""
    return SqlStore.over(migrated_db)


async def _family(store: SqlStore, *, disabled: bool = False) -> RefreshFamily:
    user = User(id=new_id(), email=f"{new_id()}@example.com", email_verified=False, name=None,
                password_hash=None, disabled=disabled, created_at=NOW)
    await store.users.create_user(user)
    family = RefreshFamily(id=new_id(), user_id=user.id, client_id="authd", scope="openid",
                           audience="api", generation=0, rotated_at=NOW, created_at=NOW,
                           last_used_at=NOW, idle_expires_at=NOW + 100,
                           absolute_expires_at=NOW + 1000)
    await store.families.create_family(family)
    return family


def _event(family: RefreshFamily) -> AuditEvent:
    return AuditEvent(NOW + 1, audit.REFRESH, family.user_id, "203.0.113.9", {"sid": family.id})


async def _refreshed(store: SqlStore, family: RefreshFamily) -> list[AuditEvent]:
    return list(await store.audit.list_events(user_id=family.user_id, event=audit.REFRESH,
                                              limit=10))


async def test_a_won_rotation_moves_on_and_records_its_event(store: SqlStore) -> None:
    """The generation, expiry and audit row change together; the owner comes back."""
    family = await _family(store)
    rotated = await store.families.rotate(family.id, 0, NOW + 1, NOW + 101, _event(family))
    assert rotated is not None and rotated.user is not None
    assert rotated.user.id == family.user_id and rotated.user.disabled is False
    after = await store.families.get_family(family.id)
    assert after is not None
    assert (after.generation, after.rotated_at, after.idle_expires_at) == (1, NOW + 1, NOW + 101)
    assert await _refreshed(store, family) == [_event(family)]


async def test_a_lost_or_dead_rotation_changes_nothing(store: SqlStore) -> None:
    """A stale generation or a revoked family is not rotated, and nothing is audited."""
    family = await _family(store)
    assert await store.families.rotate(family.id, 1, NOW + 1, NOW + 101, _event(family)) is None
    assert await store.families.rotate("unknown", 0, NOW + 1, NOW + 101, _event(family)) is None
    await store.families.revoke_family(family.id, NOW, "revoked")
    assert await store.families.rotate(family.id, 0, NOW + 1, NOW + 101, _event(family)) is None
    after = await store.families.get_family(family.id)
    assert after is not None and after.generation == 0
    assert await _refreshed(store, family) == []


async def test_a_disabled_owner_is_reported_and_not_audited(store: SqlStore) -> None:
    """The rotation happens (the caller revokes the family next) but records no refresh."""
    family = await _family(store, disabled=True)
    rotated = await store.families.rotate(family.id, 0, NOW + 1, NOW + 101, _event(family))
    assert rotated is not None and rotated.user is not None and rotated.user.disabled
    assert await _refreshed(store, family) == []


async def test_of_concurrent_rotations_exactly_one_wins_and_is_audited(store: SqlStore) -> None:
    """The compare-and-set holds inside the combined statement too."""
    family = await _family(store)
    results = await asyncio.gather(*(
        store.families.rotate(family.id, 0, NOW + 1, NOW + 101, _event(family))
        for _ in range(8)))
    assert sum(r is not None for r in results) == 1
    assert len(await _refreshed(store, family)) == 1


async def test_write_one_commits_before_it_returns_its_row(store: SqlStore) -> None:
    """The hot-path ``UPDATE ... RETURNING`` is durable when it answers, on both engines."""
    family = await _family(store)
    row = await store.db.write_one(
        "UPDATE refresh_families SET scope = :scope WHERE id = :id RETURNING scope",
        {"scope": "openid email", "id": family.id})
    assert row == {"scope": "openid email"}
    after = await store.families.get_family(family.id)
    assert after is not None and after.scope == "openid email"
    assert await store.db.write_one(
        "UPDATE refresh_families SET scope = :scope WHERE id = :id RETURNING scope",
        {"scope": "x", "id": "unknown"}) is None


# -- through the token service ---------------------------------------------------------


@pytest.fixture(params=["sqlite", "postgres"])
async def services(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Services]:
    """The real services over SQLite and PostgreSQL, with a clock the test moves."""
    database_url = request.getfixturevalue("fresh_pg_url") if request.param == "postgres" else None
    svc = await build_services(Settings(data_dir=tmp_path, database_url=database_url),
                               FixedClock(NOW))
    try:
        yield svc
    finally:
        await svc.close()


async def _login(svc: Services) -> tuple[User, str]:
    user = User(id=new_id(), email=f"{new_id()}@example.com", email_verified=False, name=None,
                password_hash=None, disabled=False, created_at=NOW)
    await svc.store.users.create_user(user)
    pair = await svc.tokens.start_family(user, svc.settings.default_client_id, "openid", "api",
                                         WHO, amr=["pwd"])
    return user, pair.refresh_token


async def _count(svc: Services, user: User) -> int:
    return len(await svc.store.audit.list_events(user_id=user.id, event=audit.REFRESH, limit=10))


async def test_each_refresh_is_audited_once(services: Services) -> None:
    """A rotation and a grace-window replay each leave one refresh row, as before."""
    svc = services
    user, token = await _login(svc)
    client_id = svc.settings.default_client_id
    await svc.tokens.refresh(token, client_id, None, WHO)
    assert await _count(svc, user) == 1
    await svc.tokens.refresh(token, client_id, None, WHO)  # the parent, within grace
    assert await _count(svc, user) == 2


async def test_a_refused_scope_does_not_use_the_token_up(services: Services) -> None:
    """invalid_scope leaves the family as it was (no rotation, no audit row): the client retries."""
    svc = services
    user, token = await _login(svc)
    client_id = svc.settings.default_client_id
    with pytest.raises(InvalidScope):
        await svc.tokens.refresh(token, client_id, "admin", WHO)
    assert await _count(svc, user) == 0
    family = await svc.store.families.get_family(token.split(".")[0])
    assert family is not None and family.generation == 0 and family.revoked_at is None
    assert (await svc.tokens.refresh(token, client_id, None, WHO)).refresh_token != token
    assert await _count(svc, user) == 1


async def test_a_replayed_token_with_a_bad_scope_is_still_theft(services: Services) -> None:
    """A replayed refresh token is theft even when the replay asks for a scope it may not have."""
    svc = services
    _, token = await _login(svc)
    client_id = svc.settings.default_client_id
    await svc.tokens.refresh(token, client_id, None, WHO)
    assert isinstance(svc.clock, FixedClock)
    svc.clock.advance(svc.settings.refresh_reuse_grace + 1)
    with pytest.raises(InvalidGrant):
        await svc.tokens.refresh(token, client_id, "admin", WHO)
    family = await svc.store.families.get_family(token.split(".")[0])
    assert family is not None and family.revoked_reason == "reuse_detected"


async def test_a_disabled_user_loses_the_family(services: Services) -> None:
    """The user is read with the rotation; a disabled one's family is revoked, unaudited."""
    svc = services
    user, token = await _login(svc)
    await svc.store.users.set_disabled(user.id, True)
    with pytest.raises(InvalidGrant):
        await svc.tokens.refresh(token, svc.settings.default_client_id, None, WHO)
    family = await svc.store.families.get_family(token.split(".")[0])
    assert family is not None and family.revoked_reason == "user_disabled"
    assert await _count(svc, user) == 0


async def test_a_respelled_token_is_invalid_and_not_a_reuse(services: Services) -> None:
    """A zero-padded generation is refused before the family is looked at: no reuse event,
    no revocation, and the holder of the real token carries on."""
    svc = services
    user, token = await _login(svc)
    client_id = svc.settings.default_client_id
    current = (await svc.tokens.refresh(token, client_id, None, WHO)).refresh_token
    assert isinstance(svc.clock, FixedClock)
    svc.clock.advance(svc.settings.refresh_reuse_grace + 1)
    family_id, _, mac = token.split(".")
    with pytest.raises(InvalidGrant):
        await svc.tokens.refresh(f"{family_id}.000.{mac}", client_id, None, WHO)
    family = await svc.store.families.get_family(family_id)
    assert family is not None and family.revoked_at is None
    assert await svc.store.audit.list_events(user_id=user.id, event=audit.REUSE_DETECTED,
                                             limit=10) == []
    assert (await svc.tokens.refresh(current, client_id, None, WHO)).refresh_token
