"""amr (RFC 8176): every login says how it was made, in tokens, introspection and session lists.

In-process app over SQLite, PostgreSQL and PostgreSQL + Redis sessions. What
users rely on: an API can tell a password login from a stronger one, and a
user can see how each of their sessions was signed in.
"""

from __future__ import annotations

import base64
from typing import Any

import orjson
from starlette.testclient import TestClient

from authd.clock import FixedClock
from tests.http.test_account_access import (  # noqa: F401 (fixtures)
    PASSWORD,
    RS_SECRET,
    client,
    clock,
    cookie_login,
    token_login,
)


def _claims(token: str) -> dict[str, Any]:
    """The payload of a JWT, read without checking (the server checked it)."""
    payload = token.split(".")[1]
    claims: dict[str, Any] = orjson.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return claims


def test_a_password_login_says_pwd_in_tokens_and_introspection(client: TestClient) -> None:  # noqa: F811
    """Access tokens, refreshed ones, and introspection of both carry amr ["pwd"]."""
    pair = token_login(client)
    assert _claims(pair["access_token"])["amr"] == ["pwd"]
    refreshed = client.post("/v1/token", data={"grant_type": "refresh_token",
                                               "refresh_token": pair["refresh_token"]}).json()
    assert _claims(refreshed["access_token"])["amr"] == ["pwd"]
    for token in (refreshed["access_token"], refreshed["refresh_token"]):
        answer = client.post("/v1/introspect", auth=("rs", RS_SECRET), data={"token": token}).json()
        assert answer["active"] is True and answer["amr"] == ["pwd"]


def test_session_lists_show_how_each_login_was_made(client: TestClient) -> None:  # noqa: F811
    """GET /v1/session and GET /v1/sessions show amr for cookie sessions and token families."""
    token_login(client)
    cookie_login(client)
    current = client.get("/v1/session").json()
    assert current["session"]["amr"] == ["pwd"]
    listed = client.get("/v1/sessions").json()["sessions"]
    assert len(listed) == 2 and all(s["amr"] == ["pwd"] for s in listed)


def test_a_re_login_records_its_method(client: TestClient, clock: FixedClock) -> None:  # noqa: F811
    """POST /v1/reauth renews auth_time and amr on the family: the new token says so."""
    pair = token_login(client)
    clock.advance(120)
    answer = client.post("/v1/reauth", json={"password": PASSWORD},
                         headers={"Authorization": f"Bearer {pair['access_token']}"})
    assert answer.status_code == 200, answer.text
    claims = _claims(answer.json()["access_token"])
    assert claims["amr"] == ["pwd"] and claims["auth_time"] == int(clock.now())
