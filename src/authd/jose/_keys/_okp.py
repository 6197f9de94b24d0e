"""Ed25519 keys (EdDSA, RFC 8037)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import ed25519

from authd.jose._b64 import b64url_encode
from authd.jose._errors import BadSignature, InvalidKey
from authd.jose._keys._base import Key, member_bytes

OKP_ALGS = frozenset({"EdDSA"})
OKP_CURVES = frozenset({"Ed25519"})


class OKPKey(Key):
    kty = "OKP"
    alg = "EdDSA"

    def __init__(self, key: ed25519.Ed25519PrivateKey | ed25519.Ed25519PublicKey,
                 kid: str | None = None) -> None:
        self.is_private = isinstance(key, ed25519.Ed25519PrivateKey)
        self._private = key if isinstance(key, ed25519.Ed25519PrivateKey) else None
        self._public = key.public_key() if isinstance(key, ed25519.Ed25519PrivateKey) else key
        self.kid = kid or self.thumbprint()

    def sign(self, signing_input: bytes) -> bytes:
        if self._private is None:
            raise InvalidKey("a public key cannot sign")
        return self._private.sign(signing_input)

    def verify(self, signing_input: bytes, signature: bytes) -> None:
        if len(signature) != 64:
            raise BadSignature("wrong Ed25519 signature length")
        try:
            self._public.verify(signature, signing_input)
        except InvalidSignature:
            raise BadSignature() from None

    def public_key(self) -> Key:
        return OKPKey(self._public, self.kid)

    def _public_members(self) -> dict[str, str]:
        from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

        raw = self._public.public_bytes(Encoding.Raw, PublicFormat.Raw)
        return {"kty": "OKP", "crv": "Ed25519", "x": b64url_encode(raw)}

    def _private_members(self) -> dict[str, str]:
        from cryptography.hazmat.primitives.serialization import (
            Encoding,
            NoEncryption,
            PrivateFormat,
        )

        assert self._private is not None
        raw = self._private.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
        return {"d": b64url_encode(raw)}


def generate_okp_key() -> OKPKey:
    return OKPKey(ed25519.Ed25519PrivateKey.generate())


def okp_key_from_jwk(jwk: Mapping[str, Any], kid: str | None) -> OKPKey:
    """An Ed25519 JWK; a private one must match its own public key."""
    if jwk["crv"] not in OKP_CURVES:
        raise InvalidKey("unsupported OKP curve")
    public_raw = member_bytes(jwk["x"], 32)
    if "d" in jwk:
        private = ed25519.Ed25519PrivateKey.from_private_bytes(member_bytes(jwk["d"], 32))
        if OKPKey(private)._public_members()["x"] != jwk["x"]:
            raise InvalidKey("OKP private key does not match x")
        return OKPKey(private, kid)
    return OKPKey(ed25519.Ed25519PublicKey.from_public_bytes(public_raw), kid)
