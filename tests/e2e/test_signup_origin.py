"""Sign-up is not a cross-site request: foreign origins are refused and the body must be JSON."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlencode

import httpx
import orjson
import pytest

from tests.e2e.conftest import PASSWORD, new_email, sign_up
from tests.serverproc import AuthdServer


def _created(http: httpx.Client, email: str) -> bool:
    """Whether an account with ``email`` exists: signing it up again is a 409."""
    response = http.post("/v1/users", json={"email": email, "password": PASSWORD})
    assert response.status_code in (201, 409), response.text
    return response.status_code == 409


@pytest.mark.parametrize("headers", [
    {"Origin": "https://evil.example"},
    {"Origin": "null"},
    {"Sec-Fetch-Site": "cross-site"},
    {"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"},
])
def test_cross_origin_sign_up_is_refused_and_creates_no_user(http: httpx.Client,
                                                             headers: dict[str, str]) -> None:
    """A page on another site cannot make its visitors' browsers sign up: 403 csrf_failed,
    and the account does not exist afterwards."""
    email = new_email()
    response = http.post("/v1/users", json={"email": email, "password": PASSWORD}, headers=headers)
    assert response.status_code == 403, response.text
    assert response.json()["error"] == "csrf_failed"
    assert not _created(http, email)


def _form(fields: dict[str, str]) -> bytes:
    return urlencode(fields).encode()


@pytest.mark.parametrize(("content_type", "encode"), [
    ("application/x-www-form-urlencoded", _form),
    ("text/plain", orjson.dumps),
    (None, orjson.dumps),
    ("multipart/form-data; boundary=x", orjson.dumps),
], ids=["form", "text", "no-type", "multipart"])
def test_sign_up_accepts_json_only(http: httpx.Client, content_type: str | None,
                                   encode: Callable[[dict[str, str]], bytes]) -> None:
    """The bodies a cross-site form or a no-CORS fetch can send (a form, text/plain, no
    content type) are refused with 415 and create no account, even from an allowed origin."""
    email = new_email()
    headers = {"Content-Type": content_type} if content_type else {}
    response = http.post("/v1/users", content=encode({"email": email, "password": PASSWORD}),
                         headers=headers)
    assert response.status_code == 415, response.text
    assert response.json()["error"] == "unsupported_media_type"
    assert not _created(http, email)


def test_same_origin_and_non_browsers_may_sign_up(http: httpx.Client, server: AuthdServer) -> None:
    """authd's own origin, a same-origin fetch and API clients without Origin still sign up."""
    sign_up(http)
    for headers in ({"Origin": server.url}, {"Sec-Fetch-Site": "same-origin"},
                    {"Content-Type": "application/json; charset=utf-8"}):
        body = orjson.dumps({"email": new_email(), "password": PASSWORD})
        response = http.post("/v1/users", content=body,
                             headers={"Content-Type": "application/json", **headers})
        assert response.status_code == 201, response.text
