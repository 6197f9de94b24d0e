"""authd's strict JOSE codec: JWS compact tokens over ``cryptography``.

Pure: no I/O and no clock (time is passed in). Imports only ``cryptography``
and ``orjson``, so the resource-server library can use it without the server.
The implementation modules are private; this package's names are the API.
"""

from authd.jose._claims import check_type, validate_claims
from authd.jose._errors import (
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
from authd.jose._jws import decode_jws, encode_jws
from authd.jose._jwt import decode_jwt, encode_jwt
from authd.jose._keys._base import Key
from authd.jose._keys._jwk import SUPPORTED_ALGS, KeySet, generate_key, key_from_jwk

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
