"""The front for keys: JWK parsing (RFC 7517/7518) by type, key generation, and key sets.

Each key type lives in its own module; this one checks what all JWKs share
(``use``, ``key_ops``, ``kid``, ``alg``, no private members in a public set)
and dispatches on ``kty``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from authd.jose._errors import InvalidKey, UnknownKey
from authd.jose._keys._base import PRIVATE_MEMBERS, Key
from authd.jose._keys._ec import CURVES, EC_ALGS, ec_key_from_jwk, generate_ec_key
from authd.jose._keys._oct import HMAC_ALGS, generate_oct_key, oct_key_from_jwk
from authd.jose._keys._okp import OKP_ALGS, OKP_CURVES, generate_okp_key, okp_key_from_jwk
from authd.jose._keys._rsa import RSA_ALGS, generate_rsa_key, rsa_key_from_jwk

SUPPORTED_ALGS = frozenset({*EC_ALGS, *OKP_ALGS, *RSA_ALGS, *HMAC_ALGS})


def generate_key(alg: str) -> Key:
    """A new private key bound to ``alg``."""
    if alg in EC_ALGS:
        return generate_ec_key(alg)
    if alg in OKP_ALGS:
        return generate_okp_key()
    if alg in RSA_ALGS:
        return generate_rsa_key(alg)
    if alg in HMAC_ALGS:
        return generate_oct_key(alg)
    raise InvalidKey(f"unsupported algorithm: {alg}")


def key_from_jwk(jwk: Mapping[str, Any], *, default_alg: str | None = None,
                 public_only: bool = False) -> Key:
    """Parse one JWK strictly; its algorithm comes from ``alg``, the curve, or ``default_alg``."""
    if not isinstance(jwk, Mapping):
        raise InvalidKey("a JWK must be an object")
    if public_only and PRIVATE_MEMBERS & set(jwk):
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
        return ec_key_from_jwk(jwk, kid)
    if kty == "OKP":
        return okp_key_from_jwk(jwk, kid)
    if kty == "RSA":
        return rsa_key_from_jwk(jwk, alg, kid)
    if kty == "oct":
        return oct_key_from_jwk(jwk, alg, kid)
    raise InvalidKey(f"unsupported key type {kty!r}")


class KeySet:
    """An immutable set of keys, looked up by kid in O(1).

    ``_headers`` belongs to ``authd.jose._jws``: exact encoded header segment ->
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
        return entry.get("crv") in CURVES
    if entry.get("kty") == "OKP":
        return entry.get("crv") in OKP_CURVES
    return entry.get("kty") in ("RSA", "oct")
