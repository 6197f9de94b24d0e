"""Authentication method references (RFC 8176): how a login proved who the user is.

Every refresh family and cookie session records the methods of the login (or
re-login) behind it; access tokens, introspection and the session lists show
them as ``amr``, so that an API can ask for a stronger login (``authd.verify``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

PASSWORD = "pwd"
OTP = "otp"  # a TOTP code, or a recovery code
HARDWARE_KEY = "hwk"  # a passkey
USER_PRESENCE = "user"  # a passkey with user verification
MULTI_FACTOR = "mfa"
EMAIL = "email"  # a mailed sign-in code or link (authd's own value, as SPEC'd)
FEDERATED = "fed"  # a social login

SUPPORTED = (PASSWORD, OTP, HARDWARE_KEY, USER_PRESENCE, MULTI_FACTOR, EMAIL, FEDERATED)


def normalise(methods: Iterable[str]) -> tuple[str, ...]:
    """The methods in first-seen order, each once: what is stored and put in tokens."""
    return tuple(dict.fromkeys(str(m) for m in methods))


def with_second_factor(first: Sequence[str], second: Sequence[str]) -> tuple[str, ...]:
    """A login completed by a second factor: both methods and ``mfa`` (RFC 8176 2)."""
    return normalise([*first, *second, MULTI_FACTOR])
