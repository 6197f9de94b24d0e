"""The token-error tree, shared by the server and the resource-server library.

Outside the process a failure is one opaque 401; inside, the subclass says why.
Everything the codec raises is a ``JoseError``: a caller can catch the codec's
failures in one clause, and tell a bad token from a bad key by the subclass.

    JoseError                                       the root: anything the codec raises
    ├── InvalidKey                                  bad key material or JWK (not the token's fault)
    └── InvalidToken                 reason
        ├── MalformedToken           "malformed"        segments, base64url, JSON, member types
        │   └── TokenTooLarge        "too_large"        over the size cap (checked before parsing)
        ├── UnsupportedAlgorithm     "bad_algorithm"    none, unknown, not the key's, crit, embedded keys
        ├── UnknownKey               "unknown_key"      no key with that kid
        ├── BadSignature             "bad_signature"
        ├── ExpiredToken             "expired"
        ├── NotYetValid              "not_yet_valid"    nbf or iat in the future
        ├── InvalidIssuer            "wrong_issuer"
        ├── InvalidAudience          "wrong_audience"
        ├── InvalidType              "wrong_type"       typ (e.g. an id_token where an access token is due)
        ├── MissingClaim             "missing_claim"
        ├── InvalidClaim             "invalid_claim"    a registered claim of the wrong JSON type
        └── RevokedToken             "revoked"          raised by callers that follow a denylist
"""

from __future__ import annotations


class JoseError(Exception):
    """The codec's root: a problem with a presented token, with keys, or with usage."""


class InvalidToken(JoseError):
    """A presented token is not acceptable; ``reason`` is a stable machine-readable word."""

    reason = "invalid"

    def __init__(self, detail: str = "") -> None:
        super().__init__(detail or self.reason)
        self.detail = detail or self.reason


class MalformedToken(InvalidToken):
    reason = "malformed"


class TokenTooLarge(MalformedToken):
    reason = "too_large"


class UnsupportedAlgorithm(InvalidToken):
    reason = "bad_algorithm"


class UnknownKey(InvalidToken):
    reason = "unknown_key"


class BadSignature(InvalidToken):
    reason = "bad_signature"


class ExpiredToken(InvalidToken):
    reason = "expired"


class NotYetValid(InvalidToken):
    reason = "not_yet_valid"


class InvalidIssuer(InvalidToken):
    reason = "wrong_issuer"


class InvalidAudience(InvalidToken):
    reason = "wrong_audience"


class InvalidType(InvalidToken):
    reason = "wrong_type"


class MissingClaim(InvalidToken):
    reason = "missing_claim"


class InvalidClaim(InvalidToken):
    reason = "invalid_claim"


class RevokedToken(InvalidToken):
    reason = "revoked"


class InvalidKey(JoseError):
    """Bad key material or JWK: a problem with keys or usage, not with a presented token."""
