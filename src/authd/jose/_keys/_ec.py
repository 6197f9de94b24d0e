"""ECDSA keys (ES256, ES384, ES512) with fixed-size P1363 signatures and range-checked r, s."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from authd.jose._b64 import b64url_encode
from authd.jose._errors import BadSignature, InvalidKey
from authd.jose._keys._base import Key, member_fixed

CURVES: dict[str, tuple[ec.EllipticCurve, str, hashes.HashAlgorithm, int]] = {
    "P-256": (ec.SECP256R1(), "ES256", hashes.SHA256(), 32),
    "P-384": (ec.SECP384R1(), "ES384", hashes.SHA384(), 48),
    "P-521": (ec.SECP521R1(), "ES512", hashes.SHA512(), 66),
}
_ORDER = {
    "P-256": 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551,
    "P-384": int("FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFC7634D81F4372DDF"
                 "581A0DB248B0A77AECEC196ACCC52973", 16),
    "P-521": int("01" + "F" * 65 + "A"
                 "51868783BF2F966B7FCC0148F709A5D03BB5C9B8899C47AEBB6FB71E91386409", 16),
}
CURVE_OF_ALG = {alg: crv for crv, (_, alg, _, _) in CURVES.items()}
EC_ALGS = frozenset(CURVE_OF_ALG)


class ECKey(Key):
    kty = "EC"

    def __init__(self, key: ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey,
                 crv: str, kid: str | None = None) -> None:
        _, self.alg, self._hash, self._size = CURVES[crv]
        self.crv = crv
        self._order = _ORDER[crv]
        self.is_private = isinstance(key, ec.EllipticCurvePrivateKey)
        self._private = key if isinstance(key, ec.EllipticCurvePrivateKey) else None
        self._public = key.public_key() if isinstance(key, ec.EllipticCurvePrivateKey) else key
        self._ecdsa = ec.ECDSA(self._hash)
        self.kid = kid or self.thumbprint()

    def sign(self, signing_input: bytes) -> bytes:
        if self._private is None:
            raise InvalidKey("a public key cannot sign")
        from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

        r, s = decode_dss_signature(self._private.sign(signing_input, self._ecdsa))
        return r.to_bytes(self._size, "big") + s.to_bytes(self._size, "big")

    def verify(self, signing_input: bytes, signature: bytes) -> None:
        size = self._size
        if len(signature) != 2 * size:
            raise BadSignature("wrong ECDSA signature length")
        r = int.from_bytes(signature[:size], "big")
        s = int.from_bytes(signature[size:], "big")
        if not (0 < r < self._order and 0 < s < self._order):
            raise BadSignature("ECDSA r or s out of range")
        try:
            self._public.verify(encode_dss_signature(r, s), signing_input, self._ecdsa)
        except InvalidSignature:
            raise BadSignature() from None

    def public_key(self) -> Key:
        return ECKey(self._public, self.crv, self.kid)

    def _public_members(self) -> dict[str, str]:
        numbers = self._public.public_numbers()
        return {"kty": "EC", "crv": self.crv,
                "x": b64url_encode(numbers.x.to_bytes(self._size, "big")),
                "y": b64url_encode(numbers.y.to_bytes(self._size, "big"))}

    def _private_members(self) -> dict[str, str]:
        assert self._private is not None
        d = self._private.private_numbers().private_value
        return {"d": b64url_encode(d.to_bytes(self._size, "big"))}


def generate_ec_key(alg: str) -> ECKey:
    crv = CURVE_OF_ALG[alg]
    return ECKey(ec.generate_private_key(CURVES[crv][0]), crv)


def ec_key_from_jwk(jwk: Mapping[str, Any], kid: str | None) -> ECKey:
    """An EC JWK; a private one must match its own public point."""
    crv = jwk["crv"]
    if crv not in CURVES:
        raise InvalidKey(f"unsupported curve {crv}")
    curve, _, _, size = CURVES[crv]
    x, y = member_fixed(jwk["x"], size), member_fixed(jwk["y"], size)
    public = ec.EllipticCurvePublicNumbers(x, y, curve)
    if "d" in jwk:
        private = ec.derive_private_key(member_fixed(jwk["d"], size), curve)
        if private.public_key().public_numbers() != public:
            raise InvalidKey("EC private key does not match x, y")
        return ECKey(private, crv, kid)
    return ECKey(public.public_key(), crv, kid)
