"""The two-step login and its attacks, over SQLite, PostgreSQL and PostgreSQL + Redis.

In-process app on an injected clock (expiry without sleeping); TOTP codes
from pyotp, as from a phone. The attacks: skipping the second step, replaying
a TOTP code (again, and twice in parallel), brute-forcing an mfa_token, using
it twice, for another client or mode, after it expired, and reusing a
recovery code.
"""

from __future__ import annotations

import base64
import secrets
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import orjson
import pyotp
import pytest
from starlette.testclient import TestClient

from authd.clock import FixedClock
from authd.config import Settings
from authd.core.clients import hash_secret
from authd.http.app import create_app
from tests.conftest import backend_settings
from tests.http.test_mfa_enrolment import enrol

EMAIL = "a@example.com"
PASSWORD = "correct horse battery staple 42"
MFA_GRANT = "urn:authd:params:oauth:grant-type:mfa"
ACCOUNT_FAILURES = 8
OTHER_SECRET = secrets.token_urlsafe(32)


@pytest.fixture
def clock() -> FixedClock:
    """A clock the test moves: TOTP steps and mfa_token lifetimes change exactly."""
    return FixedClock(float(int(time.time()) // 30 * 30 + 5))


@pytest.fixture(params=["sqlite", "postgres", "redis"])
def client(request: pytest.FixtureRequest, tmp_path: Any, clock: FixedClock
           ) -> Iterator[TestClient]:
    """The app with a user a@example.com, over SQLite, PostgreSQL and PostgreSQL + Redis."""
    with backend_settings(request.param) as extra:
        settings = Settings(data_dir=tmp_path, rate_limits={"account_failures": ACCOUNT_FAILURES},
                            clients={"other": {"secret_hash": hash_secret(OTHER_SECRET)}}, **extra)
        with TestClient(create_app(settings, clock=clock)) as test_client:
            assert test_client.post("/v1/users", json={"email": EMAIL, "password": PASSWORD}
                                    ).status_code == 201
            yield test_client


@pytest.fixture
def enrolled(client: TestClient, clock: FixedClock) -> tuple[pyotp.TOTP, list[str]]:
    """The user has TOTP on; their phone and recovery codes. The enrolling session is ended."""
    pair = password_grant(client)
    phone, codes = enrol(client, clock, {"Authorization": f"Bearer {pair['access_token']}"})
    clock.advance(30)  # the enrolment's code is used: the next login needs the next one
    return phone, codes


def password_grant(client: TestClient, **extra: str) -> dict[str, Any]:
    """POST /v1/token with the password; the JSON answer, whatever its status."""
    body: dict[str, Any] = client.post("/v1/token", data={
        "grant_type": "password", "username": EMAIL, "password": PASSWORD, **extra}).json()
    return body


def first_step(client: TestClient, **extra: str) -> str:
    """A password grant that must stop at mfa_required; its mfa_token."""
    answer = client.post("/v1/token", data={"grant_type": "password", "username": EMAIL,
                                             "password": PASSWORD, **extra})
    assert answer.status_code == 400, answer.text
    body = answer.json()
    assert body["error"] == "mfa_required" and "access_token" not in body
    assert "set-cookie" not in answer.headers
    token: str = body["mfa_token"]
    return token


def second_step(client: TestClient, mfa_token: str, **proof: str) -> Any:
    """POST /v1/token with the mfa grant."""
    return client.post("/v1/token", data={"grant_type": MFA_GRANT, "mfa_token": mfa_token,
                                          **proof})


def amr_of(access_token: str) -> list[str]:
    """The amr claim of a token the server issued."""
    payload = access_token.split(".")[1]
    claims = orjson.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    found: list[str] = claims["amr"]
    return found


def test_the_first_step_alone_yields_no_token_and_no_cookie(
        client: TestClient, enrolled: tuple[pyotp.TOTP, list[str]]) -> None:
    """Token endpoint 400 and /v1/session 401, both mfa_required, with no credential at all."""
    token = first_step(client)
    assert len(token) >= 40
    answer = client.post("/v1/session", json={"email": EMAIL, "password": PASSWORD})
    assert answer.status_code == 401 and answer.json()["error"] == "mfa_required"
    assert answer.json()["factors"] == ["totp", "recovery_code"]
    assert "set-cookie" not in answer.headers and client.cookies.get("authd_session") is None
    assert client.get("/v1/session").status_code == 401


def test_totp_completes_a_token_login_once(client: TestClient, clock: FixedClock,
                                           enrolled: tuple[pyotp.TOTP, list[str]]) -> None:
    """The right code gives tokens with amr pwd+otp+mfa; the same mfa_token never works again."""
    phone, _ = enrolled
    token = first_step(client)
    done = second_step(client, token, otp=phone.at(clock.now()))
    assert done.status_code == 200, done.text
    assert amr_of(done.json()["access_token"]) == ["pwd", "otp", "mfa"]
    clock.advance(30)
    again = second_step(client, token, otp=phone.at(clock.now()))
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"


def test_a_totp_code_is_accepted_once(client: TestClient, clock: FixedClock,
                                      enrolled: tuple[pyotp.TOTP, list[str]]) -> None:
    """Replaying a code on a new login fails; the next step's code works."""
    phone, _ = enrolled
    code = phone.at(clock.now())
    assert second_step(client, first_step(client), otp=code).status_code == 200
    replay = second_step(client, first_step(client), otp=code)
    assert replay.status_code == 400 and replay.json()["error"] == "invalid_grant"
    clock.advance(30)
    assert second_step(client, first_step(client), otp=phone.at(clock.now())).status_code == 200


def test_one_code_in_two_parallel_logins_passes_once(
        client: TestClient, clock: FixedClock, enrolled: tuple[pyotp.TOTP, list[str]]) -> None:
    """Two second steps racing with the same code: exactly one gets tokens."""
    phone, _ = enrolled
    code = phone.at(clock.now())
    tokens = [first_step(client) for _ in range(2)]
    with ThreadPoolExecutor(2) as pool:
        statuses = sorted(pool.map(lambda t: second_step(client, t, otp=code).status_code,
                                   tokens))
    assert statuses == [200, 400]


def test_an_mfa_token_allows_five_tries(client: TestClient, clock: FixedClock,
                                        enrolled: tuple[pyotp.TOTP, list[str]]) -> None:
    """After five wrong codes even the right one is refused: the token is spent."""
    phone, _ = enrolled
    token = first_step(client)
    right = phone.at(clock.now())
    wrong = str((int(right) + 1) % 1_000_000).zfill(6)
    for _ in range(5):
        assert second_step(client, token, otp=wrong).json()["error"] == "invalid_grant"
    refused = second_step(client, token, otp=right)
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_grant"
    assert second_step(client, first_step(client), otp=right).status_code == 200


def test_wrong_second_factors_count_against_the_account(
        client: TestClient, clock: FixedClock, enrolled: tuple[pyotp.TOTP, list[str]]) -> None:
    """Guessing across fresh mfa_tokens hits the per-account limit: 429 with Retry-After,
    for the next guess and for the password step too."""
    tokens = [first_step(client) for _ in range(ACCOUNT_FAILURES + 1)]
    for token in tokens[:-1]:
        assert second_step(client, token, otp="000000").status_code == 400
    locked = second_step(client, tokens[-1], otp="000000")
    assert locked.status_code == 429 and int(locked.headers["retry-after"]) > 0
    assert client.post("/v1/token", data={"grant_type": "password", "username": EMAIL,
                                          "password": PASSWORD}).status_code == 429


def test_an_mfa_token_is_bound_to_its_client_and_mode(
        client: TestClient, clock: FixedClock, enrolled: tuple[pyotp.TOTP, list[str]]) -> None:
    """Another client cannot finish it; a cookie login's token does not give tokens."""
    phone, _ = enrolled
    token = first_step(client)
    other = client.post("/v1/token", auth=("other", OTHER_SECRET),
                        data={"grant_type": MFA_GRANT, "mfa_token": token,
                              "otp": phone.at(clock.now())})
    assert other.status_code == 400 and other.json()["error"] == "invalid_grant"
    session_token = client.post("/v1/session", json={"email": EMAIL, "password": PASSWORD}
                                ).json()["mfa_token"]
    crossed = second_step(client, session_token, otp=phone.at(clock.now()))
    assert crossed.status_code == 400
    cookie_for_token = client.post("/v1/session/mfa", json={"mfa_token": token,
                                                            "otp": phone.at(clock.now())})
    assert cookie_for_token.status_code == 401 and "set-cookie" not in cookie_for_token.headers


def test_an_mfa_token_expires_after_five_minutes(
        client: TestClient, clock: FixedClock, enrolled: tuple[pyotp.TOTP, list[str]]) -> None:
    """At 300 s the token is dead, whatever the code."""
    phone, _ = enrolled
    token = first_step(client)
    clock.advance(300)
    late = second_step(client, token, otp=phone.at(clock.now()))
    assert late.status_code == 400 and late.json()["error"] == "invalid_grant"


def test_a_recovery_code_finishes_a_cookie_login_once(
        client: TestClient, enrolled: tuple[pyotp.TOTP, list[str]]) -> None:
    """/v1/session/mfa with a recovery code sets the cookie; the code is then spent."""
    _, codes = enrolled
    token = client.post("/v1/session", json={"email": EMAIL, "password": PASSWORD}
                        ).json()["mfa_token"]
    done = client.post("/v1/session/mfa", json={"mfa_token": token,
                                                "recovery_code": codes[0].upper()})
    assert done.status_code == 200, done.text and "set-cookie" in done.headers
    assert client.get("/v1/session").json()["session"]["amr"] == ["pwd", "otp", "mfa"]
    assert client.get("/v1/mfa").json()["recovery_codes_left"] == 9
    client.cookies.clear()
    again = client.post("/v1/session", json={"email": EMAIL, "password": PASSWORD}
                        ).json()["mfa_token"]
    reused = client.post("/v1/session/mfa", json={"mfa_token": again, "recovery_code": codes[0]})
    assert reused.status_code == 401 and "set-cookie" not in reused.headers


def test_bad_second_steps_are_clean_400s(client: TestClient,
                                         enrolled: tuple[pyotp.TOTP, list[str]]) -> None:
    """No factor, two factors, a credential that is no passkey assertion, a missing token: 400."""
    token = first_step(client)
    for proof in ({}, {"otp": "123456", "recovery_code": "abcde-fghij"},
                  {"credential": "{}"}):
        answer = second_step(client, token, **proof)
        assert answer.status_code == 400 and answer.json()["error"] == "invalid_request", proof
    assert "not a valid PublicKeyCredential" in second_step(client, token, credential="{}").text
    missing = client.post("/v1/token", data={"grant_type": MFA_GRANT, "otp": "123456"})
    assert missing.status_code == 400 and missing.json()["error"] == "invalid_request"
    bad_json = client.post("/v1/session/mfa", json={"mfa_token": ["x"], "otp": "123456"})
    assert bad_json.status_code == 400


def test_users_without_a_factor_sign_in_in_one_step(client: TestClient) -> None:
    """No second factor: the password grant answers tokens at once, amr ["pwd"]."""
    pair = password_grant(client)
    assert amr_of(pair["access_token"]) == ["pwd"]
