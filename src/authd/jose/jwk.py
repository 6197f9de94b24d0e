"""Keys (RFC 7517/7518), each bound to exactly one algorithm, and thumbprints (RFC 7638).

The binding is the algorithm-confusion defence: a key object only ever
verifies with its own algorithm, and an asymmetric public key can never be
turned into an HMAC secret, whatever a token header says.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import orjson
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from authd.jose._b64 import b64url_decode, b64url_encode
from authd.jose._roca import has_roca_fingerprint
from authd.jose.errors import BadSignature, InvalidKey, UnknownKey

_EC_CURVES: dict[str, tuple[ec.EllipticCurve, str, hashes.HashAlgorithm, int]] = {
    "P-256": (ec.SECP256R1(), "ES256", hashes.SHA256(), 32),
    "P-384": (ec.SECP384R1(), "ES384", hashes.SHA384(), 48),
    "P-521": (ec.SECP521R1(), "ES512", hashes.SHA512(), 66),
}
_EC_ORDER = {
    "P-256": 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551,
    "P-384": int("FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFC7634D81F4372DDF"
                 "581A0DB248B0A77AECEC196ACCC52973", 16),
    "P-521": int("01" + "F" * 65 + "A"
                 "51868783BF2F966B7FCC0148F709A5D03BB5C9B8899C47AEBB6FB71E91386409", 16),
}
RSA_ALGS = {"RS256": hashes.SHA256(), "PS256": hashes.SHA256()}
HMAC_ALGS = {"HS256": "sha256"}
SUPPORTED_ALGS = frozenset({"ES256", "ES384", "ES512", "EdDSA", *RSA_ALGS, *HMAC_ALGS})
MIN_RSA_BITS = 2048
MIN_HMAC_BYTES = 32
_PRIVATE_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})


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


class ECKey(Key):
    kty = "EC"

    def __init__(self, key: ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey,
                 crv: str, kid: str | None = None) -> None:
        _, self.alg, self._hash, self._size = _EC_CURVES[crv]
        self.crv = crv
        self._order = _EC_ORDER[crv]
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
        # Here rather than in key_from_jwk: every way in (JWK, JWKS, PEM, DER) is checked.
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
        return {"kty": "RSA", "n": _uint(numbers.n), "e": _uint(numbers.e)}

    def _private_members(self) -> dict[str, str]:
        assert self._private is not None
        p = self._private.private_numbers()
        return {"d": _uint(p.d), "p": _uint(p.p), "q": _uint(p.q), "dp": _uint(p.dmp1),
                "dq": _uint(p.dmq1), "qi": _uint(p.iqmp)}


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


def generate_key(alg: str) -> Key:
    if alg in ("ES256", "ES384", "ES512"):
        crv = {"ES256": "P-256", "ES384": "P-384", "ES512": "P-521"}[alg]
        return ECKey(ec.generate_private_key(_EC_CURVES[crv][0]), crv)
    if alg == "EdDSA":
        return OKPKey(ed25519.Ed25519PrivateKey.generate())
    if alg in RSA_ALGS:
        return RSAKey(rsa.generate_private_key(public_exponent=65537, key_size=2048), alg)
    if alg in HMAC_ALGS:
        return OctKey(secrets.token_bytes(32), alg)
    raise InvalidKey(f"unsupported algorithm: {alg}")


def key_from_jwk(jwk: Mapping[str, Any], *, default_alg: str | None = None,
                 public_only: bool = False) -> Key:
    """Parse one JWK strictly; its algorithm comes from ``alg``, the curve, or ``default_alg``."""
    if not isinstance(jwk, Mapping):
        raise InvalidKey("a JWK must be an object")
    if public_only and _PRIVATE_MEMBERS & set(jwk):
        raise InvalidKey("private key material in a public key set")
    use = jwk.get("use")
    if use is not None and use != "sig":
        raise InvalidKey("not a signing key")
    ops = jwk.get("key_ops")
    if ops is not None and (not isinstance(ops, list) or not {"sign", "verify"} & set(ops)):
        raise InvalidKey("key_ops does not allow signatures")
    kid = jwk.get("kid")
    if kid is not None and (not isinstance(kid, str) or not kid or len(kid) > 256):
        raise InvalidKey("bad kid")
    alg = jwk.get("alg")
    if alg is not None and not isinstance(alg, str):
        raise InvalidKey("bad alg")
    try:
        key = _parse(jwk, alg or default_alg, kid)
    except (ValueError, TypeError, KeyError, OverflowError) as exc:
        raise InvalidKey(f"malformed JWK: {type(exc).__name__}") from None
    if alg is not None and key.alg != alg:
        raise InvalidKey(f"alg {alg} does not match the key type")
    return key


def _parse(jwk: Mapping[str, Any], alg: str | None, kid: str | None) -> Key:
    kty = jwk.get("kty")
    if kty == "EC":
        crv = jwk["crv"]
        if crv not in _EC_CURVES:
            raise InvalidKey(f"unsupported curve {crv}")
        curve, _, _, size = _EC_CURVES[crv]
        x, y = _fixed(jwk["x"], size), _fixed(jwk["y"], size)
        public = ec.EllipticCurvePublicNumbers(x, y, curve)
        if "d" in jwk:
            private = ec.derive_private_key(_fixed(jwk["d"], size), curve)
            if private.public_key().public_numbers() != public:
                raise InvalidKey("EC private key does not match x, y")
            return ECKey(private, crv, kid)
        return ECKey(public.public_key(), crv, kid)
    if kty == "OKP":
        if jwk["crv"] != "Ed25519":
            raise InvalidKey("unsupported OKP curve")
        public_raw = _bytes(jwk["x"], 32)
        if "d" in jwk:
            private_okp = ed25519.Ed25519PrivateKey.from_private_bytes(_bytes(jwk["d"], 32))
            if OKPKey(private_okp)._public_members()["x"] != jwk["x"]:
                raise InvalidKey("OKP private key does not match x")
            return OKPKey(private_okp, kid)
        return OKPKey(ed25519.Ed25519PublicKey.from_public_bytes(public_raw), kid)
    if kty == "RSA":
        if alg is None:
            raise InvalidKey("RSA key without alg and no default algorithm")
        n, e = _uint_from(jwk["n"]), _uint_from(jwk["e"])
        public_numbers = rsa.RSAPublicNumbers(e, n)
        if "d" in jwk:
            private_numbers = rsa.RSAPrivateNumbers(
                p=_uint_from(jwk["p"]), q=_uint_from(jwk["q"]), d=_uint_from(jwk["d"]),
                dmp1=_uint_from(jwk["dp"]), dmq1=_uint_from(jwk["dq"]),
                iqmp=_uint_from(jwk["qi"]), public_numbers=public_numbers)
            return RSAKey(private_numbers.private_key(), alg, kid)
        return RSAKey(public_numbers.public_key(), alg, kid)
    if kty == "oct":
        return OctKey(_bytes(jwk["k"]), alg or "HS256", kid)
    raise InvalidKey(f"unsupported key type {kty!r}")


class KeySet:
    """An immutable set of keys, looked up by kid in O(1).

    ``_headers`` belongs to ``authd.jose.jws``: exact encoded header segment ->
    (key, parsed header) for headers that passed every check against this set.
    It lives here so that it dies with the set: a new JWKS starts empty.
    """

    def __init__(self, keys: Iterable[Key]) -> None:
        self._headers: dict[bytes, tuple[Key, dict[str, Any]]] = {}
        self._by_kid: dict[str, Key] = {}
        for key in keys:
            self._by_kid.setdefault(key.kid, key)
        self._by_alg: dict[str, list[Key]] = {}
        for key in self._by_kid.values():
            self._by_alg.setdefault(key.alg, []).append(key)

    @classmethod
    def from_jwks(cls, jwks: Mapping[str, Any], *, default_alg: str | None = None,
                  public_only: bool = True) -> KeySet:
        """Keys for signature verification; encryption keys and unknown types are skipped."""
        entries = jwks.get("keys") if isinstance(jwks, Mapping) else None
        if not isinstance(entries, list):
            raise InvalidKey("a JWKS must be an object with a keys array")
        keys: list[Key] = []
        for entry in entries:
            if not isinstance(entry, Mapping):
                raise InvalidKey("a JWK must be an object")
            if entry.get("use", "sig") != "sig" or not _supported(entry):
                continue
            keys.append(key_from_jwk(entry, default_alg=default_alg, public_only=public_only))
        return cls(keys)

    def get(self, kid: str) -> Key:
        try:
            return self._by_kid[kid]
        except (KeyError, TypeError):
            raise UnknownKey("no key with this kid") from None

    def only_key_for(self, alg: str) -> Key:
        """The single key bound to ``alg`` (for tokens without kid)."""
        candidates = self._by_alg.get(alg, [])
        if len(candidates) != 1:
            raise UnknownKey("token has no kid and the key is ambiguous")
        return candidates[0]

    @property
    def keys(self) -> tuple[Key, ...]:
        return tuple(self._by_kid.values())

    def to_jwks(self) -> dict[str, list[dict[str, str]]]:
        return {"keys": [k.public_jwk() for k in self._by_kid.values() if k.kty != "oct"]}

    def __len__(self) -> int:
        return len(self._by_kid)

    def __contains__(self, kid: object) -> bool:
        return kid in self._by_kid

    def __iter__(self) -> Iterator[Key]:
        return iter(self._by_kid.values())


def _supported(entry: Mapping[str, Any]) -> bool:
    alg = entry.get("alg")
    if alg is not None and alg not in SUPPORTED_ALGS:
        return False
    if entry.get("kty") == "EC":
        return entry.get("crv") in _EC_CURVES
    if entry.get("kty") == "OKP":
        return entry.get("crv") == "Ed25519"
    return entry.get("kty") in ("RSA", "oct")


def _bytes(value: object, size: int | None = None) -> bytes:
    if not isinstance(value, str):
        raise InvalidKey("key members must be base64url strings")
    raw = b64url_decode(value.encode("ascii"))
    if size is not None and len(raw) != size:
        raise InvalidKey("key member has the wrong length")
    return raw


def _fixed(value: object, size: int) -> int:
    return int.from_bytes(_bytes(value, size), "big")


def _uint_from(value: object) -> int:
    raw = _bytes(value)
    if not raw:
        raise InvalidKey("empty integer")
    return int.from_bytes(raw, "big")


def _uint(value: int) -> str:
    return b64url_encode(value.to_bytes(max(1, (value.bit_length() + 7) // 8), "big"))
