"""Audit trail retention: old events are pruned by the injected clock, recent ones kept."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from authd.clock import FixedClock
from authd.config import Settings
from authd.core import audit
from authd.core.audit import DAY, Auditor
from authd.core.models import ClientInfo
from authd.wiring import Services, build_services

NOW = 1_700_000_000.0
WHO = ClientInfo(ip="203.0.113.9", user_agent="test")


@pytest.fixture(params=["sqlite", "postgres"])
async def services(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Services]:
    """authd's services on SQLite and PostgreSQL with a 30-day audit retention and a fixed clock."""
    database_url = request.getfixturevalue("fresh_pg_url") if request.param == "postgres" else None
    svc = await build_services(Settings(data_dir=tmp_path, database_url=database_url,
                                        audit_retention_days=30), FixedClock(NOW))
    try:
        yield svc
    finally:
        await svc.close()


async def _record_at(svc: Services, clock: FixedClock, ages_in_days: list[float]) -> None:
    """One login event per age, each recorded when the clock read that long before NOW."""
    auditor = Auditor(svc.store.audit, clock)
    for age in ages_in_days:
        clock.set(NOW - age * DAY)
        await auditor(audit.LOGIN_OK, user_id=f"age-{age}", client=WHO)
    clock.set(NOW)


async def _kept(svc: Services) -> list[str | None]:
    events = await svc.store.audit.list_events(user_id=None, event=audit.LOGIN_OK, limit=100)
    return sorted(e.user_id or "" for e in events)


async def test_events_older_than_the_retention_are_pruned(services: Services) -> None:
    """With `audit_retention_days = 30` the background prune drops events recorded more than
    30 days before now (by the injected clock) and keeps everything more recent, so the
    trail cannot grow without bound."""
    clock = services.clock
    assert isinstance(clock, FixedClock)
    await _record_at(services, clock, [400, 31, 30.5, 29, 1])
    assert await services.prune_audit() == 3
    assert await _kept(services) == ["age-1", "age-29"]
    assert await services.prune_audit() == 0


async def test_pruning_goes_in_batches_until_nothing_old_is_left(services: Services) -> None:
    """A first prune of a large trail deletes in short batches and still removes every old
    event in one call."""
    clock = services.clock
    assert isinstance(clock, FixedClock)
    await _record_at(services, clock, [90, 80, 70, 60, 50, 2])
    assert await services.auditor.prune(30, batch=2) == 5
    assert await _kept(services) == ["age-2"]


async def test_zero_retention_keeps_every_event(services: Services) -> None:
    """`audit_retention_days = 0` means keep forever: nothing is pruned, however old."""
    clock = services.clock
    assert isinstance(clock, FixedClock)
    await _record_at(services, clock, [10_000, 400, 1])
    assert await services.auditor.prune(0) == 0
    assert len(await _kept(services)) == 3
