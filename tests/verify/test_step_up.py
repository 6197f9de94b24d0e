"""Step-up in authd.verify (RFC 9470) against tokens a real authd process issued.

What an API relies on: it can demand a recent login (``max_age``) or a
stronger one (``amr``, e.g. a second factor), and gets a dedicated exception
from ``TokenVerifier.verify`` and a 401 ``insufficient_user_authentication``
challenge from the Starlette dependencies.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pyotp
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from authd.clock import FixedClock
from authd.verify import InsufficientUserAuthentication, InvalidToken, TokenVerifier, require_token
from tests.e2e.conftest import bearer, login, sign_up, start_server
from tests.serverproc import AuthdServer

MFA_GRANT = "urn:authd:params:oauth:grant-type:mfa"


@pytest.fixture(scope="module")
def authd() -> Iterator[AuthdServer]:
    """A real authd process (SQLite) issuing the tokens."""
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as tmp:
        server, _ = start_server(Path(tmp), "sqlite")
        yield server
        server.stop()


@pytest.fixture(scope="module")
def tokens(authd: AuthdServer) -> dict[str, str]:
    """A password-only access token and a password+TOTP one, for two users."""
    with authd.client() as http:
        plain = login(http, sign_up(http))["access_token"]
        email = sign_up(http)
        headers = bearer(login(http, email)["access_token"])
        secret = http.post("/v1/mfa/totp", headers=headers).json()["secret"]
        phone = pyotp.TOTP(secret)
        now = time.time()
        assert http.post("/v1/mfa/totp/confirm", json={"code": phone.at(now)},
                         headers=headers).status_code == 200
        first = http.post("/v1/token", data={"grant_type": "password", "username": email,
                                             "password": "correct horse battery staple 42"})
        assert first.json()["error"] == "mfa_required", first.text
        # the next step's code: accepted (one step of drift) and later than the one just used
        done = http.post("/v1/token", data={"grant_type": MFA_GRANT, "otp": phone.at(now + 30),
                                            "mfa_token": first.json()["mfa_token"]})
        assert done.status_code == 200, done.text
    return {"plain": plain, "mfa": done.json()["access_token"]}


def test_verify_demands_amr(authd: AuthdServer, tokens: dict[str, str]) -> None:
    """amr=["mfa"]: the two-step token passes; the password-only one raises the dedicated error."""
    with TokenVerifier(issuer=authd.url, audience=authd.url) as v:
        assert v.verify(tokens["mfa"], amr=["mfa"])["amr"] == ["pwd", "otp", "mfa"]
        with pytest.raises(InsufficientUserAuthentication) as caught:
            v.verify(tokens["plain"], amr=["mfa"])
        assert isinstance(caught.value, InvalidToken) and caught.value.amr == ("mfa",)
        assert v.verify(tokens["plain"], amr=["pwd"])["sub"]


def test_verify_demands_a_recent_login(authd: AuthdServer, tokens: dict[str, str]) -> None:
    """max_age: a fresh login passes; two minutes later (still unexpired) it does not."""
    clock = FixedClock(time.time())
    with TokenVerifier(issuer=authd.url, audience=authd.url, clock=clock) as v:
        assert v.verify(tokens["plain"], max_age=60)
        clock.advance(120)
        with pytest.raises(InsufficientUserAuthentication) as caught:
            v.verify(tokens["plain"], max_age=60)
        assert caught.value.max_age == 60
        assert v.verify(tokens["plain"], max_age=240)


async def test_verify_async_takes_the_same_options(authd: AuthdServer,
                                                   tokens: dict[str, str]) -> None:
    """verify_async refuses a weak login as verify does."""
    with TokenVerifier(issuer=authd.url, audience=authd.url) as v:
        with pytest.raises(InsufficientUserAuthentication):
            await v.verify_async(tokens["plain"], amr=["otp"])
        assert (await v.verify_async(tokens["mfa"], amr=["otp"], max_age=300))["sub"]


@pytest.fixture
def api(authd: AuthdServer) -> Iterator[TestClient]:
    """A Starlette API with one route that needs a second factor and one a login < 60 s ago."""
    verifier = TokenVerifier(issuer=authd.url, audience=authd.url)
    strong = require_token(verifier, amr=["mfa"])
    recent = require_token(verifier, max_age=0)

    async def transfer(request: Request) -> JSONResponse:
        claims: dict[str, Any] = await strong(request)
        return JSONResponse({"sub": claims["sub"]})

    async def delete(request: Request) -> JSONResponse:
        claims: dict[str, Any] = await recent(request)
        return JSONResponse({"sub": claims["sub"]})

    app = Starlette(routes=[Route("/transfer", transfer, methods=["POST"]),
                            Route("/delete", delete, methods=["POST"])])
    with TestClient(app) as client:
        yield client
    verifier.close()


def test_the_dependency_answers_the_rfc_9470_challenge(api: TestClient,
                                                       tokens: dict[str, str]) -> None:
    """401 insufficient_user_authentication (with max_age when asked) for a weak or old login."""
    assert api.post("/transfer", headers=bearer(tokens["mfa"])).status_code == 200
    weak = api.post("/transfer", headers=bearer(tokens["plain"]))
    assert weak.status_code == 401
    assert 'error="insufficient_user_authentication"' in weak.headers["www-authenticate"]
    old = api.post("/delete", headers=bearer(tokens["plain"]))
    assert old.status_code == 401 and old.headers["www-authenticate"].endswith("max_age=0")
