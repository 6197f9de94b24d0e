"""Social login of a user with a second factor: asked for it too, in token and session mode.

A real authd process per backend and a fake OIDC provider on loopback (the
shared ``social`` fixture). What users rely on: a provider login alone never
opens an account that has TOTP on — no cookie, no tokens — and finishing
with the code gives a login whose ``amr`` says fed + otp + mfa.
"""

from __future__ import annotations

import base64
import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import orjson
import pyotp

from tests.e2e.conftest import bearer
from tests.e2e.social import APP, Social, back_at_app, has_session, log_in
from tests.peers.fake_oidc import new_user

MFA_GRANT = "urn:authd:params:oauth:grant-type:mfa"


def _enrol_by_cookie(social: Social, browser: httpx.Client) -> pyotp.TOTP:
    """A first social login (cookie), then TOTP on; the browser is signed out after."""
    social.op.user = new_user()
    log_in(social, browser)
    csrf = browser.get(f"{social.url}/v1/session").json()["csrf_token"]
    headers = {"X-CSRF-Token": csrf}
    secret = browser.post(f"{social.url}/v1/mfa/totp", headers=headers).json()["secret"]
    phone = pyotp.TOTP(secret)
    confirmed = browser.post(f"{social.url}/v1/mfa/totp/confirm", headers=headers,
                             json={"code": phone.at(time.time())})
    assert confirmed.status_code == 200, confirmed.text
    browser.cookies.clear()
    return phone


def _amr(access_token: str) -> list[str]:
    """The amr claim of a token authd issued."""
    payload = access_token.split(".")[1]
    found: list[str] = orjson.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["amr"]
    return found


def test_session_mode_sends_the_mfa_token_in_the_fragment_and_sets_no_cookie(
        social: Social, browser: httpx.Client) -> None:
    """Back at the app with #error=mfa_required&mfa_token=… (no query, no cookie); the app
    finishes at /v1/session/mfa and gets the cookie, amr fed+otp+mfa."""
    phone = _enrol_by_cookie(social, browser)
    response = log_in(social, browser)
    assert response.status_code == 302
    location = urlsplit(response.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == APP and not location.query
    fragment = {k: v[0] for k, v in parse_qs(location.fragment).items()}
    assert fragment["error"] == "mfa_required" and fragment["factors"] == "totp recovery_code"
    assert "authd_session" not in response.headers.get("set-cookie", "")
    assert not has_session(browser, social.url)
    done = browser.post(f"{social.url}/v1/session/mfa", json={
        "mfa_token": fragment["mfa_token"], "otp": phone.at(time.time() + 30)})
    assert done.status_code == 200, done.text
    assert browser.get(f"{social.url}/v1/session").json()["session"]["amr"] == [
        "fed", "otp", "mfa"]


def test_token_mode_exchange_asks_for_the_factor_and_a_replayed_code_still_revokes(
        social: Social, browser: httpx.Client) -> None:
    """The one-time code exchange answers mfa_required; the mfa grant gives the tokens; a
    replay of the one-time code revokes the family the completed login created."""
    phone = _enrol_by_cookie(social, browser)
    query = back_at_app(log_in(social, browser, mode="token"))
    exchange = {"grant_type": "authorization_code", "code": query["code"]}
    first = browser.post(f"{social.url}/v1/token", data=exchange)
    assert first.status_code == 400, first.text
    body: dict[str, Any] = first.json()
    assert body["error"] == "mfa_required" and "access_token" not in body
    done = browser.post(f"{social.url}/v1/token", data={
        "grant_type": MFA_GRANT, "mfa_token": body["mfa_token"],
        "otp": phone.at(time.time() + 30)})
    assert done.status_code == 200, done.text
    tokens = done.json()
    assert _amr(tokens["access_token"]) == ["fed", "otp", "mfa"]
    replay = browser.post(f"{social.url}/v1/token", data=exchange)
    assert replay.status_code == 400 and replay.json()["error"] == "invalid_grant"
    refreshed = browser.post(f"{social.url}/v1/token", data={
        "grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]})
    assert refreshed.status_code == 400
    assert browser.get(f"{social.url}/v1/userinfo",
                       headers=bearer(tokens["access_token"])).status_code == 401
