"""TOTP enrolment, recovery codes and removal, over SQLite, PostgreSQL and PostgreSQL + Redis.

In-process app on an injected clock; codes come from pyotp, as from a phone.
The attacks: enrolling or removing a factor with an old (stolen) session,
replaying a TOTP code, and reusing a recovery code.
"""

from __future__ import annotations

from typing import Any

import pyotp
from starlette.testclient import TestClient

from authd.clock import FixedClock
from tests.http.test_account_access import (  # noqa: F401 (fixtures)
    MAX_AGE,
    client,
    clock,
    cookie_login,
    token_login,
)


def bearer(pair: dict[str, Any]) -> dict[str, str]:
    """The Authorization header of a token pair."""
    return {"Authorization": f"Bearer {pair['access_token']}"}


def enrol(client: TestClient, clock: FixedClock, headers: dict[str, str]  # noqa: F811
          ) -> tuple[pyotp.TOTP, list[str]]:
    """Turns TOTP on for the caller; returns the phone's generator and the recovery codes."""
    begun = client.post("/v1/mfa/totp", headers=headers)
    assert begun.status_code == 200, begun.text
    body = begun.json()
    assert body["qr_svg"].startswith("<svg") and body["otpauth_uri"].startswith("otpauth://totp/")
    phone = pyotp.TOTP(body["secret"])
    confirmed = client.post("/v1/mfa/totp/confirm", json={"code": phone.at(clock.now())},
                            headers=headers)
    assert confirmed.status_code == 200, confirmed.text
    codes: list[str] = confirmed.json()["recovery_codes"]
    return phone, codes


def test_enrol_confirm_status_regenerate_and_remove(client: TestClient,  # noqa: F811
                                                    clock: FixedClock) -> None:  # noqa: F811
    """The whole lifecycle with a token: ten distinct codes; regenerating voids the old set."""
    headers = bearer(token_login(client))
    assert client.get("/v1/mfa", headers=headers).json() == {
        "totp": False, "passkeys": 0, "recovery_codes_left": 0}
    _, codes = enrol(client, clock, headers)
    assert len(set(codes)) == 10
    assert client.get("/v1/mfa", headers=headers).json() == {
        "totp": True, "passkeys": 0, "recovery_codes_left": 10}
    assert client.post("/v1/mfa/totp", headers=headers).status_code == 409  # remove it first
    renewed = client.post("/v1/mfa/recovery-codes", headers=headers)
    assert renewed.status_code == 200 and not set(renewed.json()["recovery_codes"]) & set(codes)
    assert client.delete("/v1/mfa/totp", headers=headers).status_code == 204
    assert client.get("/v1/mfa", headers=headers).json()["totp"] is False
    assert client.delete("/v1/mfa/totp", headers=headers).status_code == 404


def test_a_wrong_first_code_leaves_totp_off(client: TestClient,  # noqa: F811
                                            clock: FixedClock) -> None:  # noqa: F811
    """Confirming with a wrong or malformed code is a 400, and nothing is enabled."""
    headers = bearer(token_login(client))
    secret = client.post("/v1/mfa/totp", headers=headers).json()["secret"]
    wrong = str((int(pyotp.TOTP(secret).at(clock.now())) + 1) % 1_000_000).zfill(6)
    for body in ({"code": wrong}, {"code": 123456}, {}, {"code": "x" * 100}):
        answer = client.post("/v1/mfa/totp/confirm", json=body, headers=headers)
        assert answer.status_code == 400, (body, answer.text)
    assert client.get("/v1/mfa", headers=headers).json()["totp"] is False


def test_enrolling_or_removing_needs_a_recent_login(client: TestClient,  # noqa: F811
                                                    clock: FixedClock) -> None:  # noqa: F811
    """A stolen but old cookie session cannot add or remove a factor (RFC 9470 401)."""
    csrf = cookie_login(client)
    headers = {"X-CSRF-Token": csrf}
    enrol(client, clock, headers)
    clock.advance(MAX_AGE + 1)
    for method, path in (("POST", "/v1/mfa/totp"), ("DELETE", "/v1/mfa/totp"),
                         ("POST", "/v1/mfa/recovery-codes"), ("POST", "/v1/mfa/totp/confirm")):
        answer = client.request(method, path, headers=headers, json={"code": "123456"})
        assert answer.status_code == 401, (path, answer.text)
        assert answer.json()["error"] == "insufficient_user_authentication"
        assert f"max_age={MAX_AGE}" in answer.headers["www-authenticate"]
    assert client.get("/v1/mfa").json()["totp"] is True


def test_a_totp_code_renews_a_login_once(client: TestClient,  # noqa: F811
                                         clock: FixedClock) -> None:  # noqa: F811
    """POST /v1/reauth {otp}: auth_time renewed and amr ["otp"]; the same code again is 401."""
    csrf = cookie_login(client)
    headers = {"X-CSRF-Token": csrf}
    phone, _ = enrol(client, clock, headers)
    clock.advance(MAX_AGE + 30)
    code = phone.at(clock.now())
    renewed = client.post("/v1/reauth", json={"otp": code}, headers=headers)
    assert renewed.status_code == 200, renewed.text
    assert renewed.json()["auth_time"] == int(clock.now())
    assert client.get("/v1/session").json()["session"]["amr"] == ["otp"]
    replay = client.post("/v1/reauth", json={"otp": code}, headers=headers)
    assert replay.status_code == 401 and replay.json()["error"] == "invalid_credentials"
