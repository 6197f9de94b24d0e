"""End-to-end fixtures: a real authd process per storage backend (SQLite and PostgreSQL)."""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import drop_pg_database, make_pg_database
from tests.e2e.social import Social, write_config
from tests.peers import fake_github, fake_oidc
from tests.peers.fake_github import FakeGitHub
from tests.peers.fake_oidc import FakeOIDCProvider
from tests.serverproc import AuthdServer

PASSWORD = "correct horse battery staple 42"
# Generous limits so the shared server never rate-limits the other tests;
# the brute-force tests start servers with the defaults.
RELAXED_LIMITS = {"AUTHD_RATE_LIMITS__IP_FAILURES": "100000",
                  "AUTHD_RATE_LIMITS__SIGNUPS_PER_IP": "100000",
                  "AUTHD_RATE_LIMITS__ACCOUNT_FAILURES": "100000",
                  "AUTHD_RATE_LIMITS__SOCIAL_LOGINS_PER_IP": "100000",
                 "AUTHD_RATE_LIMITS__REVOKES_PER_IP": "100000"}


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


@contextlib.contextmanager
def serving(tmp: Path, backend: str, env: dict[str, str] | None = None) -> Iterator[AuthdServer]:
    """A started server (see ``start_server``), stopped and its PostgreSQL database dropped after."""
    srv, url = start_server(tmp, backend, env)
    try:
        yield srv
    finally:
        srv.stop()
        if url:
            drop_pg_database(url)


@pytest.fixture(scope="session", params=["sqlite", "postgres"])
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
           ) -> Iterator[AuthdServer]:
    """One real authd process per backend, shared by the end-to-end tests."""
    with serving(tmp_path_factory.mktemp(f"authd-{request.param}"), request.param) as srv:
        yield srv


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


# -- social login: one authd per backend with a misbehaving OIDC provider and a GitHub stand-in


@pytest.fixture(scope="module", params=["sqlite", "postgres", "redis"])
def social(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Social]:
    tmp = tmp_path_factory.mktemp(f"social-{request.param}")
    with FakeOIDCProvider() as op, FakeGitHub() as github:
        secret = fake_oidc.CLIENT_SECRET
        config = write_config(tmp / "authd.toml", {
            "fake": {"issuer": op.issuer, "client_id": fake_oidc.CLIENT_ID, "client_secret": secret},
            "fakelink": {"issuer": op.issuer, "client_id": fake_oidc.CLIENT_ID,
                         "client_secret": secret, "link_by_verified_email": True},
            "github": {"preset": "github", "client_id": fake_github.CLIENT_ID,
                       "client_secret": fake_github.CLIENT_SECRET, "web_url": github.url,
                       "api_url": github.api_url, "link_by_verified_email": True},
            "down": {"issuer": "http://127.0.0.1:9", "client_id": "x", "client_secret": "y"},
        })
        server, pg_url = start_server(tmp, request.param, env={"AUTHD_CONFIG": str(config)})
        try:
            yield Social(server, op, github)
        finally:
            server.stop()
            if pg_url:
                drop_pg_database(pg_url)


@pytest.fixture
def browser(social: Social) -> Iterator[httpx.Client]:
    social.op.reset()
    with httpx.Client(timeout=30) as client:
        yield client
