"""JWTs (RFC 7519) on top of the strict JWS codec."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

import orjson

from authd.jose._claims import check_type, validate_claims
from authd.jose._json import loads_object
from authd.jose._jws import DEFAULT_MAX_SIZE, encode_jws, verify_jws
from authd.jose._keys._base import Key
from authd.jose._keys._jwk import KeySet


def encode_jwt(claims: Mapping[str, Any], key: Key, *, typ: str = "JWT") -> str:
    return encode_jws(orjson.dumps(claims), key, typ=typ)


def decode_jwt(token: str | bytes, keys: KeySet, *, issuer: str | None,
               audience: str | Collection[str] | None, now: float, leeway: float = 0.0,
               typ: str | None = None, max_size: int = DEFAULT_MAX_SIZE,
               required: Collection[str] = ("exp",)) -> dict[str, Any]:
    """Verified, validated claims; an InvalidToken subclass says what failed."""
    header, payload = verify_jws(token, keys, max_size)
    if typ is not None:
        check_type(header, typ)
    claims = loads_object(payload)
    validate_claims(claims, issuer=issuer, audience=audience, now=now, leeway=leeway,
                    required=required)
    return claims
