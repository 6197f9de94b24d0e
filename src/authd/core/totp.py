"""TOTP (RFC 6238 over RFC 4226): SHA-1, 6 digits, 30-second steps, one step of drift either way.

The codes come from pyotp, the field's well-kept implementation (pure code over
``hmac``, no I/O, so the core may use it); the tests check it against RFC 6238's
vectors. A code is identified by its time step: the caller accepts each step at
most once per user (compare-and-set in the store), which is what makes a code
single-use.
"""

from __future__ import annotations

import base64
import hmac
import secrets
from urllib.parse import quote, urlencode

import pyotp

DIGITS = 6
PERIOD = 30
DRIFT_STEPS = 1  # a code from the previous or next step still counts (clock skew, typing time)
SECRET_BYTES = 20  # 160 bits, the HMAC-SHA-1 block's natural key size (RFC 4226 4)


def new_secret() -> bytes:
    return secrets.token_bytes(SECRET_BYTES)


def to_base32(secret: bytes) -> str:
    """The form authenticator apps take: base32 without padding."""
    return base64.b32encode(secret).decode().rstrip("=")


def step_at(now: float) -> int:
    return int(now // PERIOD)


class _Generator(pyotp.TOTP):
    """pyotp's TOTP over a secret already in bytes: pyotp decodes its base32 form again
    for every code (about half the cost of one), and a check makes three codes."""

    def __init__(self, secret: bytes) -> None:
        self._secret = secret
        super().__init__(to_base32(secret), digits=DIGITS, interval=PERIOD)

    def byte_secret(self) -> bytes:
        return self._secret


def code_at(secret: bytes, step: int) -> str:
    """The code for one time step (RFC 4226 5.3 over the step counter, RFC 6238 4.2)."""
    return str(_Generator(secret).generate_otp(step))


def matching_step(secret: bytes, code: str, now: float) -> int | None:
    """The time step whose code ``code`` is, within the drift window; None if none is.

    Every step of the window is compared (in constant time), so the answer's
    timing says nothing about which step matched.
    """
    if len(code) != DIGITS or not code.isascii() or not code.isdigit():
        return None
    current = step_at(now)
    generator = _Generator(secret)
    found = None
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if hmac.compare_digest(str(generator.generate_otp(step)), code):
            found = step
    return found


def otpauth_uri(secret: bytes, issuer: str, account: str) -> str:
    """The ``otpauth://totp/...`` URI authenticator apps read from a QR code."""
    label = quote(f"{issuer}:{account}", safe="@:")
    query = urlencode({"secret": to_base32(secret), "issuer": issuer, "algorithm": "SHA1",
                       "digits": DIGITS, "period": PERIOD})
    return f"otpauth://totp/{label}?{query}"
