"""Behind a trusted proxy each client has its own address; without one, forwarding headers are ignored.

The test client connects from 127.0.0.1, so a server with
``trusted_proxies=["127.0.0.1"]`` plays the application behind nginx, and the
headers the test sends are those nginx would forward.
"""

from __future__ import annotations

import ipaddress
import json
import secrets
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import drop_pg_database
from tests.e2e.conftest import PASSWORD, bearer, new_email, sign_up, start_server
from tests.serverproc import AuthdServer

LIMITS = {"AUTHD_RATE_LIMITS__IP_FAILURES": "3", "AUTHD_RATE_LIMITS__SIGNUPS_PER_IP": "2"}
BACKENDS = ["sqlite", "postgres", "redis"]  # rate limits live in the database or in Redis


def _serve(tmp: Path, backend: str, env: dict[str, str]) -> Iterator[AuthdServer]:
    server, pg_url = start_server(tmp, backend, env={**LIMITS, **env})
    try:
        yield server
    finally:
        server.stop()
        if pg_url:
            drop_pg_database(pg_url)


@pytest.fixture(scope="module", params=BACKENDS)
def proxied(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
            ) -> Iterator[AuthdServer]:
    """authd behind a proxy on 127.0.0.1 that it trusts."""
    tmp = tmp_path_factory.mktemp(f"proxied-{request.param}")
    yield from _serve(tmp, request.param, {"AUTHD_TRUSTED_PROXIES": '["127.0.0.1", "::1"]'})


@pytest.fixture(params=BACKENDS)
def unproxied(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[AuthdServer]:
    """authd with the default: no trusted proxies."""
    yield from _serve(tmp_path, request.param, {})


def a_client() -> str:
    """A fresh client address (documentation range), never seen by the server before."""
    return str(ipaddress.ip_address(f"2001:db8::{secrets.token_hex(2)}:{secrets.token_hex(2)}"))


def _fail_login(http: httpx.Client, headers: dict[str, str]) -> int:
    response = http.post("/v1/token", headers=headers, data={
        "grant_type": "password", "username": new_email(), "password": "wrong password!!"})
    return response.status_code


def _sign_up(http: httpx.Client) -> str:
    """A new account, signed up from a client of its own (the proxy's sign-up budget is small)."""
    email = new_email()
    response = http.post("/v1/users", json={"email": email, "password": PASSWORD},
                         headers={"X-Forwarded-For": a_client()})
    assert response.status_code == 201, response.text
    return email


def _session_ips(http: httpx.Client, token: str) -> list[str]:
    response = http.get("/v1/sessions", headers=bearer(token))
    assert response.status_code == 200, response.text
    return [s["ip"] for s in response.json()["sessions"]]


def test_the_per_ip_limit_applies_to_the_forwarded_client(proxied: AuthdServer) -> None:
    """Failed logins count against the client the proxy names, not against the proxy: one
    client is locked out after 3 failures, others (and the proxy's own requests) are not,
    and forging the left part of X-Forwarded-For or switching to Forwarded does not help."""
    attacker, bystander = a_client(), "203.0.113.9"
    with proxied.client() as http:
        codes = [_fail_login(http, {"X-Forwarded-For": f"198.51.100.{i}, {attacker}"})
                 for i in range(4)]
        assert codes == [400, 400, 400, 429]
        assert _fail_login(http, {"X-Forwarded-For": f"6.6.6.6, {attacker}"}) == 429
        assert _fail_login(http, {"Forwarded": f'for="[{attacker}]:4711"'}) == 429
        assert _fail_login(http, {"X-Forwarded-For": bystander}) == 400
        assert _fail_login(http, {"Forwarded": f'for="[{a_client()}]"'}) == 400
        assert _fail_login(http, {}) == 400  # the proxy itself is not locked out


def test_sign_up_limit_applies_to_the_forwarded_client(proxied: AuthdServer) -> None:
    """The per-IP sign-up limit is per client behind the proxy, not site-wide."""
    first, second = a_client(), a_client()
    with proxied.client() as http:
        def sign_up_from(client: str) -> int:
            return http.post("/v1/users", json={"email": new_email(), "password": PASSWORD},
                             headers={"X-Forwarded-For": client}).status_code
        assert [sign_up_from(first) for _ in range(3)] == [201, 201, 429]
        assert sign_up_from(second) == 201


def test_sessions_and_the_audit_trail_record_the_forwarded_client(proxied: AuthdServer) -> None:
    """A user's session list and the audit trail show the client's address, not the proxy's."""
    client, failed_from = a_client(), a_client()
    with proxied.client() as http:
        email = _sign_up(http)
        token = http.post("/v1/token", headers={"X-Forwarded-For": client}, data={
            "grant_type": "password", "username": email, "password": PASSWORD}).json()
        cookie = http.post("/v1/session", json={"email": email, "password": PASSWORD},
                           headers={"Forwarded": f'for="[{client}]"'})
        assert cookie.status_code == 200, cookie.text
        assert _session_ips(http, token["access_token"]) == [client, client]
        assert _fail_login(http, {"X-Forwarded-For": failed_from}) == 400
    audit = proxied.cli("audit", "--event", "login.failed", "--limit", "1").stdout
    assert json.loads(audit.splitlines()[0])["ip"] == failed_from


@pytest.mark.parametrize("headers", [
    {"X-Forwarded-For": "garbage"}, {"X-Forwarded-For": ",,,"}, {"X-Forwarded-For": "1" * 4000},
    {"X-Forwarded-For": "1.2.3.4, unknown"}, {"X-Forwarded-For": "[::1"},
    {"X-Forwarded-For": "fe80::1%eth0"}, {"Forwarded": 'for="'}, {"Forwarded": "for=;;;="},
    {"Forwarded": "for=_hidden"}, {"Forwarded": '\\"' * 500},
    {"X-Forwarded-For": "203.0.113.1", "Forwarded": "for=203.0.113.2"},
])
def test_garbage_forwarding_headers_are_never_a_server_error(proxied: AuthdServer,
                                                             headers: dict[str, str]) -> None:
    """Malformed or contradicting headers from a trusted proxy are not believed (the request
    counts against the proxy) and never cause a 5xx."""
    with proxied.client() as http:
        email = _sign_up(http)
        response = http.post("/v1/token", headers=headers, data={
            "grant_type": "password", "username": email, "password": PASSWORD})
        assert response.status_code == 200, response.text
        assert _session_ips(http, response.json()["access_token"]) == ["127.0.0.1"]


def test_without_trusted_proxies_forwarding_headers_are_ignored(unproxied: AuthdServer) -> None:
    """The default: a client that sends X-Forwarded-For or Forwarded is still known by its
    connection's address; a fresh spoofed address per request does not escape the per-IP
    limit, and sessions record the real address."""
    with unproxied.client() as http:
        email = sign_up(http)
        token = http.post("/v1/token", headers={"X-Forwarded-For": a_client()}, data={
            "grant_type": "password", "username": email, "password": PASSWORD}).json()
        assert _session_ips(http, token["access_token"]) == ["127.0.0.1"]
        spoofed = [{"X-Forwarded-For": a_client()}, {"Forwarded": f'for="[{a_client()}]"'},
                   {"X-Forwarded-For": a_client(), "Forwarded": f'for="[{a_client()}]"'},
                   {"X-Forwarded-For": a_client()}]
        assert [_fail_login(http, headers) for headers in spoofed] == [400, 400, 400, 429]
