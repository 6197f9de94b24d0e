"""authd's strict JOSE codec: JWS compact tokens over ``cryptography``.

Pure: no I/O and no clock (time is passed in). Imports only ``cryptography``
and ``orjson``, so the resource-server library can use it without the server.
"""

from authd.jose.claims import check_type, validate_claims
from authd.jose.errors import (
    BadSignature,
    ExpiredToken,
    InvalidAudience,
    InvalidClaim,
    InvalidIssuer,
    InvalidKey,
    InvalidToken,
    InvalidType,
    JoseError,
    MalformedToken,
    MissingClaim,
    NotYetValid,
    RevokedToken,
    TokenTooLarge,
    UnknownKey,
    UnsupportedAlgorithm,
)
from authd.jose.jwk import SUPPORTED_ALGS, Key, KeySet, generate_key, key_from_jwk
from authd.jose.jws import decode_jws, encode_jws
from authd.jose.jwt import decode_jwt, encode_jwt

__all__ = [
    "SUPPORTED_ALGS",
    "BadSignature",
    "ExpiredToken",
    "InvalidAudience",
    "InvalidClaim",
    "InvalidIssuer",
    "InvalidKey",
    "InvalidToken",
    "InvalidType",
    "JoseError",
    "Key",
    "KeySet",
    "MalformedToken",
    "MissingClaim",
    "NotYetValid",
    "RevokedToken",
    "TokenTooLarge",
    "UnknownKey",
    "UnsupportedAlgorithm",
    "check_type",
    "decode_jws",
    "decode_jwt",
    "encode_jws",
    "encode_jwt",
    "generate_key",
    "key_from_jwk",
    "validate_claims",
]
