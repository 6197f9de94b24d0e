"""authd.verify: verify authd access tokens in any Python API, statelessly.

Needs only ``cryptography``, ``orjson`` and ``httpx`` (``pip install authd``,
without the ``[server]`` extra). Every failure is an ``InvalidToken``
subclass; revoked tokens are refused within one feed poll interval.
"""

from authd.jose import (
    BadSignature,
    ExpiredToken,
    InvalidAudience,
    InvalidClaim,
    InvalidIssuer,
    InvalidToken,
    InvalidType,
    MalformedToken,
    MissingClaim,
    NotYetValid,
    RevokedToken,
    TokenTooLarge,
    UnknownKey,
    UnsupportedAlgorithm,
)
from authd.verify._verifier import (
    Claims,
    InsufficientUserAuthentication,
    TokenVerifier,
    VerifierConfigError,
    check_authentication,
)
from authd.verify.asgi import RequireTokenMiddleware, require_scope, require_token

__all__ = [
    "BadSignature",
    "Claims",
    "ExpiredToken",
    "InsufficientUserAuthentication",
    "InvalidAudience",
    "InvalidClaim",
    "InvalidIssuer",
    "InvalidToken",
    "InvalidType",
    "MalformedToken",
    "MissingClaim",
    "NotYetValid",
    "RequireTokenMiddleware",
    "RevokedToken",
    "TokenTooLarge",
    "TokenVerifier",
    "UnknownKey",
    "UnsupportedAlgorithm",
    "VerifierConfigError",
    "check_authentication",
    "require_scope",
    "require_token",
]
