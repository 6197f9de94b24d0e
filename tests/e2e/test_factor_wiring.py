"""Passkeys and the other second factors together, over a real server (SQLite and PostgreSQL):
a passkey finishes a password login's second step, renews a login at /v1/reauth, shows in
GET /v1/mfa and the data export, and goes with an operator's reset."""

from __future__ import annotations

import base64
import json
import secrets
from typing import Any

import httpx
import orjson

from authd.core.clients import hash_secret
from tests.e2e.conftest import PASSWORD, bearer, login, new_email, serving, sign_up
from tests.serverproc import AuthdServer
from tests.webauthn_authenticator import SoftAuthenticator

MFA_GRANT = "urn:authd:params:oauth:grant-type:mfa"
PASSKEY_GRANT = "urn:authd:params:oauth:grant-type:passkey"


def _claims(access_token: str) -> dict[str, Any]:
    payload = access_token.split(".")[1]
    claims: dict[str, Any] = orjson.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return claims


def _with_passkey(server: AuthdServer, http: httpx.Client) -> tuple[str, SoftAuthenticator, str]:
    """A new user who enrolled one passkey: email, authenticator, the enrolling access token."""
    email = sign_up(http)
    token = login(http, email)["access_token"]
    device = SoftAuthenticator(server.url)
    started = http.post("/v1/passkeys/registration", headers=bearer(token)).json()
    created = http.post("/v1/passkeys", headers=bearer(token), json={
        "challenge_id": started["challenge_id"], "credential": device.create(started["options"])})
    assert created.status_code == 201, created.text
    return email, device, token


def _assertion(http: httpx.Client, device: SoftAuthenticator, email: str) -> tuple[str, str]:
    challenge = http.post("/v1/passkeys/challenge", json={"email": email}).json()
    return challenge["challenge_id"], json.dumps(device.get(challenge["options"]))


def test_a_passkey_login_carries_hwk_and_user(server: AuthdServer, http: httpx.Client) -> None:
    """A passwordless passkey login is a whole login: its access token's amr is hwk + user."""
    email, device, _ = _with_passkey(server, http)
    challenge_id, credential = _assertion(http, device, email)
    answer = http.post("/v1/token", data={"grant_type": PASSKEY_GRANT,
                                          "challenge_id": challenge_id, "credential": credential})
    assert answer.status_code == 200, answer.text
    assert _claims(answer.json()["access_token"])["amr"] == ["hwk", "user"]


def test_a_passkey_finishes_a_password_logins_second_step(server: AuthdServer,
                                                          http: httpx.Client) -> None:
    """With a passkey enrolled, the password alone yields mfa_required (factors name the
    passkey); the passkey's assertion completes it once, and the token says pwd + hwk + mfa."""
    email, device, _ = _with_passkey(server, http)
    first = http.post("/v1/token", data={"grant_type": "password", "username": email,
                                         "password": PASSWORD})
    assert first.status_code == 400 and first.json()["error"] == "mfa_required", first.text
    assert "access_token" not in first.json() and "passkey" in first.json()["factors"]
    mfa_token = first.json()["mfa_token"]
    _, credential = _assertion(http, device, email)
    done = http.post("/v1/token", data={"grant_type": MFA_GRANT, "mfa_token": mfa_token,
                                        "credential": credential})
    assert done.status_code == 200, done.text
    assert set(_claims(done.json()["access_token"])["amr"]) == {"pwd", "hwk", "mfa"}
    again = http.post("/v1/token", data={"grant_type": MFA_GRANT, "mfa_token": mfa_token,
                                         "credential": credential})
    assert again.status_code == 400 and "access_token" not in again.json()


def test_another_users_passkey_cannot_finish_a_second_step(server: AuthdServer,
                                                           http: httpx.Client) -> None:
    """Mallory's passkey answering a challenge does not finish Alice's mfa_token."""
    alice, _, _ = _with_passkey(server, http)
    mallory, mallory_device, _ = _with_passkey(server, http)
    first = http.post("/v1/token", data={"grant_type": "password", "username": alice,
                                         "password": PASSWORD}).json()
    _, credential = _assertion(http, mallory_device, mallory)
    answer = http.post("/v1/token", data={"grant_type": MFA_GRANT,
                                          "mfa_token": first["mfa_token"], "credential": credential})
    assert answer.status_code in (400, 401) and "access_token" not in answer.json()


def test_a_passkey_renews_a_login_for_sensitive_actions(server: AuthdServer,
                                                        http: httpx.Client) -> None:
    """POST /v1/reauth with a passkey assertion answers a fresh token whose amr is hwk; a
    garbage credential is a 400, never a 500."""
    email, device, token = _with_passkey(server, http)
    _, credential = _assertion(http, device, email)
    renewed = http.post("/v1/reauth", headers=bearer(token),
                        json={"credential": json.loads(credential)})
    assert renewed.status_code == 200, renewed.text
    assert "hwk" in _claims(renewed.json()["access_token"])["amr"]
    garbage = http.post("/v1/reauth", headers=bearer(token), json={"credential": {"id": 1}})
    assert garbage.status_code == 400


def test_status_export_and_the_operators_reset_see_passkeys(tmp_path: Any) -> None:
    """GET /v1/mfa counts passkeys, the export lists them without key material, and
    DELETE /admin/v1/users/{id}/mfa removes them: the password alone signs in again."""
    admin_secret = secrets.token_urlsafe(32)
    clients = {"ops": {"secret_hash": hash_secret(admin_secret), "scopes": ["authd:admin"]}}
    with serving(tmp_path, "sqlite", {"AUTHD_CLIENTS": orjson.dumps(clients).decode()}) as srv, \
            srv.client() as http:
        email, _, token = _with_passkey(srv, http)
        status = http.get("/v1/mfa", headers=bearer(token)).json()
        exported = http.get("/v1/me/export", headers=bearer(token)).json()
        user_id = _claims(token)["sub"]
        admin = http.post("/v1/token", data={"grant_type": "client_credentials"},
                          auth=("ops", admin_secret)).json()["access_token"]
        anonymous = http.delete(f"/admin/v1/users/{user_id}/mfa")
        reset = http.delete(f"/admin/v1/users/{user_id}/mfa", headers=bearer(admin))
        unknown = http.delete(f"/admin/v1/users/{new_email()}/mfa", headers=bearer(admin))
        after = http.post("/v1/token", data={"grant_type": "password", "username": email,
                                             "password": PASSWORD})
    assert status == {"totp": False, "passkeys": 1, "recovery_codes_left": 0}
    [row] = exported["factors"]["passkeys"]
    assert set(row) == {"id", "name", "created_at", "last_used_at", "transports"}
    assert exported["factors"]["totp"]["enabled"] is False
    assert anonymous.status_code == 401
    assert reset.status_code == 204 and unknown.status_code == 404
    assert after.status_code == 200 and "access_token" in after.json()
