"""Test helpers for apps protected by authd.verify: a local issuer that mints tokens.

    issuer = LocalIssuer()
    verifier = issuer.verifier(audience="my-api")
    token = issuer.mint(sub="user-1", scope="read", audience="my-api")

No authd server, no network: the verifier is built from the issuer's JWKS.
Give both the same ``authd.clock`` clock (``LocalIssuer(clock=FixedClock())``)
to test expiry by moving time instead of waiting.
"""

from __future__ import annotations

import secrets
from typing import Any

from authd.clock import Clock, SystemClock
from authd.jose import Key, encode_jwt, generate_key
from authd.verify._verifier import TokenVerifier


class LocalIssuer:
    """Mints access tokens as authd would, with a local key and the clock it is given."""

    def __init__(self, issuer: str = "https://authd.test", alg: str = "ES256",
                 clock: Clock | None = None) -> None:
        self.issuer = issuer
        self.key: Key = generate_key(alg)
        self.clock = clock or SystemClock()

    @property
    def jwks(self) -> dict[str, Any]:
        return {"keys": [self.key.public_jwk()]}

    def verifier(self, audience: str, **options: Any) -> TokenVerifier:
        """A verifier that trusts this issuer's key and reads the issuer's clock."""
        options.setdefault("clock", self.clock)
        return TokenVerifier(issuer=self.issuer, audience=audience, jwks=self.jwks,
                             follow_revocations=False, **options)

    def mint(self, *, sub: str = "user-1", audience: str = "https://authd.test", scope: str = "",
             expires_in: int = 300, typ: str = "at+jwt", **claims: Any) -> str:
        now = int(self.clock.now())
        body: dict[str, Any] = {"iss": self.issuer, "sub": sub, "aud": audience, "iat": now,
                                "exp": now + expires_in, "jti": secrets.token_urlsafe(12),
                                "client_id": "authd", "scope": scope,
                                "sid": secrets.token_urlsafe(16)}
        body.update(claims)
        return encode_jwt(body, self.key, typ=typ)
