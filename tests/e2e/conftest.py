"""End-to-end fixtures: a real authd process per storage backend (SQLite and PostgreSQL)."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import drop_pg_database, make_pg_database
from tests.serverproc import AuthdServer

PASSWORD = "correct horse battery staple 42"
# Generous limits so the shared server never rate-limits the other tests;
# the brute-force tests start servers with the defaults.
RELAXED_LIMITS = {"AUTHD_RATE_LIMITS__IP_FAILURES": "100000",
                  "AUTHD_RATE_LIMITS__SIGNUPS_PER_IP": "100000",
                  "AUTHD_RATE_LIMITS__ACCOUNT_FAILURES": "100000",
                  "AUTHD_RATE_LIMITS__SOCIAL_LOGINS_PER_IP": "100000"}


def start_server(tmp: Path, backend: str, env: dict[str, str] | None = None
                 ) -> tuple[AuthdServer, str | None]:
    """backend: "sqlite", "postgres", or "redis" (PostgreSQL + Redis, the scale-out set-up)."""
    url = make_pg_database() if backend in ("postgres", "redis") else None
    extra = dict(RELAXED_LIMITS)
    if backend == "redis":
        from tests.conftest import REDIS_URL, require_service
        require_service("Redis", "127.0.0.1", 6379)
        extra.update(AUTHD_REDIS_URL=REDIS_URL,
                     AUTHD_REDIS_KEY_PREFIX=f"authd-test:{secrets.token_hex(4)}:")
    server = AuthdServer(tmp, database_url=url, env={**extra, **(env or {})})
    return server.start(), url


@pytest.fixture(scope="session", params=["sqlite", "postgres"])
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
           ) -> Iterator[AuthdServer]:
    """One real authd process per backend, shared by the end-to-end tests."""
    srv, url = start_server(tmp_path_factory.mktemp(f"authd-{request.param}"), request.param)
    yield srv
    srv.stop()
    if url:
        drop_pg_database(url)


@pytest.fixture
def http(server: AuthdServer) -> Iterator[httpx.Client]:
    with server.client() as client:
        yield client


def new_email() -> str:
    return f"user-{secrets.token_hex(6)}@example.com"


def sign_up(http: httpx.Client, email: str | None = None, password: str = PASSWORD) -> str:
    email = email or new_email()
    response = http.post("/v1/users", json={"email": email, "password": password, "name": "Ada"})
    assert response.status_code == 201, response.text
    return email


def login(http: httpx.Client, email: str, password: str = PASSWORD, **extra: str) -> dict[str, Any]:
    response = http.post("/v1/token", data={"grant_type": "password", "username": email,
                                            "password": password, **extra})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def refresh(http: httpx.Client, token: str) -> httpx.Response:
    return http.post("/v1/token", data={"grant_type": "refresh_token", "refresh_token": token})


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
