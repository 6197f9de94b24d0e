"""Email tokens: the secrets that mail links and sign-in codes carry.

A token is 256 random bits (``new_secret``) and only its SHA-256 is stored.
Each is bound to a user (none for a sign-in code that may create the
account), a purpose and the address it was mailed to; it expires, is
single-use, and is void once a newer token of the same purpose of the same
user was used, or once the password changed after it was issued. A sign-in
code (six digits) rides along a sign-in token: only its digest, bound to
the address, is stored, and five wrong guesses void it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from enum import StrEnum

from authd.core.ids import digest, new_secret
from authd.core.models import User
from authd.errors import InvalidEmailToken

MAX_CODE_ATTEMPTS = 5
MAX_TOKEN_LENGTH = 128


class Purpose(StrEnum):
    VERIFY = "verify_email"
    RESET = "reset_password"
    CHANGE = "confirm_email"
    SIGN_IN = "sign_in"
    DECOY = "decoy"  # written for unknown addresses: the same work, never redeemable


@dataclass(frozen=True, slots=True)
class EmailToken:
    """A stored email token: never the secret itself."""

    token_hash: bytes
    purpose: str
    email: str
    user_id: str | None
    created_at: float
    expires_at: float
    used_at: float | None = None
    code_hash: bytes | None = None
    attempts: int = 0


@dataclass(frozen=True, slots=True)
class TokenTtls:
    """How long each kind of link stays valid, in seconds."""

    verify: int = 86_400
    reset: int = 1800
    change: int = 3600
    sign_in: int = 600

    def of(self, purpose: Purpose) -> int:
        return {Purpose.VERIFY: self.verify, Purpose.RESET: self.reset,
                Purpose.CHANGE: self.change, Purpose.SIGN_IN: self.sign_in,
                Purpose.DECOY: 60}[purpose]


@dataclass(frozen=True, slots=True)
class IssuedToken:
    """A new token: the secret for the mail, the record for the store."""

    secret: str
    record: EmailToken
    code: str | None = None


def issue(purpose: Purpose, email: str, user_id: str | None, now: float, ttl: int, *,
          with_code: bool = False) -> IssuedToken:
    secret = new_secret()
    code = f"{secrets.randbelow(1_000_000):06d}" if with_code else None
    record = EmailToken(token_hash=token_digest(secret), purpose=purpose.value, email=email,
                        user_id=user_id, created_at=now, expires_at=now + ttl,
                        code_hash=code_digest(email, code) if code is not None else None)
    return IssuedToken(secret, record, code)


def token_digest(secret: object) -> bytes:
    """The stored form of a presented token; InvalidEmailToken for anything that cannot be one."""
    if not isinstance(secret, str) or not 0 < len(secret) <= MAX_TOKEN_LENGTH:
        raise InvalidEmailToken()
    return digest(secret)


def code_digest(email: str, code: str) -> bytes:
    """A code's digest, bound to its address: the same six digits for another address never match."""
    return hashlib.sha256(f"authd sign-in code\x00{email}\x00{code}".encode()).digest()


def codes_match(stored: bytes | None, presented: bytes) -> bool:
    return stored is not None and hmac.compare_digest(stored, presented)


def check(token: EmailToken | None, purpose: Purpose, user: User | None, now: float) -> User:
    """The user a consumed token proves, or InvalidEmailToken: one opaque answer for every reason.

    ``token`` was just marked used by this caller (single use is the store's
    job); this checks what it was bound to: purpose, expiry, the user and the
    address (an address changed since voids it), and the password (changed
    since voids it).
    """
    if token is None or token.purpose != purpose.value or token.expires_at <= now:
        raise InvalidEmailToken()
    if user is None or user.disabled or user.id != token.user_id:
        raise InvalidEmailToken()
    if purpose is not Purpose.CHANGE and user.email != token.email:
        raise InvalidEmailToken()
    if user.password_changed_at is not None and token.created_at < user.password_changed_at:
        raise InvalidEmailToken()
    return user
