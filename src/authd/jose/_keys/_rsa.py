"""RSA keys (RS256, PS256): at least 2048 bits, never with the ROCA fingerprint."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from authd.jose._errors import BadSignature, InvalidKey
from authd.jose._keys._base import Key, encode_uint, member_uint
from authd.jose._roca import has_roca_fingerprint

RSA_ALGS: dict[str, hashes.HashAlgorithm] = {"RS256": hashes.SHA256(), "PS256": hashes.SHA256()}
MIN_RSA_BITS = 2048


class RSAKey(Key):
    kty = "RSA"

    def __init__(self, key: rsa.RSAPrivateKey | rsa.RSAPublicKey, alg: str = "RS256",
                 kid: str | None = None) -> None:
        if alg not in RSA_ALGS:
            raise InvalidKey(f"an RSA key cannot be bound to {alg}")
        self.alg = alg
        self.is_private = isinstance(key, rsa.RSAPrivateKey)
        self._private = key if isinstance(key, rsa.RSAPrivateKey) else None
        self._public = key.public_key() if isinstance(key, rsa.RSAPrivateKey) else key
        if self._public.key_size < MIN_RSA_BITS:
            raise InvalidKey(f"RSA keys must have at least {MIN_RSA_BITS} bits")
        # Here rather than in the JWK parser: every way in (JWK, JWKS, PEM, DER) is checked.
        if has_roca_fingerprint(self._public.public_numbers().n):
            raise InvalidKey("RSA key has the ROCA fingerprint (CVE-2017-15361): it can be "
                             "factored; generate a new key")
        self._size = (self._public.key_size + 7) // 8
        self._hash = RSA_ALGS[alg]
        self._padding: padding.AsymmetricPadding = (
            padding.PKCS1v15() if alg.startswith("RS")
            else padding.PSS(mgf=padding.MGF1(self._hash), salt_length=self._hash.digest_size))
        self.kid = kid or self.thumbprint()

    def sign(self, signing_input: bytes) -> bytes:
        if self._private is None:
            raise InvalidKey("a public key cannot sign")
        return self._private.sign(signing_input, self._padding, self._hash)

    def verify(self, signing_input: bytes, signature: bytes) -> None:
        if len(signature) != self._size:
            raise BadSignature("wrong RSA signature length")
        try:
            self._public.verify(signature, signing_input, self._padding, self._hash)
        except InvalidSignature:
            raise BadSignature() from None

    def public_key(self) -> Key:
        return RSAKey(self._public, self.alg, self.kid)

    def _public_members(self) -> dict[str, str]:
        numbers = self._public.public_numbers()
        return {"kty": "RSA", "n": encode_uint(numbers.n), "e": encode_uint(numbers.e)}

    def _private_members(self) -> dict[str, str]:
        assert self._private is not None
        p = self._private.private_numbers()
        return {"d": encode_uint(p.d), "p": encode_uint(p.p), "q": encode_uint(p.q),
                "dp": encode_uint(p.dmp1), "dq": encode_uint(p.dmq1), "qi": encode_uint(p.iqmp)}


def generate_rsa_key(alg: str) -> RSAKey:
    return RSAKey(rsa.generate_private_key(public_exponent=65537, key_size=2048), alg)


def rsa_key_from_jwk(jwk: Mapping[str, Any], alg: str | None, kid: str | None) -> RSAKey:
    """An RSA JWK; RSA keys serve two algorithms, so ``alg`` must be known."""
    if alg is None:
        raise InvalidKey("RSA key without alg and no default algorithm")
    n, e = member_uint(jwk["n"]), member_uint(jwk["e"])
    public_numbers = rsa.RSAPublicNumbers(e, n)
    if "d" in jwk:
        private_numbers = rsa.RSAPrivateNumbers(
            p=member_uint(jwk["p"]), q=member_uint(jwk["q"]), d=member_uint(jwk["d"]),
            dmp1=member_uint(jwk["dp"]), dmq1=member_uint(jwk["dq"]),
            iqmp=member_uint(jwk["qi"]), public_numbers=public_numbers)
        return RSAKey(private_numbers.private_key(), alg, kid)
    return RSAKey(public_numbers.public_key(), alg, kid)
