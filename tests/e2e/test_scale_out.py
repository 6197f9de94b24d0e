"""Two authd instances on one PostgreSQL and one Redis behave as one (no sticky routing)."""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from contextlib import ExitStack

import httpx
import pytest

from tests.conftest import REDIS_URL, drop_pg_database, make_pg_database, require_service
from tests.e2e.conftest import PASSWORD, bearer, new_email, refresh
from tests.serverproc import AuthdServer, free_port


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[AuthdServer, AuthdServer]]:
    """Instances A and B: same database, Redis, root secret and public issuer URL."""
    require_service("Redis", "127.0.0.1", 6379)
    database = make_pg_database()
    issuer_port = free_port()
    shared = {
        "AUTHD_ISSUER": f"http://127.0.0.1:{issuer_port}",
        "AUTHD_REDIS_URL": REDIS_URL,
        "AUTHD_REDIS_KEY_PREFIX": f"authd-test:{secrets.token_hex(4)}:",
        "AUTHD_KEY_ENCRYPTION_KEY": secrets.token_urlsafe(32),
        "AUTHD_RATE_LIMITS__ACCOUNT_FAILURES": "6",
        "AUTHD_REVOCATION_POLL_INTERVAL": "5",  # prove pub/sub, not polling, carries revocations
    }
    a = AuthdServer(tmp_path_factory.mktemp("a"), database_url=database, env=shared,
                    port=issuer_port)
    b = AuthdServer(tmp_path_factory.mktemp("b"), database_url=database, env=shared)
    with ExitStack() as stack:
        a.start()
        stack.callback(a.stop)
        b.start()
        stack.callback(b.stop)
        yield a, b
    drop_pg_database(database)


def _sign_up_and_login(http: httpx.Client) -> tuple[str, dict[str, str]]:
    email = new_email()
    assert http.post("/v1/users", json={"email": email, "password": PASSWORD}).status_code == 201
    response = http.post("/v1/token", data={"grant_type": "password", "username": email,
                                            "password": PASSWORD})
    assert response.status_code == 200
    return email, response.json()


def test_login_through_one_works_through_the_other(pair) -> None:
    """A token pair and a cookie session from A are accepted by B."""
    a, b = pair
    with a.client() as on_a, b.client() as on_b:
        email, tokens = _sign_up_and_login(on_a)
        assert on_b.get("/v1/userinfo", headers=bearer(tokens["access_token"])).json()["email"] \
            == email
        cookie = on_a.post("/v1/session", json={"email": email, "password": PASSWORD})
        value = cookie.cookies["authd_session"]
        via_b = on_b.get("/v1/session", headers={"Cookie": f"authd_session={value}"})
        assert via_b.status_code == 200 and via_b.json()["user"]["email"] == email
        assert on_b.get("/.well-known/jwks.json").json() == on_a.get("/.well-known/jwks.json").json()


def test_refresh_through_alternating_instances(pair) -> None:
    """Rotation works whichever instance answers; theft is detected across them."""
    a, b = pair
    with a.client() as on_a, b.client() as on_b:
        _, tokens = _sign_up_and_login(on_a)
        first = tokens["refresh_token"]
        current = first
        for client in (on_b, on_a, on_b, on_a):
            response = refresh(client, current)
            assert response.status_code == 200
            current = response.json()["refresh_token"]
        assert refresh(on_b, first).status_code == 400  # reuse: the family is revoked
        assert refresh(on_a, current).status_code == 400


def _seconds_until_refused(client: httpx.Client, token: str, limit: float = 5.0) -> float:
    start = time.monotonic()
    while time.monotonic() - start < limit:
        if client.get("/v1/userinfo", headers=bearer(token)).status_code == 401:
            return time.monotonic() - start
        time.sleep(0.02)
    return float("inf")


def test_revocation_on_one_is_honoured_by_the_other_within_a_second(pair) -> None:
    """An access token revoked at A is refused by B within 1 s; logout everywhere at B, by A."""
    a, b = pair
    with a.client() as on_a, b.client() as on_b:
        _, tokens = _sign_up_and_login(on_a)
        assert on_b.get("/v1/userinfo", headers=bearer(tokens["access_token"])).status_code == 200
        on_a.post("/v1/revoke", data={"token": tokens["access_token"]}).raise_for_status()
        assert _seconds_until_refused(on_b, tokens["access_token"]) <= 1.0
        _, other = _sign_up_and_login(on_b)
        assert on_a.get("/v1/userinfo", headers=bearer(other["access_token"])).status_code == 200
        assert on_b.delete("/v1/sessions", headers=bearer(other["access_token"])).status_code == 204
        assert _seconds_until_refused(on_a, other["access_token"]) <= 1.0


def test_rate_limits_count_across_instances(pair) -> None:
    """Failures spread over A and B add up to one account limit."""
    a, b = pair
    with a.client() as on_a, b.client() as on_b:
        email, _ = _sign_up_and_login(on_a)
        for client in (on_a, on_b, on_a, on_b, on_a, on_b):
            response = client.post("/v1/token", data={"grant_type": "password", "username": email,
                                                      "password": "wrong password!!"})
            assert response.status_code == 400
        for client in (on_a, on_b):
            blocked = client.post("/v1/token", data={"grant_type": "password", "username": email,
                                                     "password": PASSWORD})
            assert blocked.status_code == 429
        assert on_a.get("/readyz").json()["checks"]["rate_limits"] == "shared"


def test_metrics_are_exposed(pair) -> None:
    """/metrics reports requests per route and security events in Prometheus format."""
    a, _ = pair
    with a.client() as on_a:
        _sign_up_and_login(on_a)
        text = on_a.get("/metrics").text
    assert 'authd_requests_total{method="POST",route="/v1/token",status="200"}' in text
    assert 'authd_logins_total{result="ok"}' in text
    assert "authd_request_seconds_bucket" in text


def _seconds_until_cookie_refused(client: httpx.Client, cookie: str, limit: float = 5.0) -> float:
    start = time.monotonic()
    while time.monotonic() - start < limit:
        if client.get("/v1/userinfo", headers={"Cookie": f"authd_session={cookie}"}
                      ).status_code == 401:
            return time.monotonic() - start
        time.sleep(0.01)
    return float("inf")


def _cookie_login(client: httpx.Client, email: str) -> tuple[str, str]:
    value = client.post("/v1/session", json={"email": email, "password": PASSWORD}
                        ).cookies["authd_session"]
    csrf = client.get("/v1/session", headers={"Cookie": f"authd_session={value}"}
                      ).json()["csrf_token"]
    client.cookies.clear()
    return value, csrf


def test_cookie_logout_on_one_is_refused_by_the_other_that_cached_it(pair) -> None:
    """Attack: a logged-out cookie replayed at the instance that was just serving it from its
    cache is refused within 1 s; a password change at A ends B's cached other sessions too."""
    a, b = pair
    with a.client() as on_a, b.client() as on_b:
        email, _ = _sign_up_and_login(on_a)
        value, csrf = _cookie_login(on_a, email)
        for _ in range(5):  # B has it cached now
            assert on_b.get("/v1/userinfo", headers={"Cookie": f"authd_session={value}"}
                            ).status_code == 200
        assert on_a.delete("/v1/session", headers={"Cookie": f"authd_session={value}",
                                                   "X-CSRF-Token": csrf}).status_code == 204
        assert _seconds_until_cookie_refused(on_b, value) <= 1.0

        phone, _ = _cookie_login(on_a, email)
        laptop, laptop_csrf = _cookie_login(on_a, email)
        for cookie in (phone, laptop):
            assert on_b.get("/v1/userinfo", headers={"Cookie": f"authd_session={cookie}"}
                            ).status_code == 200
        changed = on_a.post("/v1/password", json={"current_password": PASSWORD,
                                                  "new_password": PASSWORD + " changed"},
                            headers={"Cookie": f"authd_session={laptop}",
                                     "X-CSRF-Token": laptop_csrf})
        assert changed.status_code == 204, changed.text
        assert _seconds_until_cookie_refused(on_b, phone) <= 1.0
        assert on_b.get("/v1/userinfo", headers={"Cookie": f"authd_session={laptop}"}
                        ).status_code == 200
