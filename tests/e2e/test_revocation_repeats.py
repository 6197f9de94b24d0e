"""Repeated revocations over HTTP: they cannot grow the feed or the audit trail."""

from __future__ import annotations

import base64
import json

import httpx
import orjson
import pytest

from tests.conftest import drop_pg_database
from tests.e2e.conftest import login, sign_up, start_server
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


@pytest.mark.parametrize("backend", ["sqlite", "redis"])
def test_revocation_requests_are_limited_per_ip(tmp_path, backend: str) -> None:
    """Attack: a client floods POST /v1/revoke (each call verifies a signature and may write
    to the database). Past `rate_limits.revokes_per_ip` per window the IP is answered 429
    with Retry-After, before any work, for known and garbage tokens alike; counted per
    instance in memory or shared through Redis."""
    server, pg_url = start_server(tmp_path, backend,
                                  env={"AUTHD_RATE_LIMITS__REVOKES_PER_IP": "5"})
    try:
        with server.client() as http:
            tokens = login(http, sign_up(http))
            answers = [http.post("/v1/revoke", data={"token": tokens["access_token"]})
                       for _ in range(5)]
            assert [a.status_code for a in answers] == [200] * 5
            for token in (tokens["refresh_token"], "garbage"):
                blocked = http.post("/v1/revoke", data={"token": token})
                assert blocked.status_code == 429, blocked.text
                assert blocked.json()["error"] == "rate_limited"
                assert 0 < int(blocked.headers["retry-after"]) <= 600
            # the refused request did nothing: the refresh token still works
            still = http.post("/v1/token", data={"grant_type": "refresh_token",
                                                 "refresh_token": tokens["refresh_token"]})
            assert still.status_code == 200
    finally:
        server.stop()
        if pg_url:
            drop_pg_database(pg_url)
