"""The callback half of a social login as a sans-I/O state machine.

``complete_login`` is a generator: it yields what it needs — an
:class:`HttpRequest` to send, or :class:`NeedKeys` for the provider's JWKS —
and is sent back the :class:`HttpResponse` or ``KeySet``. It returns the
:class:`Profile` of the user the provider vouched for. All protocol decisions
live here and are tested without a network; ``authd.oauth.driver`` only moves
bytes.

Steps: code exchange with the PKCE verifier and client authentication
(RFC 6749 4.1.3, RFC 7636); for OIDC the ID token (``idtoken``), with one
JWKS refetch when its ``kid`` is unknown (key rotation at the provider), then
userinfo, whose ``sub`` must be the ID token's (OIDC Core 5.3.2); for GitHub
``/user`` and ``/user/emails`` (the primary address, if verified).
"""

from __future__ import annotations

import base64
from collections.abc import Generator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import orjson

from authd import jose
from authd.core.social_models import PendingLogin, Profile
from authd.errors import InvalidIdToken, LoginRefused, ProviderRefused, ProviderUnavailable
from authd.oauth.idtoken import validate_id_token
from authd.oauth.providers import ProviderMetadata

MAX_RESPONSE_BYTES = 256 * 1024


@dataclass(frozen=True, slots=True)
class HttpRequest:
    method: str
    url: str
    headers: Mapping[str, str] = field(default_factory=dict)
    form: Mapping[str, str] | None = None


@dataclass(frozen=True, slots=True)
class HttpResponse:
    status: int
    body: bytes


@dataclass(frozen=True, slots=True)
class NeedKeys:
    """Answer with the provider's keys; ``refresh`` asks for a fresh fetch (unknown kid)."""

    refresh: bool = False


@dataclass(frozen=True, slots=True)
class ClientCredentials:
    client_id: str
    client_secret: str
    redirect_uri: str


Step = HttpRequest | NeedKeys
Answer = HttpResponse | jose.KeySet
Flow = Generator[Step, Answer, Profile]


def complete_login(provider: str, metadata: ProviderMetadata, client: ClientCredentials,
                   pending: PendingLogin, code: str, *, now: float) -> Flow:
    answer = yield token_request(metadata, client, code, pending.code_verifier)
    tokens = parse_token_response(_response(answer))
    access_token = tokens.get("access_token")
    if not isinstance(access_token, str) or not access_token:
        raise ProviderUnavailable("the provider's token response has no access_token")
    if metadata.kind == "github":
        user = _json_object((yield api_request(metadata.userinfo_endpoint, access_token)), "user")
        emails = _json((yield api_request(metadata.emails_endpoint, access_token)), "emails")
        return github_profile(provider, user, emails)
    id_token = tokens.get("id_token")
    if not isinstance(id_token, str):
        raise InvalidIdToken("the provider returned no ID token")
    claims = yield from _validated(id_token, metadata, client, pending, now)
    if metadata.hosted_domain is not None and claims.get("hd") != metadata.hosted_domain:
        # The hd= authorization parameter is only a hint to Google's account chooser;
        # the signed claim is what proves the account belongs to the Workspace domain.
        raise LoginRefused("this account is not in the allowed Google Workspace domain")
    if metadata.userinfo_endpoint is not None:
        info = _json_object((yield api_request(metadata.userinfo_endpoint, access_token)), "userinfo")
        if info.get("sub") != claims["sub"]:
            raise InvalidIdToken("userinfo describes another subject than the ID token")
        claims = {**info, **claims}  # the signed ID token wins where both speak
    return oidc_profile(provider, claims)


def _validated(id_token: str, metadata: ProviderMetadata, client: ClientCredentials,
               pending: PendingLogin, now: float) -> Generator[Step, Answer, dict[str, Any]]:
    keys = _keys((yield NeedKeys()))
    if _kid(id_token) not in keys:
        keys = _keys((yield NeedKeys(refresh=True)))
    return validate_id_token(id_token, keys, issuers=metadata.accepted_issuers,
                             client_id=client.client_id, nonce=pending.nonce, now=now)


def _kid(token: str) -> str | None:
    """The header's kid, read only to decide on a refetch; the codec checks the header for real."""
    try:
        header = orjson.loads(base64.urlsafe_b64decode(token.split(".", 1)[0] + "=="))
    except (ValueError, orjson.JSONDecodeError):
        return None
    kid = header.get("kid") if isinstance(header, dict) else None
    return kid if isinstance(kid, str) else None


def token_request(metadata: ProviderMetadata, client: ClientCredentials, code: str,
                  verifier: str) -> HttpRequest:
    form = {"grant_type": "authorization_code", "code": code,
            "redirect_uri": client.redirect_uri, "code_verifier": verifier}
    headers = {"Accept": "application/json"}  # GitHub answers form-encoded without it
    if metadata.token_auth_method == "client_secret_basic":
        # RFC 6749 2.3.1: each part form-urlencoded before base64.
        pair = f"{quote(client.client_id, safe='')}:{quote(client.client_secret, safe='')}"
        headers["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode()
    else:
        form |= {"client_id": client.client_id, "client_secret": client.client_secret}
    return HttpRequest("POST", metadata.token_endpoint, headers, form)


def api_request(url: str | None, access_token: str) -> HttpRequest:
    if url is None:
        raise ProviderUnavailable("the provider has no user endpoint")
    return HttpRequest("GET", url, {"Authorization": f"Bearer {access_token}",
                                    "Accept": "application/json"})


def parse_token_response(response: HttpResponse) -> dict[str, Any]:
    """RFC 6749 5.1/5.2; GitHub also answers errors with 200 and an ``error`` member."""
    try:
        body = orjson.loads(response.body) if len(response.body) <= MAX_RESPONSE_BYTES else None
    except orjson.JSONDecodeError:
        body = None
    if isinstance(body, dict) and isinstance(body.get("error"), str):
        # invalid_grant here means the code or the PKCE verifier did not match.
        raise ProviderRefused(f"the provider refused the code: {body['error'][:64]}")
    if response.status != 200 or not isinstance(body, dict):
        raise ProviderUnavailable(f"the provider's token endpoint answered {response.status}")
    token_type = body.get("token_type")
    if not isinstance(token_type, str) or token_type.lower() != "bearer":
        raise ProviderUnavailable("the provider issued no Bearer token")
    return body


def oidc_profile(provider: str, claims: Mapping[str, Any]) -> Profile:
    email = claims.get("email")
    name = claims.get("name")
    return Profile(provider=provider, subject=claims["sub"],
                   email=email if isinstance(email, str) else None,
                   # Only a real JSON true counts: "true" strings are a provider bug, not a promise.
                   email_verified=claims.get("email_verified") is True,
                   name=name if isinstance(name, str) else None)


def github_profile(provider: str, user: Mapping[str, Any], emails: Any) -> Profile:
    """The numeric ``id`` is the subject (logins can be renamed); email: primary and verified."""
    user_id = user.get("id")
    if not isinstance(user_id, int) or isinstance(user_id, bool):
        raise ProviderUnavailable("GitHub's /user answer has no numeric id")
    primary = [e for e in emails if isinstance(e, dict) and e.get("primary") is True] \
        if isinstance(emails, list) else []
    email = primary[0].get("email") if primary else None
    verified = bool(primary) and primary[0].get("verified") is True
    name = user.get("name") or user.get("login")
    return Profile(provider=provider, subject=str(user_id),
                   email=email if isinstance(email, str) else None, email_verified=verified,
                   name=name if isinstance(name, str) else None)


def _response(answer: Answer) -> HttpResponse:
    if not isinstance(answer, HttpResponse):
        raise TypeError("the driver answered an HTTP request with something else")
    return answer


def _keys(answer: Answer) -> jose.KeySet:
    if not isinstance(answer, jose.KeySet):
        raise TypeError("the driver answered NeedKeys with something else")
    return answer


def _json(answer: Answer, what: str) -> Any:
    response = _response(answer)
    if response.status in (401, 403):
        raise LoginRefused(f"the provider refused the {what} request ({response.status})")
    if response.status != 200 or len(response.body) > MAX_RESPONSE_BYTES:
        raise ProviderUnavailable(f"the provider's {what} endpoint answered {response.status}")
    try:
        return orjson.loads(response.body)
    except orjson.JSONDecodeError:
        raise ProviderUnavailable(f"the provider's {what} answer is not JSON") from None


def _json_object(answer: Answer, what: str) -> dict[str, Any]:
    body = _json(answer, what)
    if not isinstance(body, dict):
        raise ProviderUnavailable(f"the provider's {what} answer is not a JSON object")
    return body
