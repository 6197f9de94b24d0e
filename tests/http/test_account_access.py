"""Account endpoints: tokens for other APIs are refused, sensitive actions need a recent login.

In-process app with an injected clock (no sleeps), over SQLite, PostgreSQL and
PostgreSQL + Redis sessions. The attacks: a leaked access token minted for
another API used against authd's account endpoints, and a stolen but old
session or token (refreshed to look alive) used to change the password or
unlink an identity.
"""

from __future__ import annotations

import base64
import secrets
import time
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from starlette.testclient import TestClient

from authd.clock import FixedClock
from authd.config import Settings
from authd.core.clients import hash_secret
from authd.http.app import create_app
from tests.conftest import backend_settings

PASSWORD = "correct horse battery staple 42"
NEW_PASSWORD = "another horse battery staple 43"
OTHER_API = "https://api.example"
MAX_AGE = 600
RS_SECRET = secrets.token_urlsafe(32)


@pytest.fixture
def clock() -> FixedClock:
    """A clock the test moves, so 'recent' logins age exactly."""
    return FixedClock(time.time())


@pytest.fixture(params=["sqlite", "postgres", "redis"])
def client(request: pytest.FixtureRequest, tmp_path: Any, clock: FixedClock
           ) -> Iterator[TestClient]:
    """The app over SQLite, PostgreSQL and PostgreSQL + Redis, on the test's clock."""
    with backend_settings(request.param) as extra:
        settings = Settings(data_dir=tmp_path, allowed_audiences=(OTHER_API,),
                            rate_limits={"account_failures": 3},
                            clients={"rs": {"secret_hash": hash_secret(RS_SECRET)}}, **extra)
        with TestClient(create_app(settings, clock=clock)) as test_client:
            assert test_client.post("/v1/users", json={"email": "a@example.com", "password": PASSWORD,
                                                       "name": "Ada"}).status_code == 201
            yield test_client


def cookie_login(client: TestClient) -> str:
    """Signs the test client in with a cookie; returns the CSRF token."""
    response = client.post("/v1/session", json={"email": "a@example.com", "password": PASSWORD})
    assert response.status_code == 200, response.text
    csrf: str = response.json()["csrf_token"]
    return csrf


def token_login(client: TestClient, **extra: str) -> dict[str, Any]:
    """A password-grant token pair for the test user."""
    response = client.post("/v1/token", data={"grant_type": "password", "username": "a@example.com",
                                              "password": PASSWORD, **extra})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def bearer(token: str) -> dict[str, str]:
    """The Authorization header for ``token``."""
    return {"Authorization": f"Bearer {token}"}


def claims_of(token: str) -> dict[str, Any]:
    """The token's claims, read without checking (the server checked them)."""
    part = token.split(".")[1]
    payload: dict[str, Any] = orjson.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    return payload


def change_password(client: TestClient, headers: dict[str, str], current: str = PASSWORD,
                    new: str = NEW_PASSWORD) -> Any:
    """POST /v1/password with the given credential headers."""
    return client.post("/v1/password", headers=headers,
                       json={"current_password": current, "new_password": new})


def assert_needs_recent_login(response: Any) -> None:
    """The RFC 9470 answer: 401 insufficient_user_authentication with max_age."""
    assert response.status_code == 401, response.text
    assert response.json()["error"] == "insufficient_user_authentication"
    challenge = response.headers["www-authenticate"]
    assert 'error="insufficient_user_authentication"' in challenge
    assert f"max_age={MAX_AGE}" in challenge


# -- tokens minted for another API ------------------------------------------------


ACCOUNT_CALLS = [
    ("GET", "/v1/identities", None),
    ("POST", "/v1/identities/fake", {"redirect_to": "https://app.example/auth/done"}),
    ("DELETE", "/v1/identities/fake", None),
    ("POST", "/v1/identities/fake/complete", {"link_code": "x", "link_verifier": "y"}),
    ("POST", "/v1/password", {"current_password": PASSWORD, "new_password": NEW_PASSWORD}),
    ("GET", "/v1/sessions", None),
    ("DELETE", "/v1/sessions", None),
    ("DELETE", "/v1/sessions/someid", None),
    ("POST", "/v1/reauth", {"password": PASSWORD}),
]


@pytest.mark.parametrize(("method", "path", "body"), ACCOUNT_CALLS)
def test_a_token_for_another_api_is_refused_at_account_endpoints(
        client: TestClient, method: str, path: str, body: dict[str, str] | None) -> None:
    """A leaked token minted for some other API (even scope openid only) cannot touch the account.

    Before the fix authd accepted any audience it issues for, so such a token could link the
    holder's provider account to the victim (account takeover) or change the password.
    """
    leaked = token_login(client, audience=OTHER_API, scope="openid")["access_token"]
    assert claims_of(leaked)["aud"] == OTHER_API
    response = client.request(method, path, headers=bearer(leaked), json=body)
    assert response.status_code == 401, response.text
    assert response.json()["error"] == "invalid_token"
    assert 'error="invalid_token"' in response.headers["www-authenticate"]
    assert "another API" in response.json()["error_description"]


def test_a_token_for_authd_itself_reaches_the_account(client: TestClient) -> None:
    """Apps that ask for (or default to) the issuer as audience keep working."""
    token = token_login(client)["access_token"]
    assert client.get("/v1/sessions", headers=bearer(token)).status_code == 200
    assert client.get("/v1/identities", headers=bearer(token)).json() == {"identities": []}


# -- recent authentication ----------------------------------------------------------


def test_an_old_cookie_session_must_log_in_again_to_change_the_password(
        client: TestClient, clock: FixedClock) -> None:
    """A session left open (or stolen) for longer than sensitive_max_age cannot change the password."""
    csrf = cookie_login(client)
    headers = {"X-CSRF-Token": csrf}
    clock.advance(MAX_AGE + 1)
    assert_needs_recent_login(change_password(client, headers))
    assert_needs_recent_login(client.delete("/v1/identities/fake", headers=headers))
    wrong = client.post("/v1/reauth", headers=headers, json={"password": "not the password 1"})
    assert wrong.status_code == 401 and wrong.json()["error"] == "invalid_credentials"
    renewed = client.post("/v1/reauth", headers=headers, json={"password": PASSWORD})
    assert renewed.status_code == 200, renewed.text
    assert renewed.json()["auth_time"] == int(clock.now())
    assert change_password(client, headers).status_code == 204


def test_a_fresh_login_may_change_the_password(client: TestClient, clock: FixedClock) -> None:
    """Within sensitive_max_age of the login nothing more is asked."""
    csrf = cookie_login(client)
    clock.advance(MAX_AGE - 5)
    assert change_password(client, {"X-CSRF-Token": csrf}).status_code == 204


def test_reauth_needs_the_csrf_token(client: TestClient, clock: FixedClock) -> None:
    """A cross-site page cannot renew the victim's auth_time."""
    cookie_login(client)
    refused = client.post("/v1/reauth", json={"password": PASSWORD})
    assert refused.status_code == 403


def test_refreshing_keeps_the_old_auth_time(client: TestClient, clock: FixedClock) -> None:
    """A refresh token (perhaps stolen) yields tokens that still say when the user last logged in."""
    pair = token_login(client)
    login_time = claims_of(pair["access_token"])["auth_time"]
    assert abs(login_time - clock.now()) <= 1
    clock.advance(MAX_AGE + 1)
    refreshed = client.post("/v1/token", data={"grant_type": "refresh_token",
                                               "refresh_token": pair["refresh_token"]}).json()
    assert claims_of(refreshed["access_token"])["auth_time"] == login_time
    assert_needs_recent_login(change_password(client, bearer(refreshed["access_token"])))


def test_token_callers_reauthenticate_and_the_family_remembers(client: TestClient,
                                                                clock: FixedClock) -> None:
    """POST /v1/reauth answers a fresh access token; later refreshes carry its auth_time."""
    pair = token_login(client)
    clock.advance(MAX_AGE + 1)
    pair = client.post("/v1/token", data={"grant_type": "refresh_token",
                                          "refresh_token": pair["refresh_token"]}).json()
    old = pair["access_token"]  # alive, but from a login long ago
    assert_needs_recent_login(client.delete("/v1/identities/fake", headers=bearer(old)))
    renewed = client.post("/v1/reauth", headers=bearer(old), json={"password": PASSWORD})
    assert renewed.status_code == 200, renewed.text
    body = renewed.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] > 0
    fresh = body["access_token"]
    assert claims_of(fresh)["auth_time"] == int(clock.now())
    assert claims_of(fresh)["sid"] == claims_of(old)["sid"]
    clock.advance(30)
    refreshed = client.post("/v1/token", data={"grant_type": "refresh_token",
                                               "refresh_token": pair["refresh_token"]}).json()
    assert claims_of(refreshed["access_token"])["auth_time"] == claims_of(fresh)["auth_time"]
    assert change_password(client, bearer(refreshed["access_token"])).status_code == 204


def test_reauth_counts_against_the_login_limit(client: TestClient, clock: FixedClock) -> None:
    """Re-login is no way around the brute-force guard: wrong passwords lock it like logins."""
    csrf = cookie_login(client)
    headers = {"X-CSRF-Token": csrf}
    for _ in range(3):
        wrong = client.post("/v1/reauth", headers=headers, json={"password": "guess guess guess 1"})
        assert wrong.status_code == 401
    locked = client.post("/v1/reauth", headers=headers, json={"password": PASSWORD})
    assert locked.status_code == 429 and "retry-after" in locked.headers


@pytest.mark.parametrize("body", [{}, {"password": 42}, {"password": None}])
def test_malformed_reauth_is_400(client: TestClient, body: dict[str, Any]) -> None:
    """Bad input is a clear 4xx, never a 500."""
    csrf = cookie_login(client)
    answer = client.post("/v1/reauth", headers={"X-CSRF-Token": csrf}, json=body)
    assert answer.status_code == 400 and answer.json()["error"] == "invalid_request"


def test_reauth_needs_a_caller(client: TestClient) -> None:
    """Nobody signed in: 401 invalid_token, as for every account endpoint."""
    assert client.post("/v1/reauth", json={"password": PASSWORD}).status_code == 401


# -- userinfo follows the scopes ----------------------------------------------------


@pytest.mark.parametrize(("scope", "expected"), [
    ("openid", {"sub"}),
    ("openid email", {"sub", "email", "email_verified"}),
    ("openid profile", {"sub", "name"}),
    ("openid profile email", {"sub", "email", "email_verified", "name"}),
])
def test_userinfo_releases_only_what_the_scopes_allow(client: TestClient, scope: str,
                                                      expected: set[str]) -> None:
    """OIDC Core 5.4: a token with scope openid only learns the subject, not the email."""
    token = token_login(client, scope=scope)["access_token"]
    info = client.get("/v1/userinfo", headers=bearer(token)).json()
    assert set(info) == expected


def test_cookie_callers_see_their_whole_profile(client: TestClient) -> None:
    """The user at authd itself sees their own email and name, as GET /v1/session shows them."""
    cookie_login(client)
    info = client.get("/v1/userinfo").json()
    assert info["email"] == "a@example.com" and info["name"] == "Ada" and "sub" in info


def test_introspection_tells_when_the_user_logged_in(client: TestClient, clock: FixedClock) -> None:
    """A resource server can apply its own max_age: auth_time is in the answer for both kinds."""
    pair = token_login(client)
    login_time = claims_of(pair["access_token"])["auth_time"]
    clock.advance(60)
    for token in (pair["access_token"], pair["refresh_token"]):
        answer = client.post("/v1/introspect", auth=("rs", RS_SECRET), data={"token": token}).json()
        assert answer["active"] is True and answer["auth_time"] == login_time
