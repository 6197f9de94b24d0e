"""Self-test of the OpenID Provider peer: a hand-made relying party runs the code flow + PKCE."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest

from tests.peers.oidc_provider import OpenIDProvider, log_in

CALLBACK = "http://127.0.0.1:1/cb"
CLIENTS: list[dict[str, object]] = [
    {"client_id": "rp-basic", "client_secret": "secret-basic", "redirect_uris": [CALLBACK],
     "token_endpoint_auth_method": "client_secret_basic", "id_token_signed_response_alg": "RS256"},
    {"client_id": "rp-post", "client_secret": "secret-post", "redirect_uris": [CALLBACK],
     "token_endpoint_auth_method": "client_secret_post", "id_token_signed_response_alg": "ES256"},
]
ACCOUNTS: dict[str, dict[str, object]] = {
    "alice": {"sub": "alice-0001", "email": "alice@example.com", "email_verified": True, "name": "Alice"},
}


@pytest.fixture(scope="module")
def op() -> Iterator[OpenIDProvider]:
    """The real OpenID Provider (node oidc-provider) the social-login tests run against."""
    with OpenIDProvider(clients=CLIENTS, accounts=ACCOUNTS) as provider:
        yield provider


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _jwt_part(token: str, index: int) -> dict[str, Any]:
    part = token.split(".")[index]
    decoded: dict[str, Any] = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    return decoded


def _authorize(op: OpenIDProvider, client: httpx.Client, metadata: dict[str, Any], client_id: str,
               login: str) -> tuple[str, str, str]:
    """Run the front channel; return (code, verifier, nonce)."""
    verifier = _b64url(secrets.token_bytes(32))
    state, nonce = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
    params = {
        "response_type": "code", "client_id": client_id, "redirect_uri": CALLBACK,
        "scope": "openid email profile", "state": state, "nonce": nonce,
        "code_challenge": _b64url(hashlib.sha256(verifier.encode()).digest()),
        "code_challenge_method": "S256",
    }
    callback = log_in(client, metadata["authorization_endpoint"] + "?" + urlencode(params), login=login,
                      callback_prefix=CALLBACK)
    assert callback.startswith(CALLBACK + "?")
    query = parse_qs(urlsplit(callback).query)
    assert "error" not in query, query
    assert query["state"] == [state]
    assert query["iss"] == [op.issuer]
    return query["code"][0], verifier, nonce


def test_discovery(op: OpenIDProvider) -> None:
    """The test provider publishes what authd relies on: PKCE S256, the iss parameter, RS256 and ES256 keys.
    """
    metadata = op.discovery()
    assert metadata["issuer"] == op.issuer
    assert metadata["code_challenge_methods_supported"] == ["S256"]
    assert metadata["authorization_response_iss_parameter_supported"] is True
    assert {"RS256", "ES256"} <= set(metadata["id_token_signing_alg_values_supported"])
    assert {"openid", "email", "profile"} <= set(metadata["scopes_supported"])
    keys = httpx.get(metadata["jwks_uri"]).json()["keys"]
    assert sorted(key["alg"] for key in keys) == ["ES256", "RS256"]
    assert all("d" not in key for key in keys)


@pytest.mark.parametrize(("client_id", "alg"), [("rp-basic", "RS256"), ("rp-post", "ES256")])
def test_code_flow_with_pkce(op: OpenIDProvider, client_id: str, alg: str) -> None:
    """The test provider runs a standard code flow with PKCE for both client auth methods and algorithms."""
    metadata = op.discovery()
    secret = next(str(c["client_secret"]) for c in CLIENTS if c["client_id"] == client_id)
    # A browser that also holds a cookie of another server on 127.0.0.1 (cookies ignore ports).
    with httpx.Client(timeout=10, cookies={"authd_session": "elsewhere"}) as browser:
        code, verifier, nonce = _authorize(op, browser, metadata, client_id, "alice")
        wrong_code, _, _ = _authorize(op, browser, metadata, client_id, "alice")

    def exchange(code: str, verifier: str) -> httpx.Response:
        form = {"grant_type": "authorization_code", "code": code, "redirect_uri": CALLBACK,
                "code_verifier": verifier}
        if client_id == "rp-basic":
            return httpx.post(metadata["token_endpoint"], data=form, auth=(client_id, secret))
        return httpx.post(metadata["token_endpoint"], data={**form, "client_id": client_id,
                                                           "client_secret": secret})

    bad = exchange(wrong_code, _b64url(secrets.token_bytes(32)))
    assert bad.status_code == 400, bad.text
    assert bad.json()["error"] == "invalid_grant"

    response = exchange(code, verifier)
    assert response.status_code == 200, response.text
    tokens = response.json()
    assert tokens["token_type"].lower() == "bearer"
    header, payload = _jwt_part(tokens["id_token"], 0), _jwt_part(tokens["id_token"], 1)
    assert header["alg"] == alg
    assert payload["iss"] == op.issuer
    assert payload["aud"] == client_id
    assert payload["nonce"] == nonce
    assert payload["sub"] == "alice-0001"

    userinfo = httpx.get(metadata["userinfo_endpoint"],
                         headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert userinfo.status_code == 200, userinfo.text
    assert userinfo.json() == {"sub": "alice-0001", "email": "alice@example.com", "email_verified": True,
                               "name": "Alice"}

    # A code is single-use.
    assert exchange(code, verifier).json()["error"] == "invalid_grant"


def test_unknown_login_and_missing_pkce(op: OpenIDProvider) -> None:
    """The test provider switches accounts and refuses requests without PKCE, as real providers do."""
    metadata = op.discovery()
    with httpx.Client(timeout=10) as browser:
        _authorize(op, browser, metadata, "rp-basic", "alice")
        # log_in starts a fresh provider session: the same browser can switch accounts.
        code, verifier, _ = _authorize(op, browser, metadata, "rp-basic", "bob")
        # Without PKCE the provider refuses the request (PKCE is required of every client).
        no_pkce = browser.get(metadata["authorization_endpoint"], params={
            "response_type": "code", "client_id": "rp-basic", "redirect_uri": CALLBACK,
            "scope": "openid", "state": "s"}, follow_redirects=False)
    assert no_pkce.is_redirect
    query = parse_qs(urlsplit(no_pkce.headers["location"]).query)
    assert query["error"] == ["invalid_request"], query
    tokens = httpx.post(metadata["token_endpoint"], auth=("rp-basic", "secret-basic"), data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": CALLBACK,
        "code_verifier": verifier}).json()
    userinfo = httpx.get(metadata["userinfo_endpoint"],
                         headers={"Authorization": f"Bearer {tokens['access_token']}"}).json()
    assert userinfo == {"sub": "bob"}
