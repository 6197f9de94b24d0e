"""Random identifiers and secret digests.

Ids are 128-bit random base64url strings (22 characters): unguessable, and
short enough to keep access tokens under 512 bytes. Secrets a client holds
(session ids, one-time codes) are 256-bit and stored only as SHA-256 digests:
a digest of a 256-bit random value needs no salt or slow hash.
"""

from __future__ import annotations

import base64
import hashlib
import secrets


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def new_id() -> str:
    """A 128-bit random identifier."""
    return b64url(secrets.token_bytes(16))


def new_token_id() -> str:
    """A 96-bit token id (``jti``): unique among unexpired tokens, and 6 bytes shorter."""
    return b64url(secrets.token_bytes(12))


def new_secret() -> str:
    """A 256-bit random secret for a client to hold (session id, one-time code)."""
    return b64url(secrets.token_bytes(32))


def digest(secret: str) -> bytes:
    """What is stored for a client-held secret: its SHA-256."""
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).digest()
