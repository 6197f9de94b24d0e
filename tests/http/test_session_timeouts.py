"""Idle timeout and absolute lifetime of cookie sessions, with an injected clock (no sleeps)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from authd.clock import FixedClock
from authd.config import Settings
from authd.http.app import create_app

PASSWORD = "correct horse battery staple 42"
IDLE, ABSOLUTE = 1800, 7 * 86400


@pytest.fixture
def clock() -> FixedClock:
    """The app's clock, starting now, moved by the tests instead of waiting."""
    import time

    return FixedClock(time.time())


@pytest.fixture
def client(tmp_path, clock: FixedClock) -> Iterator[TestClient]:
    """An app with short session timeouts and a signed-in cookie session."""
    settings = Settings(data_dir=tmp_path, session_idle_timeout=IDLE,
                        session_absolute_lifetime=ABSOLUTE)
    with TestClient(create_app(settings, clock=clock)) as test_client:
        assert test_client.post("/v1/users", json={"email": "a@example.com",
                                                   "password": PASSWORD}).status_code == 201
        response = test_client.post("/v1/session", json={"email": "a@example.com",
                                                         "password": PASSWORD})
        assert response.status_code == 200
        yield test_client


def test_idle_session_expires(client: TestClient, clock: FixedClock) -> None:
    """A session unused for longer than the idle timeout is refused."""
    clock.advance(IDLE - 5)
    assert client.get("/v1/session").status_code == 200
    clock.advance(IDLE + 1)
    assert client.get("/v1/session").status_code == 401


def test_activity_extends_the_idle_deadline(client: TestClient, clock: FixedClock) -> None:
    """Using the session keeps it alive past the first idle deadline."""
    for _ in range(4):
        clock.advance(IDLE - 60)
        assert client.get("/v1/userinfo").status_code == 200


def test_absolute_lifetime_ends_even_an_active_session(client: TestClient,
                                                       clock: FixedClock) -> None:
    """However active, a session ends at its absolute lifetime."""
    elapsed = 0
    while elapsed < ABSOLUTE - IDLE:
        clock.advance(IDLE - 60)
        elapsed += IDLE - 60
        assert client.get("/v1/userinfo").status_code == 200
    clock.advance(ABSOLUTE - elapsed + 1)
    assert client.get("/v1/userinfo").status_code == 401


def test_reads_within_a_minute_write_nothing(client: TestClient, clock: FixedClock) -> None:
    """last_used_at moves at most once a minute: reads in between cost no write."""
    first = client.get("/v1/session").json()["session"]["last_used_at"]
    clock.advance(30)
    assert client.get("/v1/session").json()["session"]["last_used_at"] == first
    clock.advance(31)
    client.get("/v1/session")
    assert client.get("/v1/session").json()["session"]["last_used_at"] > first


@pytest.fixture(params=["sqlite", "postgres"])
def short_idle_client(request: pytest.FixtureRequest, tmp_path,
                      clock: FixedClock) -> Iterator[TestClient]:
    """A signed-in client under the shortest idle timeout allowed (60 s), on each database."""
    extra: dict[str, str] = {}
    if request.param == "postgres":
        extra["database_url"] = request.getfixturevalue("fresh_pg_url")
    settings = Settings(data_dir=tmp_path, session_idle_timeout=60,
                        session_absolute_lifetime=ABSOLUTE, **extra)
    with TestClient(create_app(settings, clock=clock)) as test_client:
        assert test_client.post("/v1/users", json={"email": "a@example.com",
                                                   "password": PASSWORD}).status_code == 201
        response = test_client.post("/v1/session", json={"email": "a@example.com",
                                                         "password": PASSWORD})
        assert response.status_code == 200
        yield test_client


def test_a_session_in_use_outlives_a_short_idle_timeout(short_idle_client: TestClient,
                                                        clock: FixedClock) -> None:
    """With a 60 s idle timeout, a user active every 20 s stays signed in; 60 s of real
    idleness after the last request still ends the session."""
    for _ in range(10):
        clock.advance(20)
        assert short_idle_client.get("/v1/userinfo").status_code == 200
    clock.advance(61)
    assert short_idle_client.get("/v1/userinfo").status_code == 401
