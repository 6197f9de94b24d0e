"""The passkey store and migration 0007 over real SQLite and PostgreSQL: one credential id per
passkey, removal only by the owner, the counter's compare-and-set, cascade with the user."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect, text

from authd.core.models import AuditEvent, Passkey, PasskeyUse, UsedChallenge, User
from authd.errors import Conflict
from authd.storage.sql import SqlStore, open_database
from authd.storage.sql.db import Database
from tests.storage.migrations import downgrade_to, run_on, upgrade_to

NOW = 1_700_000_000.0


def _passkey(pid: str, user_id: str = "u1", credential_id: bytes = b"c1", **extra: object) -> Passkey:
    fields: dict[str, object] = {
        "id": pid, "user_id": user_id, "credential_id": credential_id, "public_key": b"\xa5cose",
        "sign_count": 0, "transports": ("internal", "hybrid"), "name": "laptop",
        "created_at": NOW, **extra}
    return Passkey(**fields)  # type: ignore[arg-type]


def _challenge(n: int = 1) -> UsedChallenge:
    return UsedChallenge(f"webauthn:challenge-{n}", NOW + 300)


def _event(name: str = "passkey.added") -> AuditEvent:
    return AuditEvent(NOW, name, "u1", "203.0.113.9", {"passkey": "p1"})


async def _add(store: SqlStore, passkey: Passkey, n: int | None = None) -> bool:
    """Add with a challenge of its own (number ``n``, default: derived from the passkey id)."""
    return await store.passkeys.add_passkey(passkey, _challenge(n if n is not None else hash(passkey.id)),
                                            _event())


async def _store(db: Database, *user_ids: str) -> SqlStore:
    store = SqlStore.over(db)
    for uid in user_ids:
        await store.users.create_user(User(uid, f"{uid}@example.com", False, None, None, False, NOW))
    return store


async def test_passkeys_round_trip_and_a_credential_id_is_registered_once(
        migrated_db: Database) -> None:
    """What is stored comes back as it was (the largest 32-bit counter included), listed oldest
    first; the same credential id a second time is a Conflict, whoever registers it."""
    store = await _store(migrated_db, "u1", "u2")
    first = _passkey("p1", sign_count=2**32 - 1)
    await _add(store, first)
    assert await _add(store, _passkey("p2", credential_id=b"c2", created_at=NOW + 1))
    assert await store.passkeys.find_passkey(b"c1") == first
    assert [p.id for p in await store.passkeys.list_passkeys("u1")] == ["p1", "p2"]
    with pytest.raises(Conflict):
        await _add(store, _passkey("p3", user_id="u2"))
    assert await store.passkeys.count_passkeys("u2") == 0
    assert not await _add(store, _passkey("p4", credential_id=b"c4"), hash("p2"))  # its challenge
    assert await store.passkeys.find_passkey(b"c4") is None
    added = await store.audit.list_events(user_id="u1", event="passkey.added", limit=10)
    assert len(added) == 2


async def test_a_passkey_is_removed_only_by_its_owner(migrated_db: Database) -> None:
    """Another user's id removes nothing; removing all counts what went; a deleted user's
    passkeys go with them."""
    store = await _store(migrated_db, "u1", "u2")
    await _add(store, _passkey("p1"))
    await _add(store, _passkey("p2", credential_id=b"c2"))
    assert not await store.passkeys.remove_passkey("u2", "p1")
    assert await store.passkeys.remove_passkey("u1", "p1")
    assert await store.passkeys.remove_passkeys("u1") == 1
    await _add(store, _passkey("p3", user_id="u2", credential_id=b"c3"))
    await migrated_db.write(lambda c: c.execute(text("DELETE FROM users WHERE id = 'u2'")))
    assert await store.passkeys.find_passkey(b"c3") is None


async def test_a_use_redeems_its_challenge_and_moves_the_counter_by_compare_and_set(
        migrated_db: Database) -> None:
    """A use moves the counter only from the value it read (a second use from the same value,
    a clone racing the original, is refused), redeems its challenge once, and writes its audit
    row in the same transaction."""
    store = await _store(migrated_db, "u1")
    await _add(store, _passkey("p1", sign_count=4), 0)
    use = store.passkeys.use_passkey
    assert await use("p1", 4, 5, NOW + 10, _challenge(1), _event("login.passkey")) is PasskeyUse.OK
    assert await use("p1", 5, 6, NOW + 11, _challenge(1), _event("login.passkey")) is PasskeyUse.REPLAYED
    assert await use("p1", 4, 6, NOW + 11, _challenge(2), None) is PasskeyUse.COUNTER_MOVED
    found = await store.passkeys.find_passkey(b"c1")
    assert found is not None and (found.sign_count, found.last_used_at) == (5, NOW + 10)
    assert len(await store.audit.list_events(user_id="u1", event="login.passkey", limit=10)) == 1



async def test_migration_0007_upgrades_and_downgrades(sql_url: str) -> None:
    """Upgrading adds the passkeys table to an existing database; downgrading removes it again."""
    db = open_database(sql_url)
    try:
        await run_on(db, upgrade_to("0005"))
        await run_on(db, upgrade_to("0007"))
        store = await _store(db, "u1")
        assert await _add(store, _passkey("p1"))
        await run_on(db, downgrade_to("0005"))
        tables = await run_on(db, lambda c: inspect(c).get_table_names())
        assert "passkeys" not in tables and "users" in tables
    finally:
        await db.dispose()
