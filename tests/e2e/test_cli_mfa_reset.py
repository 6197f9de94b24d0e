"""`authd users mfa-reset`: an operator removes a user's second factors after a lost device.

A real server process and the real CLI, over SQLite and PostgreSQL. What
users rely on: after the reset the password alone signs them in again, the
reset is in the audit trail, and an unknown address is an error.
"""

from __future__ import annotations

import json
import time

import pyotp
import pytest

from tests.e2e.conftest import PASSWORD, bearer, login, sign_up, start_server


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_mfa_reset_lets_the_password_alone_sign_in_and_is_audited(tmp_path, backend: str) -> None:
    """Before: mfa_required. After the reset: tokens, and one mfa.reset audit row."""
    srv, _ = start_server(tmp_path, backend)
    try:
        with srv.client() as http:
            email = sign_up(http)
            headers = bearer(login(http, email)["access_token"])
            secret = http.post("/v1/mfa/totp", headers=headers).json()["secret"]
            assert http.post("/v1/mfa/totp/confirm", json={"code": pyotp.TOTP(secret).at(time.time())},
                             headers=headers).status_code == 200
            grant = {"grant_type": "password", "username": email, "password": PASSWORD}
            assert http.post("/v1/token", data=grant).json()["error"] == "mfa_required"
            assert "second factors removed" in srv.cli("users", "mfa-reset", email).stdout
            after = http.post("/v1/token", data=grant)
            assert after.status_code == 200, after.text
            assert http.get("/v1/mfa", headers=headers).json() == {
                "totp": False, "passkeys": 0, "recovery_codes_left": 0}
        rows = [json.loads(line) for line in
                srv.cli("audit", "--event", "mfa.reset").stdout.splitlines()]
        assert len(rows) == 1
        unknown = srv.cli("users", "mfa-reset", "nobody@example.com", check=False)
        assert unknown.returncode == 1 and "no such user" in unknown.stderr
    finally:
        srv.stop()
