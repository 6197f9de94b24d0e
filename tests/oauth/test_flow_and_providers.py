"""The callback flow and provider metadata, without a network: each step answered by hand."""

from __future__ import annotations

import base64
import dataclasses
from typing import Any
from urllib.parse import unquote

import orjson
import pytest

from authd import jose
from authd.config import ProviderConfig
from authd.core.social_models import Profile, new_pending
from authd.errors import InvalidIdToken, LoginRefused, ProviderRefused, ProviderUnavailable
from authd.oauth import flow
from authd.oauth.flow import ClientCredentials, HttpRequest, HttpResponse, NeedKeys
from authd.oauth.providers import (
    GOOGLE_ISSUERS,
    discovery_url,
    github_metadata,
    metadata_from_discovery,
    scopes_for,
)
from authd.oauth.request import authorize_url

NOW = 1_700_000_000.0
ISSUER = "https://id.example"
CLIENT = ClientCredentials("authd client", "s3cret:with/odd+chars", "https://auth.example/v1/oauth/acme/callback")


def _config(**values: Any) -> ProviderConfig:
    return ProviderConfig(**{"client_id": "authd client", "client_secret": "s", **values})


def _discovery(**changes: Any) -> dict[str, Any]:
    doc = {"issuer": ISSUER, "authorization_endpoint": f"{ISSUER}/authorize",
           "token_endpoint": f"{ISSUER}/token", "jwks_uri": f"{ISSUER}/jwks",
           "userinfo_endpoint": f"{ISSUER}/userinfo", "response_types_supported": ["code"],
           "authorization_response_iss_parameter_supported": True}
    doc.update(changes)
    return {k: v for k, v in doc.items() if v is not None}


def _json(status: int, body: Any) -> HttpResponse:
    return HttpResponse(status, orjson.dumps(body))


# -- provider metadata -------------------------------------------------------------


def test_discovery_document_gives_the_endpoints() -> None:
    """A provider's discovery document gives the endpoints, the client auth method and the issuer to accept.
    """
    meta = metadata_from_discovery(_config(issuer=ISSUER), _discovery())
    assert (meta.token_endpoint, meta.jwks_uri, meta.userinfo_endpoint) == (
        f"{ISSUER}/token", f"{ISSUER}/jwks", f"{ISSUER}/userinfo")
    assert meta.token_auth_method == "client_secret_basic" and meta.iss_parameter_required
    assert meta.accepted_issuers == (ISSUER,)
    assert discovery_url(_config(issuer=ISSUER + "/")) == f"{ISSUER}/.well-known/openid-configuration"


@pytest.mark.parametrize("changes", [
    {"issuer": "https://evil.example"}, {"issuer": None}, {"jwks_uri": None},
    {"token_endpoint": "http://id.example/token"}, {"authorization_endpoint": "ftp://x/y"},
    {"response_types_supported": ["token"]}, {"code_challenge_methods_supported": ["plain"]},
    {"token_endpoint_auth_methods_supported": ["private_key_jwt"]},
    {"userinfo_endpoint": "javascript:alert(1)"},
])
def test_unusable_discovery_documents_are_refused(changes: dict[str, Any]) -> None:
    """Another issuer's document (OIDC Discovery 4.3), plain-http endpoints, no PKCE S256: refused."""
    with pytest.raises(ProviderUnavailable):
        metadata_from_discovery(_config(issuer=ISSUER), _discovery(**changes))


def test_client_auth_method_follows_discovery_unless_configured() -> None:
    """authd authenticates to the provider the way discovery offers, unless the setting says otherwise."""
    post_only = _discovery(token_endpoint_auth_methods_supported=["client_secret_post"])
    assert metadata_from_discovery(_config(issuer=ISSUER), post_only).token_auth_method == \
        "client_secret_post"
    configured = _config(issuer=ISSUER, token_auth_method="client_secret_post")
    assert metadata_from_discovery(configured, _discovery()).token_auth_method == "client_secret_post"


def test_google_preset_accepts_both_spellings_of_its_issuer() -> None:
    """The Google preset finds Google's discovery, accepts both issuer spellings Google uses, and asks for
    email."""
    google = _config(preset="google")
    assert discovery_url(google) == "https://accounts.google.com/.well-known/openid-configuration"
    doc = _discovery(issuer="https://accounts.google.com",
                     authorization_endpoint="https://accounts.google.com/o/oauth2/v2/auth",
                     token_endpoint="https://oauth2.googleapis.com/token",
                     jwks_uri="https://www.googleapis.com/oauth2/v3/certs",
                     userinfo_endpoint="https://openidconnect.googleapis.com/v1/userinfo",
                     token_endpoint_auth_methods_supported=["client_secret_post", "client_secret_basic"])
    meta = metadata_from_discovery(google, doc)
    assert meta.accepted_issuers == GOOGLE_ISSUERS
    assert scopes_for(google) == ("openid", "email", "profile")


def test_github_preset_needs_no_discovery_and_supports_enterprise_server() -> None:
    """The GitHub preset works without discovery, for github.com and for GitHub Enterprise Server URLs."""
    github = _config(preset="github")
    assert discovery_url(github) is None and scopes_for(github) == ("read:user", "user:email")
    meta = github_metadata(github)
    assert meta.authorization_endpoint == "https://github.com/login/oauth/authorize"
    assert meta.emails_endpoint == "https://api.github.com/user/emails"
    ghes = github_metadata(_config(preset="github", web_url="https://git.corp.example",
                                   api_url="https://git.corp.example/api/v3"))
    assert ghes.token_endpoint == "https://git.corp.example/login/oauth/access_token"
    assert ghes.userinfo_endpoint == "https://git.corp.example/api/v3/user"


@pytest.mark.parametrize("values", [
    {}, {"issuer": ISSUER, "preset": "google"}, {"issuer": "http://id.example"},
    {"issuer": ISSUER + "?x=1"}, {"preset": "google", "web_url": "https://x.example"},
    {"preset": "github", "api_url": "http://api.example"},
    {"issuer": ISSUER, "hosted_domain": "example.com"},  # hd is Google's claim
    {"preset": "google", "hosted_domain": "example"}, {"preset": "google", "hosted_domain": "*.example.com"},
    {"preset": "google", "hosted_domain": "Example.com"}, {"preset": "google", "hosted_domain": ""},
])
def test_bad_provider_settings_are_refused(values: dict[str, Any]) -> None:
    """Unusable provider settings (no issuer, plain http, hd outside Google...) are refused at start-up."""
    with pytest.raises(ValueError):
        _config(**values)


# -- the OIDC flow -------------------------------------------------------------------


@pytest.fixture(scope="module")
def key() -> jose.Key:
    """The provider's signing key, shared by the module's flows."""
    return jose.generate_key("ES256")


def _run(steps: flow.Flow, answers: list[Any]) -> tuple[list[Any], Profile]:
    """Answer each yielded step in turn; return the steps seen and the profile."""
    seen: list[Any] = [next(steps)]
    for answer in answers:
        try:
            seen.append(steps.send(answer))
        except StopIteration as done:
            return seen, done.value
    raise AssertionError(f"the flow wants more than {len(answers)} answers: {seen[-1]}")


def _oidc(key: jose.Key, hosted_domain: str | None = None, **claims: Any) -> tuple[flow.Flow, str, Any]:
    pending = new_pending("acme", "https://app.example/cb", "session", NOW)
    meta = dataclasses.replace(metadata_from_discovery(_config(issuer=ISSUER), _discovery()),
                               hosted_domain=hosted_domain)
    body = {"iss": ISSUER, "sub": "u-1", "aud": CLIENT.client_id, "iat": int(NOW),
            "exp": int(NOW) + 300, "nonce": pending.nonce, **claims}
    token = jose.encode_jwt({k: v for k, v in body.items() if v is not None}, key)
    return flow.complete_login("acme", meta, CLIENT, pending, "the-code", now=NOW), token, pending


def test_oidc_flow_exchanges_validates_and_reads_userinfo(key: jose.Key) -> None:
    """The OIDC flow sends the code with PKCE and client credentials, validates the ID token, reads userinfo.
    """
    steps, id_token, pending = _oidc(key)
    keys = jose.KeySet([key.public_key()])
    seen, profile = _run(steps, [
        _json(200, {"access_token": "at", "token_type": "Bearer", "id_token": id_token}),
        keys,
        _json(200, {"sub": "u-1", "email": "Jane@Example.com", "email_verified": True, "name": "Jane"}),
    ])
    exchange = seen[0]
    assert isinstance(exchange, HttpRequest) and exchange.method == "POST"
    assert exchange.form == {"grant_type": "authorization_code", "code": "the-code",
                             "redirect_uri": CLIENT.redirect_uri, "code_verifier": pending.code_verifier}
    user, password = base64.b64decode(exchange.headers["Authorization"].split()[1]).decode().split(":")
    assert (unquote(user), unquote(password)) == (CLIENT.client_id, CLIENT.client_secret)  # RFC 6749 2.3.1
    assert seen[1] == NeedKeys(refresh=False)
    assert isinstance(seen[2], HttpRequest) and seen[2].headers["Authorization"] == "Bearer at"
    assert profile == Profile("acme", "u-1", "Jane@Example.com", True, "Jane")


def test_unknown_kid_asks_for_fresh_keys_once(key: jose.Key) -> None:
    """An ID token from an unknown key asks for fresh keys once, then is refused (no fetch loop)."""
    steps, id_token, _ = _oidc(key)
    stale = jose.KeySet([jose.generate_key("ES256").public_key()])
    seen = [next(steps), steps.send(_json(200, {"access_token": "a", "token_type": "bearer",
                                                "id_token": id_token}))]
    seen.append(steps.send(stale))
    assert seen[1:] == [NeedKeys(False), NeedKeys(True)]
    with pytest.raises(InvalidIdToken):
        steps.send(stale)  # still unknown after the refetch: refused, no third fetch


def test_userinfo_of_another_subject_is_refused(key: jose.Key) -> None:
    """Userinfo for another subject than the ID token's is refused."""
    steps, id_token, _ = _oidc(key)
    with pytest.raises(InvalidIdToken):
        _run(steps, [_json(200, {"access_token": "a", "token_type": "Bearer", "id_token": id_token}),
                     jose.KeySet([key.public_key()]), _json(200, {"sub": "u-2"})])


@pytest.mark.parametrize(("response", "error"), [
    (_json(400, {"error": "invalid_grant"}), ProviderRefused),
    (_json(200, {"error": "bad_verification_code"}), ProviderRefused),
    (_json(500, {"oops": 1}), ProviderUnavailable),
    (HttpResponse(200, b"<html>"), ProviderUnavailable),
    (HttpResponse(200, b"[1]"), ProviderUnavailable),
    (_json(200, {"access_token": "a", "token_type": "mac"}), ProviderUnavailable),
    (_json(200, {"token_type": "Bearer"}), ProviderUnavailable),
    (_json(200, {"access_token": "a", "token_type": "Bearer"}), InvalidIdToken),
    (HttpResponse(200, b"{" * 300_000), ProviderUnavailable),
])
def test_bad_token_responses(key: jose.Key, response: HttpResponse, error: type[Exception]) -> None:
    """Each bad token-endpoint answer becomes the right refusal (provider refused, unavailable, bad token)."""
    steps, _, _ = _oidc(key)
    next(steps)
    with pytest.raises(error):
        steps.send(response)


@pytest.mark.parametrize(("hd", "accepted"), [
    ("corp.example", True), (None, False), ("other.example", False), ("CORP.EXAMPLE", False),
    (["corp.example"], False), ("sub.corp.example", False),
])
def test_hosted_domain_is_checked_on_the_signed_id_token(key: jose.Key, hd: Any, accepted: bool) -> None:
    """Google Workspace restriction: the ID token's hd, exactly; userinfo cannot supply it."""
    steps, id_token, _ = _oidc(key, hosted_domain="corp.example", hd=hd)
    answers = [_json(200, {"access_token": "a", "token_type": "Bearer", "id_token": id_token}),
               jose.KeySet([key.public_key()]),
               _json(200, {"sub": "u-1", "email": "a@corp.example", "email_verified": True,
                           "hd": "corp.example"})]
    if accepted:
        assert _run(steps, answers)[1].subject == "u-1"
    else:
        with pytest.raises(LoginRefused, match="Workspace domain"):
            _run(steps, answers)


def test_hosted_domain_is_sent_as_googles_hint() -> None:
    """A Workspace domain restriction is sent to Google as the hd hint and kept in the metadata."""
    pending = new_pending("google", "https://app.example/cb", "session", NOW)
    url = authorize_url("https://accounts.google.com/o/oauth2/v2/auth", client_id="c",
                        redirect_uri=CLIENT.redirect_uri, scopes=("openid",), pending=pending,
                        hosted_domain="corp.example")
    assert "hd=corp.example" in url
    google = _config(preset="google", hosted_domain="corp.example")
    doc = _discovery(issuer="https://accounts.google.com")
    assert metadata_from_discovery(google, doc).hosted_domain == "corp.example"


def test_email_verified_must_be_a_real_true(key: jose.Key) -> None:
    """Only the JSON true marks an email verified; the string "true" does not."""
    assert flow.oidc_profile("p", {"sub": "s", "email": "a@b.c", "email_verified": "true"}
                             ).email_verified is False


# -- the GitHub flow ---------------------------------------------------------------------


def _github() -> flow.Flow:
    pending = new_pending("github", "https://app.example/cb", "token", NOW)
    return flow.complete_login("github", github_metadata(_config(preset="github")), CLIENT, pending,
                               "gh-code", now=NOW)


def test_github_flow_reads_user_and_primary_email() -> None:
    """The GitHub flow exchanges the code with the client secret and reads the user and primary email."""
    seen, profile = _run(_github(), [
        _json(200, {"access_token": "gho_x", "token_type": "bearer", "scope": "read:user"}),
        _json(200, {"id": 583231, "login": "octocat", "name": None}),
        _json(200, [{"email": "old@example.com", "primary": False, "verified": True},
                    {"email": "octo@example.com", "primary": True, "verified": True}]),
    ])
    exchange = seen[0]
    assert exchange.headers["Accept"] == "application/json" and "Authorization" not in exchange.headers
    assert exchange.form["client_secret"] == CLIENT.client_secret
    assert [s.url for s in seen[1:]] == ["https://api.github.com/user", "https://api.github.com/user/emails"]
    assert profile == Profile("github", "583231", "octo@example.com", True, "octocat")


@pytest.mark.parametrize(("user", "emails", "expected"), [
    ({"id": 1, "login": "a"}, [{"email": "a@x.io", "primary": True, "verified": False}], ("a@x.io", False)),
    ({"id": 1, "login": "a"}, [], (None, False)),
    ({"id": 1, "login": "a"}, {"message": "nope"}, (None, False)),
])
def test_github_email_rules(user: dict[str, Any], emails: Any, expected: tuple[Any, bool]) -> None:
    """A GitHub profile carries an email only as GitHub verified it; odd answers mean no email."""
    profile = flow.github_profile("github", user, emails)
    assert (profile.email, profile.email_verified) == expected


@pytest.mark.parametrize("user", [{"login": "a"}, {"id": "1"}, {"id": True}])
def test_github_user_without_a_numeric_id_is_refused(user: dict[str, Any]) -> None:
    """A GitHub user without a numeric id is unusable: no identity is built from it."""
    with pytest.raises(ProviderUnavailable):
        flow.github_profile("github", user, [])


def test_github_revoked_token_is_a_refusal() -> None:
    """A GitHub token rejected at /user is a refused login, not an authd error."""
    steps = _github()
    next(steps)
    steps.send(_json(200, {"access_token": "gho_x", "token_type": "bearer"}))
    with pytest.raises(LoginRefused):
        steps.send(_json(401, {"message": "Bad credentials"}))
