"""The single-use record of client assertions over SQLite and PostgreSQL.

A signed client assertion is a bearer credential for its few minutes of life:
whoever copies it off the wire could present it again. What a client relies
on: each (client, jti) is accepted once until the assertion expires, even when
instances race for it, and expired entries are pruned.
"""

from __future__ import annotations

import asyncio

from authd.core.client_assertions import VerifiedAssertion
from authd.core.models import AuditEvent
from authd.storage.sql.audit import SqlAudit
from authd.storage.sql.client_assertions import SqlClientAssertions
from authd.storage.sql.db import Database

NOW = 1_700_000_000.0


def _key(client_id: str, jti: str) -> bytes:
    return VerifiedAssertion(client_id, jti, NOW + 60).replay_key


async def test_a_jti_is_accepted_once_until_it_expires(migrated_db: Database) -> None:
    """The second use of a live assertion is refused; another client's same jti is its own."""
    store = SqlClientAssertions(migrated_db)
    assert await store.first_use(_key("robot", "j1"), NOW + 60, NOW) is True
    assert await store.first_use(_key("robot", "j1"), NOW + 60, NOW + 1) is False
    assert await store.first_use(_key("other-robot", "j1"), NOW + 60, NOW) is True
    # Once the first assertion has expired the jti may be recorded again (its exp refuses
    # the old one anyway): the table never has to be pruned for correctness.
    assert await store.first_use(_key("robot", "j1"), NOW + 200, NOW + 61) is True
    assert await store.first_use(_key("robot", "j1"), NOW + 200, NOW + 62) is False


async def test_concurrent_uses_of_one_jti_have_exactly_one_winner(migrated_db: Database) -> None:
    """Ten requests presenting one assertion at once: exactly one is first."""
    stores = [SqlClientAssertions(migrated_db) for _ in range(10)]
    key = _key("robot", "raced")
    results = await asyncio.gather(*(s.first_use(key, NOW + 60, NOW) for s in stores))
    assert sorted(results) == [False] * 9 + [True]


async def test_pruning_drops_only_expired_entries(migrated_db: Database) -> None:
    """Pruning forgets what has expired and keeps live entries single-use."""
    store = SqlClientAssertions(migrated_db)
    await store.first_use(_key("robot", "old"), NOW + 10, NOW)
    await store.first_use(_key("robot", "live"), NOW + 100, NOW)
    assert await store.prune(NOW + 50) == 1
    assert await store.first_use(_key("robot", "live"), NOW + 100, NOW + 51) is False


async def test_a_first_use_records_its_audit_event_in_the_same_commit(
        migrated_db: Database) -> None:
    """The success's audit row is written with a first use, and never with a refused replay."""
    store = SqlClientAssertions(migrated_db)
    audit = SqlAudit(migrated_db)
    event = AuditEvent(NOW, "token.client_credentials", None, "203.0.113.1", {"outcome": "ok"})
    assert await store.first_use(_key("robot", "audited"), NOW + 60, NOW, event) is True
    assert await store.first_use(_key("robot", "audited"), NOW + 60, NOW, event) is False
    events = await audit.list_events(user_id=None, event="token.client_credentials", limit=10)
    assert len(events) == 1
