"""JWS compact serialization (RFC 7515), strict.

Order of checks in ``decode_jws``: size cap before any parsing; exactly three
segments; canonical base64url; header JSON without duplicates; only the
header members authd understands; the key by kid; the header's alg equal to
the key's bound alg; then the signature. Headers that passed validation are
cached by their exact encoded form, so a stream of tokens from one key pays
for header parsing once.
"""

from __future__ import annotations

from typing import Any

import orjson

from authd.jose._b64 import b64url_decode, b64url_encode
from authd.jose._json import loads_object
from authd.jose.errors import MalformedToken, TokenTooLarge, UnsupportedAlgorithm
from authd.jose.jwk import SUPPORTED_ALGS, Key, KeySet

DEFAULT_MAX_SIZE = 8192
_ALLOWED_MEMBERS = frozenset({"alg", "kid", "typ", "cty"})
_IGNORED_HINTS = frozenset({"x5t", "x5t#S256"})  # certificate hints some providers add
_EMBEDDED_KEYS = frozenset({"jwk", "jku", "x5u", "x5c"})
_HEADER_CACHE_SIZE = 256
_header_cache: dict[bytes, tuple[str, str | None, dict[str, Any]]] = {}


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
    """The verified header and payload; an InvalidToken subclass otherwise."""
    if len(token) > max_size:
        raise TokenTooLarge()
    raw = token.encode("ascii") if type(token) is str and token.isascii() else _as_bytes(token)
    parts = raw.split(b".")
    if len(parts) != 3:
        raise MalformedToken("a JWS has three segments")
    header_b64, payload_b64, signature_b64 = parts
    alg, kid, header = _header(header_b64)
    key = keys.get(kid) if kid is not None else keys.only_key_for(alg)
    if key.alg != alg:
        raise UnsupportedAlgorithm("the algorithm is not the one bound to this key")
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


def _header(segment: bytes) -> tuple[str, str | None, dict[str, Any]]:
    cached = _header_cache.get(segment)
    if cached is not None:
        return cached
    try:
        header = loads_object(b64url_decode(segment))
    except ValueError:
        raise MalformedToken("header is not canonical base64url") from None
    parsed = (*_check_header(header), header)
    if len(_header_cache) >= _HEADER_CACHE_SIZE:
        _header_cache.clear()
    _header_cache[segment] = parsed
    return parsed


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
