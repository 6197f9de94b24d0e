"""The authorization request and the callback check (RFC 6749, 7636, 9207, 9700), pure.

Every login gets its own ``state`` (bound to the browser by a second random
value kept in a short-lived HttpOnly cookie), ``nonce`` and PKCE S256
verifier, all 256-bit. The callback is accepted only for that browser, once,
before it expires, and — when the provider says who it is (RFC 9207 ``iss``)
— only from the provider the login was sent to (mix-up defence).
"""

from __future__ import annotations

import hashlib
import hmac
from urllib.parse import urlencode

from authd.core.ids import b64url
from authd.core.social_models import PENDING_TTL, PendingLogin
from authd.errors import InvalidState, ProviderRefused


def code_challenge(verifier: str) -> str:
    """RFC 7636 S256."""
    return b64url(hashlib.sha256(verifier.encode("ascii")).digest())


def authorize_url(endpoint: str, *, client_id: str, redirect_uri: str, scopes: tuple[str, ...],
                  pending: PendingLogin, oidc: bool = True, hosted_domain: str | None = None) -> str:
    """The provider URL the browser is sent to; ``nonce`` only for OpenID Connect providers.

    ``hosted_domain`` becomes Google's ``hd`` hint (the account chooser shows that
    domain's accounts); the flow still checks the ID token's ``hd`` claim.
    """
    params = {"response_type": "code", "client_id": client_id, "redirect_uri": redirect_uri,
              "scope": " ".join(scopes), "state": pending.state,
              "code_challenge": code_challenge(pending.code_verifier),
              "code_challenge_method": "S256"}
    if oidc:
        params["nonce"] = pending.nonce
    if hosted_domain is not None:
        params["hd"] = hosted_domain
    query = urlencode(params)
    return f"{endpoint}{'&' if '?' in endpoint else '?'}{query}"


def check_callback(pending: PendingLogin | None, params: dict[str, str], browser_binding: str | None,
                   *, now: float, issuer: str | None, issuer_required: bool) -> str:
    """The authorization code, once every check passed; a typed error otherwise."""
    if (pending is None or browser_binding is None
            or not hmac.compare_digest(pending.state, params.get("state", ""))
            or not hmac.compare_digest(pending.browser_binding, browser_binding)
            or now - pending.created_at > PENDING_TTL):
        raise InvalidState()
    returned_issuer = params.get("iss")
    if (returned_issuer is not None or issuer_required) and (
            issuer is None or returned_issuer != issuer):
        raise InvalidState("the response comes from another provider (iss mismatch)",
                               redirect_to=pending.redirect_to)
    if "error" in params:
        raise ProviderRefused(f"provider error: {params['error'][:64]}",
                              redirect_to=pending.redirect_to)
    code = params.get("code")
    if not code or len(code) > 2048:
        raise InvalidState("no authorization code", redirect_to=pending.redirect_to)
    return code
