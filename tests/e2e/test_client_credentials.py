"""client_credentials over a real authd process: machines configured in a TOML file.

What an operator relies on: a registered backend gets a token for itself with
its secret (HTTP Basic or the form), limited to the scopes and audiences it was
given; the token verifies with ``authd.verify`` and introspects; it is never a
user's token at authd's account endpoints; guessing a machine's secret is
rate-limited like guessing a password.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from authd.core.clients import hash_secret
from authd.verify import TokenVerifier
from tests.e2e.conftest import bearer, serving
from tests.serverproc import AuthdServer

ROBOT, SECRET = "billing-robot", "billing-robot-secret-" + "b" * 24
PLAIN, PLAIN_SECRET = "plain-robot", "plain-robot-secret-" + "p" * 24  # no audiences configured
BILLING, LEDGER = "https://billing.example.com", "https://ledger.example.com"
GRANT = {"grant_type": "client_credentials"}


def _config(path: Path) -> Path:
    """The operator's TOML: one machine with its own APIs, one with the default audience."""
    path.write_text(f"""
[clients.{ROBOT}]
secret_hash = "{hash_secret(SECRET)}"
scopes = ["invoices:read", "invoices:write"]
audiences = ["{BILLING}", "{LEDGER}"]

[clients.{PLAIN}]
secret_hash = "{hash_secret(PLAIN_SECRET)}"
scopes = ["openid", "profile", "email"]
""")
    return path


def _serve(tmp: Path, backend: str, env: dict[str, str] | None = None
           ) -> contextlib.AbstractContextManager[AuthdServer]:
    """A server with the two machines registered (stopped and cleaned up on leaving)."""
    return serving(tmp, backend, {"AUTHD_CONFIG": str(_config(tmp / "authd.toml")), **(env or {})})


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def machines(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
             ) -> Iterator[AuthdServer]:
    """One real server per backend with the two machines registered."""
    with _serve(tmp_path_factory.mktemp(f"machines-{request.param}"), request.param) as server:
        yield server


@pytest.fixture
def http(machines: AuthdServer) -> Iterator[httpx.Client]:
    """A keep-alive client of the shared server."""
    with machines.client() as client:
        yield client


def _post(http: httpx.Client, **fields: str) -> httpx.Response:
    return http.post("/v1/token", data={**GRANT, **fields})


def _basic(http: httpx.Client, user: str, secret: str, **fields: str) -> httpx.Response:
    return http.post("/v1/token", data={**GRANT, **fields}, auth=(user, secret))


def test_client_secret_basic_and_post_both_give_a_token_without_refresh(
        http: httpx.Client) -> None:
    """Either client authentication method works; the answer has no refresh token."""
    for response in (_basic(http, ROBOT, SECRET),
                     _post(http, client_id=ROBOT, client_secret=SECRET)):
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["token_type"] == "Bearer" and "refresh_token" not in body
        assert body["scope"] == "invoices:read invoices:write"
        assert response.headers["cache-control"] == "no-store"


def test_both_authentication_methods_at_once_or_mismatched_ids_are_400(
        http: httpx.Client) -> None:
    """A request must name one client one way: Basic plus client_secret, or a form client_id
    that differs from Basic's, is a malformed request, never a token."""
    both = _basic(http, ROBOT, SECRET, client_secret=SECRET)
    mismatched = _basic(http, ROBOT, SECRET, client_id=PLAIN)
    for response in (both, mismatched):
        assert response.status_code == 400 and response.json()["error"] == "invalid_request"


def test_a_wrong_secret_is_401_invalid_client_either_way(http: httpx.Client) -> None:
    """Wrong, missing or another client's secret: 401 invalid_client (Basic challenge)."""
    answers = [_basic(http, ROBOT, "wrong"), _post(http, client_id=ROBOT, client_secret="x"),
               _post(http, client_id=ROBOT), _basic(http, ROBOT, PLAIN_SECRET),
               _basic(http, "no-such-robot", SECRET)]
    for response in answers:
        assert response.status_code == 401, response.text
        assert response.json()["error"] == "invalid_client"
    assert answers[0].headers["www-authenticate"].startswith("Basic")


def test_the_public_client_is_400_unauthorized_client(http: httpx.Client) -> None:
    """The first-party app has no secret, so it cannot act as a machine."""
    for response in (_post(http), _post(http, client_id="authd")):
        assert response.status_code == 400, response.text
        assert response.json()["error"] == "unauthorized_client"


def test_scope_outside_the_clients_is_400_invalid_scope(http: httpx.Client) -> None:
    """A machine cannot ask for more than it was registered with; a subset is granted."""
    wider = _basic(http, ROBOT, SECRET, scope="invoices:read admin")
    assert wider.status_code == 400 and wider.json()["error"] == "invalid_scope"
    narrower = _basic(http, ROBOT, SECRET, scope="invoices:read")
    assert narrower.status_code == 200 and narrower.json()["scope"] == "invoices:read"


def test_audience_outside_the_clients_is_400_invalid_target(
        http: httpx.Client, machines: AuthdServer) -> None:
    """audience or resource must be one of the client's audiences, authd's own included."""
    for field in ("audience", "resource"):
        for target in ("https://payroll.example.com", machines.url):
            response = _basic(http, ROBOT, SECRET, **{field: target})
            assert response.status_code == 400, response.text
            assert response.json()["error"] == "invalid_target"
    ledger = _basic(http, ROBOT, SECRET, resource=LEDGER)
    assert ledger.status_code == 200, ledger.text


def test_the_token_verifies_with_authd_verify_for_its_api(machines: AuthdServer,
                                                           http: httpx.Client) -> None:
    """An API verifies a machine's token by discovery; sub and client_id are the client."""
    token = _basic(http, ROBOT, SECRET).json()["access_token"]
    with TokenVerifier(issuer=machines.url, audience=BILLING) as verifier:
        claims = verifier.verify(token)
    assert claims["sub"] == claims["client_id"] == ROBOT
    assert claims["scope"] == "invoices:read invoices:write"
    assert "auth_time" not in claims and "sid" not in claims


def test_introspection_shows_the_token_active_with_the_client_as_subject(
        http: httpx.Client) -> None:
    """A confidential client introspecting a machine token sees it active, sub = client."""
    token = _basic(http, ROBOT, SECRET).json()["access_token"]
    seen = http.post("/v1/introspect", data={"token": token}, auth=(PLAIN, PLAIN_SECRET))
    assert seen.status_code == 200, seen.text
    assert seen.json()["active"] is True and seen.json()["sub"] == ROBOT


@pytest.mark.parametrize(("method", "path"), [
    ("GET", "/v1/userinfo"), ("GET", "/v1/sessions"), ("DELETE", "/v1/sessions"),
    ("DELETE", "/v1/sessions/abc"), ("GET", "/v1/identities"), ("POST", "/v1/reauth"),
    ("POST", "/v1/password"), ("POST", "/v1/email"), ("POST", "/v1/email/verification"),
    ("POST", "/v1/identities/github"), ("DELETE", "/v1/identities/github"),
])
def test_a_machine_token_is_401_invalid_token_at_account_endpoints(
        http: httpx.Client, method: str, path: str) -> None:
    """There is no user behind a machine's token: even one whose audience is authd itself
    (the default audience) never reads or changes an account, and never fails with a 500."""
    token = _basic(http, PLAIN, PLAIN_SECRET).json()["access_token"]
    response = http.request(method, path, headers=bearer(token), json={"password": "x"})
    assert response.status_code == 401, response.text
    assert response.json()["error"] == "invalid_token"
    assert "invalid_token" in response.headers["www-authenticate"]


def test_discovery_lists_the_grant(http: httpx.Client) -> None:
    """Clients find client_credentials in grant_types_supported."""
    document = http.get("/.well-known/openid-configuration").json()
    assert "client_credentials" in document["grant_types_supported"]


@pytest.mark.parametrize("backend", ["sqlite", "redis"])
def test_wrong_secrets_lock_the_machine_with_429(tmp_path: Path, backend: str) -> None:
    """After the account limit (3 here) of wrong secrets, even the right one gets 429 with
    Retry-After; right secrets before that never counted, and another machine is not locked."""
    with _serve(tmp_path, backend, {"AUTHD_RATE_LIMITS__ACCOUNT_FAILURES": "3"}) as server, \
            server.client() as http:
        for _ in range(5):
            assert _basic(http, ROBOT, SECRET).status_code == 200
        for _ in range(3):
            assert _basic(http, ROBOT, "guess").status_code == 401
        locked = _basic(http, ROBOT, SECRET)
        assert locked.status_code == 429, locked.text
        assert int(locked.headers["retry-after"]) > 0
        assert _basic(http, PLAIN, PLAIN_SECRET).status_code == 200
