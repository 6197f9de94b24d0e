"""authd's strict JOSE codec: JWS compact tokens over ``cryptography``.

Pure: no I/O and no clock (time is passed in). Imports only ``cryptography``
and ``orjson``, so the resource-server library can use it without the server.
The implementation modules are private; this package's names are the API.

Besides the codec it holds the two pieces of token-verification policy that
the server and ``authd.verify`` share: the JWKS cache policy (``JwksCache``)
and the denylist of revoked tokens (``Denylist``).
"""

from authd.jose._claims import check_type, validate_claims
from authd.jose._denylist import Denylist, RevocationKind
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
from authd.jose._jwks_cache import JwksCache
from authd.jose._jws import decode_jws, encode_jws
from authd.jose._jwt import decode_jwt, encode_jwt
from authd.jose._keys._base import Key
from authd.jose._keys._jwk import SUPPORTED_ALGS, KeySet, generate_key, key_from_jwk

__all__ = [
    "SUPPORTED_ALGS",
    "BadSignature",
    "Denylist",
    "ExpiredToken",
    "InvalidAudience",
    "InvalidClaim",
    "InvalidIssuer",
    "InvalidKey",
    "InvalidToken",
    "InvalidType",
    "JoseError",
    "JwksCache",
    "Key",
    "KeySet",
    "MalformedToken",
    "MissingClaim",
    "NotYetValid",
    "RevocationKind",
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
