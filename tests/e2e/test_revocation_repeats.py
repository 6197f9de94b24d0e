"""Repeated revocations over HTTP: they cannot grow the feed or the audit trail."""

from __future__ import annotations

import base64
import json

import httpx
import orjson

from tests.e2e.conftest import login, sign_up
from tests.serverproc import AuthdServer


def _claims(token: str) -> dict[str, object]:
    payload = token.split(".")[1]
    return orjson.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def _feed_entries(http: httpx.Client, jti: object) -> list[dict[str, object]]:
    """Every feed entry naming ``jti``, walking the whole feed by cursor."""
    found, cursor = [], "0"
    while True:
        page = http.get("/v1/revocations", params={"since": cursor}).json()
        found += [entry for entry in page["revoked"] if entry.get("jti") == jti]
        if page["cursor"] == cursor:
            return found
        cursor = page["cursor"]


def test_revoking_one_access_token_50_times_records_it_once(http: httpx.Client,
                                                            server: AuthdServer) -> None:
    """Attack: re-revoking the same access token in a loop used to add a feed entry and an
    audit row per call (rows that every verifier downloads, and audit rows kept forever).
    The token is recorded once: one feed entry, one `token.revoked` audit row."""
    tokens = login(http, sign_up(http))
    claims = _claims(tokens["access_token"])
    for _ in range(50):
        response = http.post("/v1/revoke", data={"token": tokens["access_token"],
                                                 "token_type_hint": "access_token"})
        assert response.status_code == 200
    assert _feed_entries(http, claims["jti"]) == [{"jti": claims["jti"], "exp": claims["exp"]}]
    audit = server.cli("audit", "--user", str(claims["sub"]), "--event", "token.revoked",
                       "--limit", "100").stdout.splitlines()
    assert [json.loads(line)["jti"] for line in audit] == [claims["jti"]]
