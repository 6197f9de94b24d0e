"""Brute-force controls over HTTP: 429 with Retry-After, the same for unknown accounts."""

from __future__ import annotations

import concurrent.futures
import secrets
import threading
from collections import Counter
from collections.abc import Callable, Iterator

import httpx
import pytest

from tests.conftest import drop_pg_database
from tests.e2e.conftest import PASSWORD, bearer, login, new_email, sign_up, start_server
from tests.serverproc import AuthdServer


@pytest.fixture
def strict_server(tmp_path) -> AuthdServer:
    """A server with the default account limit (10) and a small IP limit to keep tests short."""
    srv = AuthdServer(tmp_path, env={"AUTHD_RATE_LIMITS__IP_FAILURES": "25",
                                     "AUTHD_RATE_LIMITS__SIGNUPS_PER_IP": "5"}).start()
    yield srv
    srv.stop()


def _password_grant(http, email: str, password: str):
    return http.post("/v1/token", data={"grant_type": "password", "username": email,
                                        "password": password})


def test_account_limit_locks_existing_and_unknown_accounts_alike(strict_server) -> None:
    """After 10 failures an account answers 429 + Retry-After, even to the right password;
    an unknown account behaves identically."""
    with strict_server.client() as http:
        email = sign_up(http)
        unknown = new_email()
        answers = {}
        for target in (email, unknown):
            for _ in range(10):
                assert _password_grant(http, target, "wrong password!!").status_code == 400
            answers[target] = _password_grant(http, target, PASSWORD)
        assert answers[email].status_code == answers[unknown].status_code == 429
        assert answers[email].json() == answers[unknown].json()
        retry_after = int(answers[email].headers["retry-after"])
        assert 0 < retry_after <= 600
        cookie_login = http.post("/v1/session", json={"email": email, "password": PASSWORD})
        assert cookie_login.status_code == 429 and "retry-after" in cookie_login.headers


def test_ip_limit_spans_accounts(strict_server) -> None:
    """Failures spread over many accounts from one IP hit the per-IP limit."""
    with strict_server.client() as http:
        for _ in range(25):
            assert _password_grant(http, new_email(), "wrong password!!").status_code == 400
        blocked = _password_grant(http, new_email(), "wrong password!!")
        assert blocked.status_code == 429 and int(blocked.headers["retry-after"]) > 0


def test_sign_ups_are_limited_per_ip(strict_server) -> None:
    """Sign-up attempts beyond the per-IP limit are 429."""
    with strict_server.client() as http:
        codes = [http.post("/v1/users", json={"email": new_email(), "password": PASSWORD})
                 .status_code for _ in range(6)]
        assert codes[:5] == [201] * 5 and codes[5] == 429


# -- concurrent guessing against a real process, SQLite and PostgreSQL + Redis, default limits ---

DEFAULT_LIMITS = {"AUTHD_RATE_LIMITS__ACCOUNT_FAILURES": "10",
                  "AUTHD_RATE_LIMITS__IP_FAILURES": "100"}


@pytest.fixture(scope="module", params=["sqlite", "redis"])
def default_limits_server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
                          ) -> Iterator[AuthdServer]:
    """The default brute-force limits (10 per account, 100 per IP), one instance per backend."""
    srv, url = start_server(tmp_path_factory.mktemp(f"brute-{request.param}"), request.param,
                            DEFAULT_LIMITS)
    yield srv
    srv.stop()
    if url:
        drop_pg_database(url)


def _burst(server: AuthdServer, send: Callable[[httpx.Client, int], httpx.Response],
           n: int) -> list[httpx.Response]:
    """``n`` requests at once, each on its own connection."""
    ready = threading.Barrier(n, timeout=60)

    def one(i: int) -> httpx.Response:
        with server.client() as http:
            ready.wait()
            return send(http, i)
    with concurrent.futures.ThreadPoolExecutor(max_workers=n) as pool:
        return list(pool.map(one, range(n)))


def _codes(responses: list[httpx.Response]) -> Counter[int]:
    return Counter(r.status_code for r in responses)


def test_concurrent_wrong_passwords_evaluate_at_most_the_account_limit(default_limits_server) -> None:
    """60 simultaneous wrong passwords for one account: 10 are evaluated, 50 answered 429; the
    right password sent in a burst once the account is locked does not log in either."""
    with default_limits_server.client() as http:
        email = sign_up(http)
    wrong = _burst(default_limits_server,
                   lambda http, _: _password_grant(http, email, "wrong password!!"), 60)
    assert _codes(wrong) == Counter({400: 10, 429: 50})
    assert all("retry-after" in r.headers for r in wrong if r.status_code == 429)
    mixed = _burst(default_limits_server, lambda http, i: _password_grant(
        http, email, PASSWORD if i % 2 else "wrong password!!"), 20)
    assert _codes(mixed) == Counter({429: 20})


def test_concurrent_cookie_logins_evaluate_at_most_the_account_limit(default_limits_server) -> None:
    """/v1/session is limited the same way: 40 simultaneous wrong passwords, 10 evaluated."""
    with default_limits_server.client() as http:
        email = sign_up(http)
    responses = _burst(default_limits_server, lambda http, _: http.post(
        "/v1/session", json={"email": email, "password": "wrong password!!"}), 40)
    assert _codes(responses) == Counter({401: 10, 429: 30})
    with default_limits_server.client() as http:
        right = http.post("/v1/session", json={"email": email, "password": PASSWORD})
        assert right.status_code == 429


def test_concurrent_password_changes_evaluate_at_most_the_account_limit(
        default_limits_server) -> None:
    """A stolen access token cannot race the current-password check: 40 at once, 10 evaluated."""
    with default_limits_server.client() as http:
        token = login(http, sign_up(http))["access_token"]
    responses = _burst(default_limits_server, lambda http, _: http.post(
        "/v1/password", headers=bearer(token),
        json={"current_password": "wrong password!!", "new_password": PASSWORD + "!"}), 40)
    assert _codes(responses) == Counter({400: 10, 429: 30})


def test_both_unicode_forms_of_an_email_log_in(http: httpx.Client) -> None:
    """Whichever form of é the user typed at sign-up, either form logs in, by token or cookie."""
    for signed_up, typed in (("\u00e9", "e\u0301"), ("e\u0301", "\u00e9")):
        local = f"ren{secrets.token_hex(4)}"
        sign_up(http, f"{local}{signed_up}@example.com")
        assert login(http, f"{local}{typed}@example.com")["access_token"]
        cookie = http.post("/v1/session", json={"email": f"{local}{typed}@Example.com",
                                                "password": PASSWORD})
        assert cookie.status_code == 200, cookie.text
