"""ID token validation (OpenID Connect Core 3.1.3.7) with authd's own strict codec.

Keys come only from the provider's JWKS (each bound to its algorithm, so an
HS256 token "signed" with the provider's public key, ``alg: none`` or an
embedded key never verify). Then: ``iss`` exact, ``aud`` contains our
client id, ``azp`` equals it when present (required with several
audiences), ``exp``/``iat`` with a 60 s leeway, and ``nonce`` exactly ours.
The header's ``typ``, when present, must say ``JWT`` (RFC 7515 4.1.9: any
casing, ``application/`` optional): a provider's access token (``at+jwt``),
logout token (``logout+jwt``) or any other JWT it signs for another purpose
may name our client id as audience, but it is not an ID token.
"""

from __future__ import annotations

import base64
import hmac
from collections.abc import Collection
from typing import Any

import orjson

from authd import jose
from authd.errors import InvalidIdToken

LEEWAY = 60.0


def validate_id_token(token: str, keys: jose.KeySet, *, issuers: Collection[str], client_id: str,
                      nonce: str, now: float) -> dict[str, Any]:
    try:
        claims = jose.decode_jwt(token, keys, issuer=None, audience=client_id, now=now,
                                 leeway=LEEWAY, required=("iss", "sub", "aud", "exp", "iat"))
    except jose.InvalidToken as exc:
        raise InvalidIdToken(f"ID token refused: {exc.reason}") from None
    _check_type(token)
    if claims.get("iss") not in issuers:
        raise InvalidIdToken("ID token from another issuer")
    audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
    azp = claims.get("azp")
    if (len(audiences) > 1 or azp is not None) and azp != client_id:
        raise InvalidIdToken("ID token authorized for another party (azp)")
    presented = claims.get("nonce")
    if not isinstance(presented, str) or not hmac.compare_digest(presented, nonce):
        raise InvalidIdToken("ID token nonce mismatch")
    if not isinstance(claims["sub"], str) or not claims["sub"]:
        raise InvalidIdToken("ID token without a subject")
    return claims


def _check_type(token: str) -> None:
    """Absent or ``JWT`` only; called after the signature check, so the header is the signed one."""
    segment = token.split(".", 1)[0]
    header = orjson.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
    if "typ" not in header:
        return
    try:
        jose.check_type(header, "JWT")
    except jose.InvalidType:
        raise InvalidIdToken("ID token refused: its typ says it is another kind of token") from None
