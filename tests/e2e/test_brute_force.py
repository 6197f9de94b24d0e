"""Brute-force controls over HTTP: 429 with Retry-After, the same for unknown accounts."""

from __future__ import annotations

import secrets

import httpx
import pytest

from tests.e2e.conftest import PASSWORD, login, new_email, sign_up
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


def test_both_unicode_forms_of_an_email_log_in(http: httpx.Client) -> None:
    """Whichever form of é the user typed at sign-up, either form logs in, by token or cookie."""
    for signed_up, typed in (("\u00e9", "e\u0301"), ("e\u0301", "\u00e9")):
        local = f"ren{secrets.token_hex(4)}"
        sign_up(http, f"{local}{signed_up}@example.com")
        assert login(http, f"{local}{typed}@example.com")["access_token"]
        cookie = http.post("/v1/session", json={"email": f"{local}{typed}@Example.com",
                                                "password": PASSWORD})
        assert cookie.status_code == 200, cookie.text
