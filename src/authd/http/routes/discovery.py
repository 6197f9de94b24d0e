"""Discovery, JWKS and the revocation feed: public and cacheable."""

from __future__ import annotations

import re
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from authd.core import amr
from authd.core.client_assertions import ASSERTION_ALGS
from authd.errors import InvalidRequest
from authd.http.auth import services
from authd.http.responses import json_response

JWKS_MAX_AGE = 300
# How confidential clients authenticate (RFC 8414): a secret, or a JWT signed with their key.
_CLIENT_METHODS = ("client_secret_basic", "client_secret_post", "private_key_jwt")
FEED_POLL_AFTER = 2
# Feed cursors are the revocations table's sequence numbers: a 32-bit integer column on
# PostgreSQL, so no cursor of this feed is larger (and a larger one must not reach the driver).
MAX_CURSOR = 2**31 - 1
_CURSOR = re.compile(r"[0-9]{1,10}")  # ASCII digits only: str.isdigit() also accepts "²"


def discovery_document(issuer: str, algs: list[str], grants: list[str],
                       providers: list[str] | None = None) -> dict[str, Any]:
    return {
        "issuer": issuer,
        "jwks_uri": f"{issuer}/.well-known/jwks.json",
        "token_endpoint": f"{issuer}/v1/token",
        "userinfo_endpoint": f"{issuer}/v1/userinfo",
        "revocation_endpoint": f"{issuer}/v1/revoke",
        "introspection_endpoint": f"{issuer}/v1/introspect",
        "authd_revocations_endpoint": f"{issuer}/v1/revocations",
        "authd_sessions_endpoint": f"{issuer}/v1/sessions",
        "grant_types_supported": grants,
        # authd is no OpenID Provider for other apps: its authorization_code grant only
        # redeems the one-time codes of its own social logins (/v1/oauth/{provider}/...).
        "response_types_supported": [],
        "authd_oauth_providers": providers or [],
        "token_endpoint_auth_methods_supported": ["none", *_CLIENT_METHODS],
        "token_endpoint_auth_signing_alg_values_supported": list(ASSERTION_ALGS),
        "revocation_endpoint_auth_methods_supported": ["none", *_CLIENT_METHODS],
        "revocation_endpoint_auth_signing_alg_values_supported": list(ASSERTION_ALGS),
        "introspection_endpoint_auth_methods_supported": list(_CLIENT_METHODS),
        "introspection_endpoint_auth_signing_alg_values_supported": list(ASSERTION_ALGS),
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "claims_supported": ["sub", "email", "email_verified", "name", "auth_time", "amr"],
        "amr_values_supported": list(amr.SUPPORTED),
        "subject_types_supported": ["public"],
        "access_token_signing_alg_values_supported": algs,
    }


async def openid_configuration(request: Request) -> Response:
    svc = services(request)
    algs = sorted({r.alg for r in svc.keys.ring.records})
    return json_response(discovery_document(svc.settings.issuer, algs,
                                            ["password", "refresh_token", "authorization_code",
                                             "client_credentials",
                                             "urn:authd:params:oauth:grant-type:email-code",
                                             "urn:authd:params:oauth:grant-type:mfa"],
                                            sorted(svc.providers)),
                         headers={"Cache-Control": "public, max-age=3600"})


async def jwks(request: Request) -> Response:
    return json_response(services(request).keys.ring.jwks(),
                         headers={"Cache-Control": f"public, max-age={JWKS_MAX_AGE}"})


async def revocations_feed(request: Request) -> Response:
    since = _cursor(request.query_params.get("since", "0"))
    entries, cursor = await services(request).revocations.feed(since)
    body = {"revoked": [{r.kind: r.value, "exp": int(r.expires_at)} for r in entries],
            "cursor": str(cursor), "poll_after": FEED_POLL_AFTER}
    return json_response(body, headers={"Cache-Control": "public, max-age=1"})


def _cursor(raw: str) -> int:
    """The ``since`` cursor; 400 for anything this feed cannot have returned."""
    if not _CURSOR.fullmatch(raw) or int(raw) > MAX_CURSOR:
        raise InvalidRequest("since must be a cursor returned by this feed")
    return int(raw)
