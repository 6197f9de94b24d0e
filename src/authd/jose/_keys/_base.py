"""What every key type shares: the ``Key`` interface, thumbprints, and strict JWK member decoding.

A key is bound to exactly one algorithm. The binding is the algorithm-confusion
defence: a key object only ever verifies with its own algorithm, and an
asymmetric public key can never be turned into an HMAC secret, whatever a
token header says.
"""

from __future__ import annotations

import hashlib

import orjson

from authd.jose._b64 import b64url_decode, b64url_encode
from authd.jose._errors import InvalidKey

PRIVATE_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})


class Key:
    """A key bound to one algorithm. Immutable; verification-only unless ``is_private``."""

    kty: str
    alg: str
    kid: str
    is_private: bool

    def sign(self, signing_input: bytes) -> bytes:
        raise NotImplementedError

    def verify(self, signing_input: bytes, signature: bytes) -> None:
        """Raise BadSignature unless ``signature`` is valid; never returns a bool."""
        raise NotImplementedError

    def public_key(self) -> Key:
        raise NotImplementedError

    def _public_members(self) -> dict[str, str]:
        raise NotImplementedError

    def _private_members(self) -> dict[str, str]:
        raise NotImplementedError

    def thumbprint(self) -> str:
        """RFC 7638: SHA-256 over the required members in lexicographic order."""
        members = dict(sorted(self._public_members().items()))
        return b64url_encode(hashlib.sha256(orjson.dumps(members)).digest())

    def public_jwk(self) -> dict[str, str]:
        return {**self._public_members(), "kid": self.kid, "alg": self.alg, "use": "sig"}

    def private_jwk(self) -> dict[str, str]:
        if not self.is_private:
            raise InvalidKey("not a private key")
        return {**self._public_members(), **self._private_members(), "kid": self.kid,
                "alg": self.alg}

    def __repr__(self) -> str:  # never the key material
        return f"<{type(self).__name__} kid={self.kid} alg={self.alg} private={self.is_private}>"


def member_bytes(value: object, size: int | None = None) -> bytes:
    """A base64url key member, of exactly ``size`` bytes when given."""
    if not isinstance(value, str):
        raise InvalidKey("key members must be base64url strings")
    raw = b64url_decode(value.encode("ascii"))
    if size is not None and len(raw) != size:
        raise InvalidKey("key member has the wrong length")
    return raw


def member_fixed(value: object, size: int) -> int:
    """A fixed-size big-endian integer member (EC coordinates)."""
    return int.from_bytes(member_bytes(value, size), "big")


def member_uint(value: object) -> int:
    """A minimal big-endian unsigned integer member (RSA numbers); never empty."""
    raw = member_bytes(value)
    if not raw:
        raise InvalidKey("empty integer")
    return int.from_bytes(raw, "big")


def encode_uint(value: int) -> str:
    return b64url_encode(value.to_bytes(max(1, (value.bit_length() + 7) // 8), "big"))
