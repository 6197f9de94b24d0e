"""JWS compact serialization (RFC 7515), strict.

Order of checks in ``decode_jws``: size cap before any parsing; exactly three
segments; canonical base64url; header JSON without duplicates; only the
header members authd understands; the key by kid; the header's alg equal to
the key's bound alg; then the signature.

Every token from one key carries the same protected header, byte for byte, so
the outcome of everything up to the signature (parse, member checks, key
lookup, alg binding) is cached per ``KeySet``, keyed by the exact encoded
header segment. Only successes are cached, the cache is bounded, and the key
set is immutable, so a cached entry says exactly what a fresh check would
say; a header differing in any byte is a miss and is checked in full.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

from authd.jose._b64 import b64url_decode, b64url_encode
from authd.jose._errors import MalformedToken, TokenTooLarge, UnsupportedAlgorithm
from authd.jose._json import loads_object
from authd.jose._keys._base import Key
from authd.jose._keys._jwk import SUPPORTED_ALGS, KeySet

DEFAULT_MAX_SIZE = 8192
_ALLOWED_MEMBERS = frozenset({"alg", "kid", "typ", "cty"})
_IGNORED_HINTS = frozenset({"x5t", "x5t#S256"})  # certificate hints some providers add
_EMBEDDED_KEYS = frozenset({"jwk", "jku", "x5u", "x5c"})
# A KeySet has a handful of keys, each with one header in normal use: 64 entries
# of at most 1 KiB each bound the memory even under a flood of distinct headers.
_HEADER_CACHE_SIZE = 64
_MAX_CACHED_SEGMENT = 1024


def encode_jws(payload: bytes, key: Key, *, typ: str | None = None) -> str:
    header: dict[str, str] = {"alg": key.alg, "kid": key.kid}
    if typ is not None:
        header["typ"] = typ
    signing_input = _b64(orjson.dumps(header)) + b"." + _b64(payload)
    return (signing_input + b"." + _b64(key.sign(signing_input))).decode("ascii")


def _b64(data: bytes) -> bytes:
    return b64url_encode(data).encode("ascii")


def decode_jws(token: str | bytes, keys: KeySet, *, max_size: int = DEFAULT_MAX_SIZE
               ) -> tuple[dict[str, Any], bytes]:
    """The verified header and payload; an InvalidToken subclass otherwise.

    The header is a fresh copy: the cached one is shared by every later token
    with the same header and must not be changed by a caller.
    """
    header, payload = verify_jws(token, keys, max_size)
    return dict(header), payload


def verify_jws(token: str | bytes, keys: KeySet, max_size: int
               ) -> tuple[Mapping[str, Any], bytes]:
    """As ``decode_jws`` but the header is the cached, shared one: read it, never change it."""
    if len(token) > max_size:
        raise TokenTooLarge()
    raw = token.encode("ascii") if type(token) is str and token.isascii() else _as_bytes(token)
    parts = raw.split(b".")
    if len(parts) != 3:
        raise MalformedToken("a JWS has three segments")
    header_b64, payload_b64, signature_b64 = parts
    resolved = keys._headers.get(header_b64)
    if resolved is None:
        resolved = _resolve(header_b64, keys)
    key, header = resolved
    try:
        payload = b64url_decode(payload_b64)
        signature = b64url_decode(signature_b64)
    except ValueError:
        raise MalformedToken("not canonical base64url") from None
    key.verify(header_b64 + b"." + payload_b64, signature)
    return header, payload


def _as_bytes(token: str | bytes) -> bytes:
    if isinstance(token, str):
        if not token.isascii():
            raise MalformedToken("tokens are ASCII")
        return token.encode("ascii")
    if isinstance(token, bytes):
        return token
    raise MalformedToken("a token is a string")


def _resolve(segment: bytes, keys: KeySet) -> tuple[Key, dict[str, Any]]:
    """Parse and check a header, find its key and check the binding; cache only a success."""
    try:
        header = loads_object(b64url_decode(segment))
    except ValueError:
        raise MalformedToken("header is not canonical base64url") from None
    alg, kid = _check_header(header)
    key = keys.get(kid) if kid is not None else keys.only_key_for(alg)
    if key.alg != alg:
        raise UnsupportedAlgorithm("the algorithm is not the one bound to this key")
    resolved = (key, header)
    if len(segment) <= _MAX_CACHED_SEGMENT:
        cache = keys._headers
        if len(cache) >= _HEADER_CACHE_SIZE:
            cache.clear()  # atomic under concurrent use, unlike evicting one entry
        cache[segment] = resolved
    return resolved


def _check_header(header: dict[str, Any]) -> tuple[str, str | None]:
    alg = header.get("alg")
    if not isinstance(alg, str):
        raise MalformedToken("alg must be a string")
    if alg not in SUPPORTED_ALGS:  # includes every casing of "none"
        raise UnsupportedAlgorithm("algorithm not accepted")
    embedded = _EMBEDDED_KEYS & header.keys()
    if embedded:
        raise UnsupportedAlgorithm("keys embedded in the token are not trusted")
    if "crit" in header:
        raise UnsupportedAlgorithm("no critical header extensions are understood")
    unknown = header.keys() - _ALLOWED_MEMBERS - _IGNORED_HINTS
    if unknown:
        raise UnsupportedAlgorithm("unexpected header member")
    kid = header.get("kid")
    if kid is not None and (not isinstance(kid, str) or len(kid) > 256):
        raise MalformedToken("kid must be a short string")
    for member in ("typ", "cty"):
        if member in header and not isinstance(header[member], str):
            raise MalformedToken(f"{member} must be a string")
    return alg, kid
