"""Social login end to end, against a provider that can be made to misbehave and a GitHub stand-in.

A real authd process; a real HTTP provider on loopback (``tests/peers/fake_oidc``)
that signs what each attack needs; the browser is an httpx client with a
cookie jar. Every attack must end with a clear error — a redirect back to the
app with ``error=``, or a 400 when the state itself is bad — and no session.
The same flows against the certified ``oidc-provider`` are in
``test_social_login_oidc_provider.py``.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from authd import jose
from tests.e2e.conftest import PASSWORD, bearer
from tests.e2e.social import (
    APP,
    Social,
    assert_refused,
    back_at_app,
    callback_query,
    finish,
    has_session,
    log_in,
    session_user,
    start,
    through_fake,
    write_config,
)
from tests.peers import fake_github, fake_oidc
from tests.peers.fake_github import new_github_user
from tests.peers.fake_oidc import FakeOIDCProvider, b64, new_user, sign_compact
from tests.serverproc import AuthdServer

# -- the flows that work ---------------------------------------------------------


def test_session_mode_logs_the_user_in_with_a_cookie(social: Social, browser: httpx.Client) -> None:
    """First login creates the user from the provider's verified email; the next finds the same user."""
    response = log_in(social, browser)
    assert response.status_code == 302 and response.headers["location"] == APP
    assert response.headers["cache-control"] == "no-store"
    user = session_user(browser, social.url)
    assert user["email"] == social.op.user["email"] and user["email_verified"] is True
    assert user["name"] == "Fake User"
    with httpx.Client(timeout=30) as other_device:
        log_in(social, other_device)
        assert session_user(other_device, social.url)["id"] == user["id"]


def test_token_mode_gives_a_one_time_code_exchanged_for_tokens(social: Social,
                                                                browser: httpx.Client) -> None:
    """No token in any URL: the app gets ?code= and exchanges it at /v1/token."""
    query = back_at_app(log_in(social, browser, mode="token"))
    assert set(query) == {"code"} and len(query["code"]) >= 43
    assert not has_session(browser, social.url)
    pair = browser.post(f"{social.url}/v1/token", data={
        "grant_type": "authorization_code", "code": query["code"]})
    assert pair.status_code == 200, pair.text
    tokens = pair.json()
    me = browser.get(f"{social.url}/v1/userinfo", headers=bearer(tokens["access_token"]))
    assert me.status_code == 200 and me.json()["email"] == social.op.user["email"]
    refreshed = browser.post(f"{social.url}/v1/token", data={
        "grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]})
    assert refreshed.status_code == 200


def test_replayed_one_time_code_fails_and_revokes_what_it_gave(social: Social,
                                                               browser: httpx.Client) -> None:
    """A leaked one-time code used twice fails, and the tokens the first exchange gave stop working."""
    query = back_at_app(log_in(social, browser, mode="token"))
    exchange = {"grant_type": "authorization_code", "code": query["code"]}
    tokens = browser.post(f"{social.url}/v1/token", data=exchange).json()
    replay = browser.post(f"{social.url}/v1/token", data=exchange)
    assert replay.status_code == 400 and replay.json()["error"] == "invalid_grant"
    refused = browser.post(f"{social.url}/v1/token", data={
        "grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]})
    assert refused.status_code == 400
    deadline = time.monotonic() + 3
    while browser.get(f"{social.url}/v1/userinfo",
                      headers=bearer(tokens["access_token"])).status_code != 401:
        assert time.monotonic() < deadline, "the access token of a replayed code still works"
        time.sleep(0.1)


def test_concurrent_exchanges_of_one_code_give_one_pair_at_most(social: Social,
                                                                browser: httpx.Client) -> None:
    """Racing exchanges of one code yield at most one token pair; the others get a 400."""
    import concurrent.futures
    query = back_at_app(log_in(social, browser, mode="token"))

    def exchange(_: int) -> int:
        with httpx.Client(timeout=30) as client:
            return client.post(f"{social.url}/v1/token", data={
                "grant_type": "authorization_code", "code": query["code"]}).status_code
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        statuses = list(pool.map(exchange, range(4)))
    assert statuses.count(200) <= 1 and statuses.count(400) >= 3, statuses


def test_token_mode_with_the_apps_own_pkce(social: Social, browser: httpx.Client) -> None:
    """A mobile app's code_challenge binds the one-time code to its verifier."""
    verifier = secrets.token_urlsafe(48)
    challenge = b64(hashlib.sha256(verifier.encode()).digest())
    for presented, status in ((None, 400), ("w" * 64, 400), (verifier, 200)):
        code = back_at_app(log_in(social, browser, mode="token", code_challenge=challenge,
                                  code_challenge_method="S256"))["code"]
        form = {"grant_type": "authorization_code", "code": code}
        if presented is not None:
            form["code_verifier"] = presented
        assert browser.post(f"{social.url}/v1/token", data=form).status_code == status


def test_garbage_codes_are_invalid_grant(social: Social, browser: httpx.Client) -> None:
    """Made-up, oversized or empty codes are a clear 400, never a 500."""
    for code in ("x", "A" * 43, "é" * 300, ""):
        response = browser.post(f"{social.url}/v1/token", data={
            "grant_type": "authorization_code", "code": code})
        assert response.status_code == 400
        assert response.json()["error"] in ("invalid_grant", "invalid_request")


def test_github_preset_uses_the_primary_verified_email(social: Social, browser: httpx.Client) -> None:
    """GitHub sign-in uses the account's primary verified email and its display name."""
    social.github.user = new_github_user()
    response = log_in(social, browser, "github")
    assert response.headers["location"] == APP
    user = session_user(browser, social.url)
    assert user["email"] == social.github.user["emails"][0]["email"]
    assert user["name"] == "Octo Cat"


def test_github_unverified_primary_email_is_refused(social: Social, browser: httpx.Client) -> None:
    """A GitHub account whose primary email is unverified cannot sign in (no account by an unproven address).
    """
    social.github.user = new_github_user()
    social.github.user["emails"][0]["verified"] = False
    assert_refused(social, browser, log_in(social, browser, "github"), "access_denied", "email")


def test_discovery_names_the_providers_and_the_grant(social: Social, browser: httpx.Client) -> None:
    """Apps find the configured providers and the authorization_code grant in discovery."""
    doc = browser.get(f"{social.url}/.well-known/openid-configuration").json()
    assert doc["authd_oauth_providers"] == ["down", "fake", "fakelink", "github"]
    assert "authorization_code" in doc["grant_types_supported"]


# -- accounts: never by email alone -------------------------------------------------


def test_existing_password_account_is_not_taken_over_by_email(social: Social,
                                                              browser: httpx.Client) -> None:
    """Pre-account hijacking: someone signed up with the victim's address and a password first.

    The victim's provider login (linking enabled) must not join that account.
    """
    email = social.op.user["email"]
    created = browser.post(f"{social.url}/v1/users", json={"email": email, "password": PASSWORD})
    assert created.status_code == 201
    assert_refused(social, browser, log_in(social, browser, "fakelink"), "access_denied",
                   "already exists")


def test_verified_account_is_joined_only_where_config_allows(social: Social,
                                                             browser: httpx.Client) -> None:
    """A user created by a verifying provider is joined by GitHub (link_by_verified_email) only."""
    log_in(social, browser, "fakelink")
    first = session_user(browser, social.url)
    shared = first["email"]
    social.github.user = new_github_user(emails=[{"email": shared, "primary": True, "verified": True}])
    with httpx.Client(timeout=30) as second:
        log_in(social, second, "github")
        assert session_user(second, social.url)["id"] == first["id"]
    social.op.user = new_user(email=shared)  # at "fake", which does not link (and is not linked)
    with httpx.Client(timeout=30) as third:
        assert_refused(social, third, log_in(social, third), "access_denied", "already exists")


def test_a_reassigned_email_at_the_same_provider_does_not_join(social: Social,
                                                               browser: httpx.Client) -> None:
    """The provider gave the account's address to a new subject (a reused work mailbox): refused,
    even where joining by verified email is allowed; the first subject still signs in."""
    log_in(social, browser, "fakelink")
    first = session_user(browser, social.url)
    original = social.op.user
    social.op.user = new_user(email=original["email"])
    with httpx.Client(timeout=30) as newcomer:
        assert_refused(social, newcomer, log_in(social, newcomer, "fakelink"), "access_denied",
                       "another account at this provider")
    social.op.user = original
    with httpx.Client(timeout=30) as again:
        log_in(social, again, "fakelink")
        assert session_user(again, social.url)["id"] == first["id"]


def test_unverified_email_is_refused(social: Social, browser: httpx.Client) -> None:
    """A provider login with an unverified email creates no account."""
    social.op.user = new_user(email_verified=False)
    assert_refused(social, browser, log_in(social, browser), "access_denied", "email")


def test_string_true_is_not_a_verified_email(social: Social, browser: httpx.Client) -> None:
    """email_verified must be the JSON true: the string "true" does not prove an address."""
    social.op.user = new_user(email_verified="true")
    assert_refused(social, browser, log_in(social, browser), "access_denied", "email")


# -- state, browser binding, mix-up, code injection ---------------------------------


def test_missing_state_is_refused(social: Social, browser: httpx.Client) -> None:
    """A callback without state is a 400 and signs no one in."""
    callback = through_fake(browser, start(browser, social.url, "fake"))
    query = callback_query(callback)
    response = browser.get(f"{social.url}/v1/oauth/fake/callback",
                           params={"code": query["code"], "iss": query["iss"]})
    assert response.status_code == 400 and response.json()["error"] == "invalid_request"
    assert not has_session(browser, social.url)


def test_wrong_state_is_refused(social: Social, browser: httpx.Client) -> None:
    """A callback with a state authd never issued is a 400 and signs no one in."""
    callback = through_fake(browser, start(browser, social.url, "fake"))
    query = callback_query(callback)
    response = browser.get(f"{social.url}/v1/oauth/fake/callback",
                           params={**query, "state": secrets.token_urlsafe(32)})
    assert response.status_code == 400
    assert not has_session(browser, social.url)


def test_replayed_callback_is_refused(social: Social, browser: httpx.Client) -> None:
    """A callback URL works once: replaying it (even without cookies) signs no one in."""
    callback = through_fake(browser, start(browser, social.url, "fake"))
    assert finish(browser, callback).headers["location"] == APP
    browser.cookies.clear()
    replay = finish(browser, callback)
    assert replay.status_code == 400
    assert not has_session(browser, social.url)


def test_state_from_another_browser_is_refused(social: Social, browser: httpx.Client) -> None:
    """Login CSRF: an attacker's callback URL opened in the victim's browser logs no one in."""
    with httpx.Client(timeout=30) as attacker:
        callback = through_fake(attacker, start(attacker, social.url, "fake"))
    response = finish(browser, callback)
    assert response.status_code == 400
    assert not has_session(browser, social.url)


def test_state_of_another_provider_is_refused(social: Social, browser: httpx.Client) -> None:
    """A state issued for one provider's login is refused at another provider's callback."""
    callback = through_fake(browser, start(browser, social.url, "fake"))
    response = finish(browser, callback.replace("/v1/oauth/fake/", "/v1/oauth/fakelink/"))
    assert response.status_code == 400
    assert not has_session(browser, social.url)


def test_mix_up_iss_of_another_provider_is_refused(social: Social, browser: httpx.Client) -> None:
    """Mix-up defence (RFC 9207): a callback whose iss names another provider goes back to the app refused."""
    social.op.iss_param = "https://accounts.google.com"
    assert_refused(social, browser, log_in(social, browser), "invalid_request", "another provider")


def test_missing_iss_is_refused_when_the_provider_promises_it(social: Social,
                                                             browser: httpx.Client) -> None:
    """A provider that promises the iss parameter must send it; a callback without it is refused."""
    callback = through_fake(browser, start(browser, social.url, "fake"))
    query = callback_query(callback)
    del query["iss"]
    response = browser.get(f"{social.url}/v1/oauth/fake/callback", params=query)
    assert_refused(social, browser, response, "invalid_request", "another provider")


def test_provider_error_goes_back_to_the_app(social: Social, browser: httpx.Client) -> None:
    """When the user declines at the provider, the app gets error=access_denied, not an authd error page."""
    callback = through_fake(browser, start(browser, social.url, "fake"))
    query = callback_query(callback)
    response = browser.get(f"{social.url}/v1/oauth/fake/callback", params={
        "state": query["state"], "iss": query["iss"], "error": "access_denied",
        "error_description": "the user said no"})
    assert_refused(social, browser, response, "access_denied", "provider error")


def test_code_injection_is_stopped_by_pkce(social: Social, browser: httpx.Client) -> None:
    """The attacker's own code pasted into the victim's callback: the PKCE verifier does not match."""
    with httpx.Client(timeout=30) as attacker:
        attacker_code = callback_query(through_fake(attacker, start(attacker, social.url, "fake")))["code"]
    victim = callback_query(through_fake(browser, start(browser, social.url, "fake")))
    response = browser.get(f"{social.url}/v1/oauth/fake/callback",
                           params={**victim, "code": attacker_code})
    assert_refused(social, browser, response, "access_denied", "refused the code")


def test_provider_down_is_a_redirect_not_a_5xx(social: Social, browser: httpx.Client) -> None:
    """An unreachable provider sends the user back to the app with temporarily_unavailable, never a 5xx."""
    response = browser.get(f"{social.url}/v1/oauth/down/authorize", params={"redirect_to": APP})
    query = back_at_app(response)
    assert query["error"] == "temporarily_unavailable"


def test_unknown_provider_is_404(social: Social, browser: httpx.Client) -> None:
    """A provider that is not configured is a 404."""
    response = browser.get(f"{social.url}/v1/oauth/nope/authorize", params={"redirect_to": APP})
    assert response.status_code == 404


@pytest.mark.parametrize("query", [{"mode": "cookie"}, {"code_challenge": "x"},
                                   {"code_challenge": "a" * 43, "code_challenge_method": "plain"},
                                   {"client_id": "not-registered"}])
def test_bad_authorize_parameters_are_400(social: Social, browser: httpx.Client,
                                          query: dict[str, str]) -> None:
    """Malformed authorize parameters (mode, PKCE, unknown client) are a clear 400."""
    response = browser.get(f"{social.url}/v1/oauth/fake/authorize", params={"redirect_to": APP, **query})
    assert response.status_code == 400 and response.json()["error"] == "invalid_request"


def test_repeated_parameters_and_garbage_callbacks_are_400(social: Social, browser: httpx.Client) -> None:
    """Repeated parameters and garbage callback queries are 400s, never 500s."""
    assert browser.get(f"{social.url}/v1/oauth/fake/authorize?redirect_to={APP}&redirect_to={APP}"
                       ).status_code == 400
    for query in ("state=%00", "state=" + "a" * 5000, "code=x", "%ff=1", ""):
        assert browser.get(f"{social.url}/v1/oauth/fake/callback?{query}").status_code == 400


@pytest.mark.parametrize("redirect_to", [
    "https://evil.example/auth", "//evil.example/auth", "https:\\\\evil.example/auth",
    "https://app.example@evil.example/auth", "https://evil.example\\@app.example/auth",
    "https://app.example/authevil", "https://app.example/auth/..%2f..%2fx", "http://app.example/auth",
    "https://app.example:8443/auth", "javascript:alert(1)//https://app.example/auth", "/auth", "",
])
def test_redirect_to_outside_the_allow_list_is_refused(social: Social, browser: httpx.Client,
                                                       redirect_to: str) -> None:
    """No open redirect: refused before anything is sent to the provider."""
    requests_before = social.op.token_requests
    response = browser.get(f"{social.url}/v1/oauth/fake/authorize", params={"redirect_to": redirect_to})
    assert response.status_code == 400 and "location" not in response.headers
    assert social.op.token_requests == requests_before


# -- the ID token and userinfo --------------------------------------------------------


def _resign(header_changes: dict[str, Any] | None = None, claim_changes: dict[str, Any] | None = None,
            drop: tuple[str, ...] = (), key: jose.Key | None = None) -> fake_oidc.Tamper:
    def tamper(header: dict[str, Any], claims: dict[str, Any], op: FakeOIDCProvider) -> str:
        header.update(header_changes or {})
        claims.update(claim_changes or {})
        for name in drop:
            claims.pop(name, None)
        return sign_compact(header, claims, key or op.key)
    return tamper


def _alg_none(header: dict[str, Any], claims: dict[str, Any], _op: FakeOIDCProvider) -> str:
    return sign_compact({**header, "alg": "none"}, claims, None)


def _hs256_with_public_key(header: dict[str, Any], claims: dict[str, Any], op: FakeOIDCProvider) -> str:
    """Algorithm confusion: an HMAC keyed with the provider's public key (as JWK JSON and PEM)."""
    public = op.key.public_jwk()
    secret = ("".join(public[m] for m in ("x", "y") if m in public)).encode()
    return sign_compact({**header, "alg": "HS256"}, claims, None, raw_secret=secret)


def _embedded_jwk(header: dict[str, Any], claims: dict[str, Any], _op: FakeOIDCProvider) -> str:
    attacker = jose.generate_key("ES256")
    return sign_compact({**header, "kid": attacker.kid, "jwk": attacker.public_jwk()}, claims, attacker)


def _jku(header: dict[str, Any], claims: dict[str, Any], _op: FakeOIDCProvider) -> str:
    attacker = jose.generate_key("ES256")
    return sign_compact({**header, "kid": attacker.kid, "jku": "https://evil.example/jwks"},
                        claims, attacker)


def _same_kid_other_key(header: dict[str, Any], claims: dict[str, Any], _op: FakeOIDCProvider) -> str:
    return sign_compact(header, claims, jose.generate_key("ES256"))


def _unknown_kid(header: dict[str, Any], claims: dict[str, Any], _op: FakeOIDCProvider) -> str:
    attacker = jose.generate_key("ES256")
    return sign_compact({**header, "kid": "not-in-the-jwks"}, claims, attacker)


def _tampered_payload(header: dict[str, Any], claims: dict[str, Any], op: FakeOIDCProvider) -> str:
    token = sign_compact(header, claims, op.key)
    head, _payload, signature = token.split(".")
    import orjson
    forged = b64(orjson.dumps({**claims, "sub": "someone-else"}))
    return f"{head}.{forged}.{signature}"


ID_TOKEN_ATTACKS: dict[str, fake_oidc.Tamper] = {
    "wrong iss": _resign(claim_changes={"iss": "https://evil.example"}),
    "wrong aud": _resign(claim_changes={"aud": "another-client"}),
    "aud list without azp": _resign(claim_changes={"aud": [fake_oidc.CLIENT_ID, "another-client"]}),
    "azp of another party": _resign(claim_changes={"aud": [fake_oidc.CLIENT_ID, "x"], "azp": "x"}),
    "expired": _resign(claim_changes={"exp": int(time.time()) - 3600, "iat": int(time.time()) - 7200}),
    "issued in the future": _resign(claim_changes={"iat": int(time.time()) + 3600}),
    "nonce mismatch": _resign(claim_changes={"nonce": "not-the-nonce"}),
    "nonce missing": _resign(drop=("nonce",)),
    "sub missing": _resign(drop=("sub",)),
    "alg none": _alg_none,
    "HS256 with the public key": _hs256_with_public_key,
    "key not in the JWKS": _same_kid_other_key,
    "unknown kid": _unknown_kid,
    "embedded jwk": _embedded_jwk,
    "jku header": _jku,
    "tampered payload": _tampered_payload,
    "crit header": _resign(header_changes={"crit": ["exp"]}),
    "garbage": lambda _h, _c, _op: "not.a.jwt",
}


@pytest.mark.parametrize("attack", list(ID_TOKEN_ATTACKS))
def test_id_token_attacks_are_refused(social: Social, browser: httpx.Client, attack: str) -> None:
    """Each forged or misdirected ID token is refused with invalid_grant and signs no one in."""
    social.op.tamper_id_token = ID_TOKEN_ATTACKS[attack]
    assert_refused(social, browser, log_in(social, browser), "invalid_grant", "ID token")


def test_unknown_kid_refetches_the_jwks_once_not_per_attempt(social: Social, browser: httpx.Client) -> None:
    """Tokens naming unknown kids cost at most one JWKS fetch, not one per login attempt."""
    social.op.tamper_id_token = _unknown_kid
    before = social.op.jwks_requests
    for _ in range(3):
        assert_refused(social, browser, log_in(social, browser), "invalid_grant", "ID token")
    assert social.op.jwks_requests - before <= 1


def test_userinfo_for_another_subject_is_refused(social: Social, browser: httpx.Client) -> None:
    """A userinfo answer for another subject than the ID token's is refused."""
    social.op.userinfo_sub = "someone-else"
    assert_refused(social, browser, log_in(social, browser), "invalid_grant", "another subject")


def test_no_secret_reaches_the_log(social: Social, browser: httpx.Client) -> None:
    """The providers' client secrets never appear in authd's log."""
    back_at_app(log_in(social, browser, mode="token"))
    log = Path(social.authd.log_path).read_text()
    assert fake_oidc.CLIENT_SECRET not in log and fake_github.CLIENT_SECRET not in log


def test_social_logins_and_refusals_are_in_the_audit_trail(social: Social, browser: httpx.Client) -> None:
    """Successful and refused social logins are recorded in the audit trail with provider and error."""
    import json
    log_in(social, browser, "github")
    user_id = session_user(browser, social.url)["id"]
    social.op.tamper_id_token = ID_TOKEN_ATTACKS["alg none"]
    with httpx.Client(timeout=30) as other:
        log_in(social, other)
    ok = [json.loads(line) for line in social.authd.cli("audit", "--user", user_id).stdout.splitlines()]
    assert {"event": "login.ok", "provider": "github"}.items() <= ok[0].items()
    failed = [json.loads(line) for line in social.authd.cli("audit", "--event", "login.failed",
                                                             "--limit", "1").stdout.splitlines()]
    assert failed[0]["provider"] == "fake" and failed[0]["error"] == "invalid_grant"


def test_social_login_starts_are_rate_limited_per_ip(tmp_path: Path) -> None:
    """Each start stores a pending login; one IP cannot fill the table."""
    with FakeOIDCProvider() as op:
        config = write_config(tmp_path / "authd.toml", {"fake": {
            "issuer": op.issuer, "client_id": fake_oidc.CLIENT_ID,
            "client_secret": fake_oidc.CLIENT_SECRET}})
        server = AuthdServer(tmp_path, env={"AUTHD_CONFIG": str(config),
                                            "AUTHD_RATE_LIMITS__SOCIAL_LOGINS_PER_IP": "3"}).start()
        _assert_fourth_start_is_limited(server)


def _assert_fourth_start_is_limited(server: AuthdServer) -> None:
    try:
        with server.client() as client:
            statuses = [client.get("/v1/oauth/fake/authorize", params={"redirect_to": APP}).status_code
                        for _ in range(4)]
            limited = client.get("/v1/oauth/fake/authorize", params={"redirect_to": APP})
        assert statuses == [302, 302, 302, 429]
        assert int(limited.headers["retry-after"]) > 0
    finally:
        server.stop()
