"""Signing keys sealed under another root secret, over real SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from authd.clock import FixedClock
from authd.config import Settings
from authd.core import keyring
from authd.core.keys import KeyManager
from authd.core.secrets import ServerSecrets
from authd.errors import RootSecretError
from authd.wiring import Services, build_services

SENTENCE = ("were sealed with another root secret; "
            "start every instance with the same AUTHD_KEY_ENCRYPTION_KEY")


@pytest.fixture(params=["sqlite", "postgres"])
async def services(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Services]:
    """authd's services on SQLite and PostgreSQL, sealed under one root secret."""
    database_url = None
    if request.param == "postgres":
        database_url = request.getfixturevalue("fresh_pg_url")
    svc = await build_services(Settings(data_dir=tmp_path, database_url=database_url),
                               FixedClock())
    try:
        yield svc
    finally:
        await svc.close()


async def _add_foreign_key(svc: Services) -> None:
    """What an instance started with another root secret would have written."""
    other = ServerSecrets.from_root(secrets.token_bytes(32))
    record = keyring.new_key_record(svc.settings.signing_alg, "next", svc.clock.now(), other)
    await svc.store.keys.add_key(record)


async def test_reload_names_the_root_secret_instead_of_failing_deep_in_aes(
        services: Services) -> None:
    """A reload that meets a key it cannot open says which setting to fix."""
    await _add_foreign_key(services)
    with pytest.raises(RootSecretError, match=SENTENCE):
        await services.keys.reload()


async def test_start_refuses_before_writing_anything(services: Services) -> None:
    """A key manager with the wrong secret stops at start and adds no keys of its own."""
    svc = services
    before = await svc.store.keys.list_keys()
    wrong = KeyManager(svc.store.keys, ServerSecrets.from_root(secrets.token_bytes(32)),
                       "EdDSA", 300, 10, svc.auditor, svc.clock, where="the test database")
    with pytest.raises(RootSecretError, match="the signing keys in the test database " + SENTENCE):
        await wrong.start()
    assert await svc.store.keys.list_keys() == before


async def test_the_background_reload_logs_one_sentence_and_keeps_serving(
        services: Services, caplog: pytest.LogCaptureFixture) -> None:
    """An operator reading the log sees what to fix, not a traceback; the last ring stays."""
    svc = services
    ring = svc.keys.ring
    await _add_foreign_key(svc)
    caplog.set_level(logging.WARNING, logger="authd")
    task = asyncio.create_task(svc._every(0.01, svc.keys.reload, "key reload"))
    try:
        deadline = time.monotonic() + 30
        while not any(SENTENCE in r.getMessage() for r in caplog.records):
            assert time.monotonic() < deadline, "the reload failure was never logged"
            await asyncio.sleep(0.01)
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    logged = [r for r in caplog.records if "key reload" in r.getMessage()]
    assert logged and all(r.exc_info is None for r in logged)
    assert svc.keys.ring is ring
