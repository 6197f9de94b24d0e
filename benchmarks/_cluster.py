"""Two (or one) authd instances on a fresh PostgreSQL database and a Redis prefix."""

from __future__ import annotations

import secrets
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.conftest import REDIS_URL, drop_pg_database, make_pg_database
from tests.e2e.conftest import RELAXED_LIMITS
from tests.serverproc import AuthdServer, free_port


@contextmanager
def cluster(size: int = 2, *, poll_interval: str = "0.5") -> Iterator[list[AuthdServer]]:
    database = make_pg_database()
    issuer_port = free_port()
    shared = {**RELAXED_LIMITS, "AUTHD_ISSUER": f"http://127.0.0.1:{issuer_port}",
              "AUTHD_REDIS_URL": REDIS_URL,
              "AUTHD_REDIS_KEY_PREFIX": f"authd-bench:{secrets.token_hex(4)}:",
              "AUTHD_KEY_ENCRYPTION_KEY": secrets.token_urlsafe(32),
              "AUTHD_REVOCATION_POLL_INTERVAL": poll_interval, "AUTHD_LOG_LEVEL": "error"}
    servers: list[AuthdServer] = []
    with tempfile.TemporaryDirectory() as tmp:
        try:
            for i in range(size):
                servers.append(AuthdServer(Path(tmp) / f"i{i}", database_url=database, env=shared,
                                           port=issuer_port if i == 0 else None).start())
            yield servers
        finally:
            for server in servers:
                server.stop()
            drop_pg_database(database)
