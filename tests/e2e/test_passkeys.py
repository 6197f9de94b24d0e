"""Passkeys over a real server (SQLite and PostgreSQL): enrol, list, remove, and sign in by the
token grant or a cookie session, with a software authenticator playing the browser."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import PASSWORD, bearer, login, serving, sign_up
from tests.serverproc import AuthdServer
from tests.webauthn_authenticator import SoftAuthenticator, tamper

PASSKEY_GRANT = "urn:authd:params:oauth:grant-type:passkey"


def _enrolled(server: AuthdServer, http: httpx.Client) -> tuple[str, SoftAuthenticator, dict[str, str]]:
    """A new user with one passkey: their email, their authenticator, their Bearer headers."""
    email = sign_up(http)
    auth = bearer(login(http, email)["access_token"])
    device = SoftAuthenticator(server.url)
    started = http.post("/v1/passkeys/registration", headers=auth)
    assert started.status_code == 200, started.text
    challenge = started.json()
    created = http.post("/v1/passkeys", headers=auth, json={
        "challenge_id": challenge["challenge_id"], "credential": device.create(challenge["options"]),
        "name": "phone"})
    assert created.status_code == 201, created.text
    assert set(created.json()) == {"id", "name", "created_at"}
    return email, device, auth


def _challenge(http: httpx.Client, email: str | None = None) -> dict[str, Any]:
    response = http.post("/v1/passkeys/challenge", json={"email": email} if email else {})
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    body: dict[str, Any] = response.json()
    return body


def _grant(http: httpx.Client, challenge_id: str, credential: Any) -> httpx.Response:
    return http.post("/v1/token", data={
        "grant_type": PASSKEY_GRANT, "challenge_id": challenge_id,
        "credential": credential if isinstance(credential, str) else json.dumps(credential)})


def test_a_passkey_signs_in_by_the_token_grant(server: AuthdServer, http: httpx.Client) -> None:
    """Register a passkey with a token, then sign in with it alone: a token pair for the user."""
    email, device, auth = _enrolled(server, http)
    challenge = _challenge(http)
    assert challenge["options"]["userVerification"] == "required"
    response = _grant(http, challenge["challenge_id"], device.get(challenge["options"]))
    assert response.status_code == 200, response.text
    tokens = response.json()
    assert tokens["refresh_token"]
    me = http.get("/v1/userinfo", headers=bearer(tokens["access_token"]))
    assert me.json()["email"] == email
    [listed] = http.get("/v1/passkeys", headers=auth).json()["passkeys"]
    assert listed["name"] == "phone" and listed["last_used_at"] is not None


def test_a_passkey_starts_a_cookie_session(server: AuthdServer) -> None:
    """POST /v1/session with an assertion (started by email) sets the session cookie."""
    with server.client() as http:
        email, device, _ = _enrolled(server, http)
    with server.client() as browser:
        challenge = _challenge(browser, email)
        response = browser.post("/v1/session", json={
            "challenge_id": challenge["challenge_id"], "credential": device.get(challenge["options"])})
        assert response.status_code == 200, response.text
        assert response.json()["user"]["email"] == email
        assert browser.get("/v1/session").status_code == 200


def test_a_passkey_login_from_a_foreign_page_is_refused(server: AuthdServer,
                                                        http: httpx.Client) -> None:
    """A cookie login posted from an origin that is not allowed is a CSRF attempt: 403."""
    _, device, _ = _enrolled(server, http)
    challenge = _challenge(http)
    response = http.post("/v1/session", headers={"Origin": "https://evil.example"}, json={
        "challenge_id": challenge["challenge_id"], "credential": device.get(challenge["options"])})
    assert response.status_code == 403


@pytest.mark.parametrize("bend", [{"uv": False}, {"origin": "https://evil.example"},
                                  {"rp_id": "evil.example"}, {"tamper": True}])
def test_a_bent_assertion_is_an_invalid_grant(server: AuthdServer, http: httpx.Client,
                                              bend: dict[str, Any]) -> None:
    """No user verification, a phishing origin, another rp id or a tampered signature: the token
    endpoint answers invalid_grant, the session endpoint 401."""
    _, device, _ = _enrolled(server, http)
    bend = dict(bend)
    flip = bend.pop("tamper", False)
    challenge = _challenge(http)
    assertion = device.get(challenge["options"], **bend)
    response = _grant(http, challenge["challenge_id"], tamper(assertion) if flip else assertion)
    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"
    challenge = _challenge(http)
    assertion = device.get(challenge["options"], **bend)
    response = http.post("/v1/session", json={
        "challenge_id": challenge["challenge_id"],
        "credential": tamper(assertion) if flip else assertion})
    assert response.status_code == 401 and response.json()["error"] == "invalid_credentials"


def test_a_replayed_assertion_is_refused(server: AuthdServer, http: httpx.Client) -> None:
    """The same challenge and assertion a second time: invalid_grant."""
    _, device, _ = _enrolled(server, http)
    challenge = _challenge(http)
    assertion = device.get(challenge["options"])
    assert _grant(http, challenge["challenge_id"], assertion).status_code == 200
    again = _grant(http, challenge["challenge_id"], assertion)
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"


@pytest.mark.parametrize("credential", ["not json", "[]", "{}", '{"id": 1}', "null",
                                        '{"id":"AA","rawId":"AA","type":"public-key","response":'
                                        '{"clientDataJSON":"@@","authenticatorData":"","signature":""}}'])
def test_garbage_credentials_are_400s(server: AuthdServer, http: httpx.Client, credential: str) -> None:
    """Whatever arrives as a credential, the answer is a clean 400 invalid_request, never a 500."""
    challenge = _challenge(http)
    response = _grant(http, challenge["challenge_id"], credential)
    assert response.status_code == 400 and response.json()["error"] == "invalid_request"
    as_json = credential if credential == "not json" else json.loads(credential)
    response = http.post("/v1/session", json={"challenge_id": challenge["challenge_id"],
                                              "credential": as_json})
    assert response.status_code == 400 and response.json()["error"] == "invalid_request"


def test_bad_challenge_requests_are_400s(http: httpx.Client) -> None:
    """A non-string email, or a grant without its parameters, is a 400."""
    assert http.post("/v1/passkeys/challenge", json={"email": 7}).status_code == 400
    response = http.post("/v1/token", data={"grant_type": PASSKEY_GRANT})
    assert response.status_code == 400 and response.json()["error"] == "invalid_request"


def test_an_unknown_address_gets_options_of_the_same_shape(server: AuthdServer,
                                                            http: httpx.Client) -> None:
    """The challenge for an address nobody has looks like one for a real account."""
    email, _, _ = _enrolled(server, http)
    real, unknown = _challenge(http, email)["options"], _challenge(http, "no-one@example.com")["options"]
    assert set(real) == set(unknown)
    assert [set(c) for c in real["allowCredentials"]] == [set(c) for c in unknown["allowCredentials"]][:1]


def test_passkeys_are_removed_only_by_their_owner(server: AuthdServer, http: httpx.Client) -> None:
    """Another user's passkey id is a 404; the owner's removal works and the passkey is dead."""
    _, device, auth = _enrolled(server, http)
    _, _, other = _enrolled(server, http)
    [mine] = http.get("/v1/passkeys", headers=auth).json()["passkeys"]
    assert http.delete(f"/v1/passkeys/{mine['id']}", headers=other).status_code == 404
    assert http.delete(f"/v1/passkeys/{mine['id']}", headers=auth).status_code == 204
    assert http.get("/v1/passkeys", headers=auth).json()["passkeys"] == []
    challenge = _challenge(http)
    response = _grant(http, challenge["challenge_id"],
                      device.get(challenge["options"], credential=device.credentials[0]))
    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"


def test_enrolment_needs_a_signed_in_user(http: httpx.Client) -> None:
    """Without a token or session, registration and the passkey list are 401."""
    assert http.post("/v1/passkeys/registration").status_code == 401
    assert http.get("/v1/passkeys").status_code == 401


def test_failed_passkey_sign_ins_are_limited_per_ip(tmp_path: Path) -> None:
    """With ip_failures = 3, the fourth attempt from one address is 429 with Retry-After."""
    with serving(tmp_path, "sqlite", {"AUTHD_RATE_LIMITS__IP_FAILURES": "3"}) as server, \
            server.client() as http:
        _, device, _ = _enrolled(server, http)
        statuses = []
        for _ in range(4):
            challenge = _challenge(http)
            statuses.append(_grant(http, challenge["challenge_id"],
                                   device.get(challenge["options"], uv=False)))
        assert [r.status_code for r in statuses] == [400, 400, 400, 429]
        assert int(statuses[-1].headers["retry-after"]) > 0


def test_a_cookie_session_enrols_with_its_csrf_token(server: AuthdServer) -> None:
    """In cookie mode, enrolling needs the session's X-CSRF-Token (403 without it), then works
    the same way, and the new passkey signs the browser in."""
    with server.client() as browser:
        email = sign_up(browser)
        login = browser.post("/v1/session", json={"email": email, "password": PASSWORD})
        csrf = {"X-CSRF-Token": login.json()["csrf_token"]}
        assert browser.post("/v1/passkeys/registration").status_code == 403
        challenge = browser.post("/v1/passkeys/registration", headers=csrf).json()
        device = SoftAuthenticator(server.url)
        created = browser.post("/v1/passkeys", headers=csrf, json={
            "challenge_id": challenge["challenge_id"], "credential": device.create(challenge["options"])})
        assert created.status_code == 201, created.text
        assert created.json()["name"] == "Passkey"
    with server.client() as other:
        started = _challenge(other)
        response = other.post("/v1/session", json={
            "challenge_id": started["challenge_id"], "credential": device.get(started["options"])})
        assert response.status_code == 200 and response.json()["user"]["email"] == email
