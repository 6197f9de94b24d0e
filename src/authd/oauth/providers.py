"""Where each provider's endpoints are: OIDC discovery, or the Google and GitHub presets. Pure.

A discovery document is trusted only for the issuer it was fetched for
(OpenID Connect Discovery 4.3: its ``issuer`` must equal the configured one
exactly), and its endpoints must be https (plain http only on loopback, for
development and tests). From it come the endpoints, the client
authentication method (``client_secret_basic`` preferred, else ``_post``) and
whether the provider promises the RFC 9207 ``iss`` response parameter — in
which case a callback without it is refused.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlsplit

from authd.config import ProviderConfig
from authd.errors import ProviderUnavailable

Kind = Literal["oidc", "github"]
AuthMethod = Literal["client_secret_basic", "client_secret_post"]

GOOGLE_ISSUER = "https://accounts.google.com"
# Google's ID tokens name their issuer with or without the scheme (Google's OIDC documentation).
GOOGLE_ISSUERS = (GOOGLE_ISSUER, "accounts.google.com")
GITHUB_WEB = "https://github.com"
GITHUB_API = "https://api.github.com"
GITHUB_SCOPES = ("read:user", "user:email")
OIDC_SCOPES = ("openid", "email", "profile")


@dataclass(frozen=True, slots=True)
class ProviderMetadata:
    """What the flow needs to know about one provider, whatever its source."""

    kind: Kind
    authorization_endpoint: str
    token_endpoint: str
    token_auth_method: AuthMethod
    issuer: str | None = None  # OIDC only
    accepted_issuers: tuple[str, ...] = ()  # the ``iss`` values an ID token may carry
    jwks_uri: str | None = None
    userinfo_endpoint: str | None = None
    emails_endpoint: str | None = None  # GitHub only
    iss_parameter_required: bool = False
    hosted_domain: str | None = None  # Google: the ID token's ``hd`` must be exactly this


def discovery_url(config: ProviderConfig) -> str | None:
    """The discovery document to fetch, or None when the preset needs none (GitHub)."""
    issuer = _issuer_of(config)
    return None if issuer is None else issuer.rstrip("/") + "/.well-known/openid-configuration"


def _issuer_of(config: ProviderConfig) -> str | None:
    if config.preset == "github":
        return None
    if config.preset == "google":
        return GOOGLE_ISSUER
    return config.issuer


def scopes_for(config: ProviderConfig) -> tuple[str, ...]:
    if config.scopes is not None:
        return config.scopes
    return GITHUB_SCOPES if config.preset == "github" else OIDC_SCOPES


def github_metadata(config: ProviderConfig) -> ProviderMetadata:
    """GitHub is plain OAuth 2.0: no discovery, no ID token; the user comes from its REST API.

    ``web_url``/``api_url`` default to github.com and can point at a GitHub
    Enterprise Server (``https://HOST`` and ``https://HOST/api/v3``).
    """
    web = (config.web_url or GITHUB_WEB).rstrip("/")
    api = (config.api_url or GITHUB_API).rstrip("/")
    return ProviderMetadata(
        kind="github", authorization_endpoint=f"{web}/login/oauth/authorize",
        token_endpoint=f"{web}/login/oauth/access_token", token_auth_method="client_secret_post",
        userinfo_endpoint=f"{api}/user", emails_endpoint=f"{api}/user/emails")


def metadata_from_discovery(config: ProviderConfig, document: Any) -> ProviderMetadata:
    """Check a fetched discovery document and keep what the flow uses."""
    issuer = _issuer_of(config)
    if not isinstance(document, Mapping) or issuer is None:
        raise ProviderUnavailable("the provider's discovery document is not a JSON object")
    if document.get("issuer") != issuer:
        raise ProviderUnavailable("the discovery document names another issuer")
    endpoints = {name: document.get(name) for name in (
        "authorization_endpoint", "token_endpoint", "jwks_uri", "userinfo_endpoint")}
    for name, url in endpoints.items():
        if (url is not None or name != "userinfo_endpoint") and not _acceptable_url(url):
            raise ProviderUnavailable(f"the discovery document has no usable {name}")
    if "code" not in _strings(document.get("response_types_supported", ["code"])):
        raise ProviderUnavailable("the provider does not support the authorization code flow")
    methods = _strings(document.get("code_challenge_methods_supported", ["S256"]))
    if "S256" not in methods:
        raise ProviderUnavailable("the provider does not support PKCE S256")
    return ProviderMetadata(
        kind="oidc", issuer=issuer,
        accepted_issuers=GOOGLE_ISSUERS if config.preset == "google" else (issuer,),
        authorization_endpoint=str(endpoints["authorization_endpoint"]),
        token_endpoint=str(endpoints["token_endpoint"]),
        token_auth_method=config.token_auth_method or _auth_method(document),
        jwks_uri=endpoints["jwks_uri"],
        userinfo_endpoint=endpoints["userinfo_endpoint"],
        iss_parameter_required=document.get("authorization_response_iss_parameter_supported") is True,
        hosted_domain=config.hosted_domain)


def _auth_method(document: Mapping[str, Any]) -> AuthMethod:
    # OIDC Discovery: the default when the member is absent is client_secret_basic.
    supported = _strings(document.get("token_endpoint_auth_methods_supported",
                                      ["client_secret_basic"]))
    if "client_secret_basic" in supported:
        return "client_secret_basic"
    if "client_secret_post" in supported:
        return "client_secret_post"
    raise ProviderUnavailable("the provider supports neither client_secret_basic nor _post")


def _strings(value: object) -> tuple[str, ...]:
    return tuple(v for v in value if isinstance(v, str)) if isinstance(value, list) else ()


def _acceptable_url(url: object) -> bool:
    if not isinstance(url, str) or len(url) > 2048:
        return False
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    if parts.scheme == "https":
        return bool(parts.hostname)
    return parts.scheme == "http" and parts.hostname in ("127.0.0.1", "::1", "localhost")
