"""JWT claim checks (RFC 7519 section 4.1, RFC 9068 section 4), with time passed in."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from authd.jose._errors import (
    ExpiredToken,
    InvalidAudience,
    InvalidClaim,
    InvalidIssuer,
    InvalidType,
    MissingClaim,
    NotYetValid,
)


def validate_claims(claims: Mapping[str, Any], *, issuer: str | None,
                    audience: str | Collection[str] | None, now: float, leeway: float = 0.0,
                    required: Collection[str] = ("exp",)) -> None:
    """Raise the matching InvalidToken subclass for the first claim that fails.

    ``audience=None`` skips the audience check; only callers that check the
    audience themselves (e.g. an id_token's ``azp`` rules) may pass it.
    """
    for name in required:
        if name not in claims:
            raise MissingClaim(f"missing claim: {name}")
    get = claims.get
    exp, nbf, iat = get("exp"), get("nbf"), get("iat")
    if exp is not None and now >= _number(exp, "exp") + leeway:
        raise ExpiredToken()
    if nbf is not None and now + leeway < _number(nbf, "nbf"):
        raise NotYetValid()
    if iat is not None and _number(iat, "iat") > now + leeway:
        raise NotYetValid("issued in the future")
    if issuer is not None and get("iss") != issuer:
        raise InvalidIssuer()
    if audience is not None:
        _check_audience(get("aud"), audience)


def _number(value: object, name: str) -> float:
    # type() rather than isinstance(): JSON true/false must not pass as 1/0.
    if type(value) is int or type(value) is float:
        return value
    raise InvalidClaim(f"{name} must be a number")


def _check_audience(aud: object, expected: str | Collection[str]) -> None:
    # A single expected audience is compared directly: no set built per token.
    single = isinstance(expected, str)
    if isinstance(aud, str):
        if aud == expected if single else aud in expected:
            return
    elif isinstance(aud, list):
        if not all(isinstance(a, str) for a in aud):
            raise InvalidClaim("aud must be a string or an array of strings")
        if any(a == expected for a in aud) if single else any(a in expected for a in aud):
            return
    elif aud is not None:
        raise InvalidClaim("aud must be a string or an array of strings")
    raise InvalidAudience()


def check_type(header: Mapping[str, Any], expected: str) -> None:
    """RFC 7515 4.1.9 / RFC 9068: compare typ case-insensitively, "application/" optional."""
    typ = header.get("typ")
    if typ == expected:
        return
    if not isinstance(typ, str) or _media(typ) != _media(expected):
        raise InvalidType()


def _media(value: str) -> str:
    lowered = value.lower()
    return lowered[len("application/"):] if lowered.startswith("application/") else lowered
