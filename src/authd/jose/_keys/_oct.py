"""Symmetric HMAC keys (HS256): at least 32 bytes, private by nature, never published."""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Mapping
from typing import Any

from authd.jose._b64 import b64url_encode
from authd.jose._errors import BadSignature, InvalidKey
from authd.jose._keys._base import Key, member_bytes

HMAC_ALGS = {"HS256": "sha256"}
MIN_HMAC_BYTES = 32


class OctKey(Key):
    """A symmetric HMAC key: private by nature, never published."""

    kty = "oct"
    is_private = True

    def __init__(self, secret: bytes, alg: str = "HS256", kid: str | None = None) -> None:
        if alg not in HMAC_ALGS:
            raise InvalidKey(f"an oct key cannot be bound to {alg}")
        if len(secret) < MIN_HMAC_BYTES:
            raise InvalidKey(f"HMAC keys must have at least {MIN_HMAC_BYTES} bytes")
        self.alg = alg
        self._secret = secret
        self._digest = HMAC_ALGS[alg]
        self.kid = kid or self.thumbprint()

    def sign(self, signing_input: bytes) -> bytes:
        return hmac.digest(self._secret, signing_input, self._digest)

    def verify(self, signing_input: bytes, signature: bytes) -> None:
        expected = hmac.digest(self._secret, signing_input, self._digest)
        if not hmac.compare_digest(expected, signature):
            raise BadSignature()

    def public_key(self) -> Key:
        raise InvalidKey("a symmetric key has no public form")

    def public_jwk(self) -> dict[str, str]:
        raise InvalidKey("a symmetric key has no public form")

    def _public_members(self) -> dict[str, str]:
        return {"kty": "oct", "k": b64url_encode(self._secret)}

    def _private_members(self) -> dict[str, str]:
        return {}


def generate_oct_key(alg: str) -> OctKey:
    return OctKey(secrets.token_bytes(32), alg)


def oct_key_from_jwk(jwk: Mapping[str, Any], alg: str | None, kid: str | None) -> OctKey:
    return OctKey(member_bytes(jwk["k"]), alg or "HS256", kid)
