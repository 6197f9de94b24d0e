"""Keys and token helpers for the codec tests."""

from __future__ import annotations

import base64
from typing import Any

import orjson
import pytest

from authd import jose

NOW = 1_700_000_000.0
ISSUER = "https://auth.example"
AUDIENCE = "https://api.example"


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def forge(header: dict[str, Any], claims: dict[str, Any], signature: bytes = b"") -> str:
    """A token with an arbitrary header, as an attacker would write it."""
    return f"{b64(orjson.dumps(header))}.{b64(orjson.dumps(claims))}.{b64(signature)}"


def claims(**changes: Any) -> dict[str, Any]:
    base = {"iss": ISSUER, "aud": AUDIENCE, "sub": "user-1", "iat": int(NOW),
            "exp": int(NOW) + 300, "jti": "j1"}
    base.update(changes)
    return {k: v for k, v in base.items() if v is not None}


@pytest.fixture(scope="session", params=["ES256", "EdDSA", "RS256", "HS256"])
def key(request: pytest.FixtureRequest) -> jose.Key:
    return jose.generate_key(request.param)


@pytest.fixture(scope="session")
def es256() -> jose.Key:
    return jose.generate_key("ES256")


def verifying(key: jose.Key) -> jose.KeySet:
    return jose.KeySet([key if key.kty == "oct" else key.public_key()])


def decode(token: str | bytes, keys: jose.KeySet, **kwargs: Any) -> dict[str, Any]:
    options: dict[str, Any] = {"issuer": ISSUER, "audience": AUDIENCE, "now": NOW,
                               "typ": "at+jwt"}
    options.update(kwargs)
    return jose.decode_jwt(token, keys, **options)


