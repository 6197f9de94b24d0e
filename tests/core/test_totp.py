"""TOTP arithmetic (RFC 6238): the codes every authenticator app computes, and nothing more.

Checked against the RFC's own test vector and against pyotp, an independent
implementation. What users rely on: the code their phone shows is accepted
(even a step early or late), and nothing else is.
"""

from __future__ import annotations

import pyotp

from authd.core import totp

RFC_SECRET = b"12345678901234567890"  # RFC 6238 Appendix B, SHA-1


def test_rfc_6238_vectors_truncated_to_six_digits() -> None:
    """The RFC's SHA-1 vectors (8 digits there) end in the 6 digits authd computes."""
    vectors = {59: "94287082", 1111111109: "07081804", 1234567890: "89005924",
               2000000000: "69279037"}
    for when, code in vectors.items():
        assert totp.code_at(RFC_SECRET, totp.step_at(when)) == code[-6:]


def test_codes_agree_with_pyotp_and_one_step_of_drift_is_accepted() -> None:
    """pyotp's code for now, the previous and the next step match; two steps away does not."""
    secret = totp.new_secret()
    oracle = pyotp.TOTP(totp.to_base32(secret))
    now = 1_800_000_015.0
    assert totp.matching_step(secret, oracle.at(now), now) == totp.step_at(now)
    assert totp.matching_step(secret, oracle.at(now - 30), now) == totp.step_at(now) - 1
    assert totp.matching_step(secret, oracle.at(now + 30), now) == totp.step_at(now) + 1
    assert totp.matching_step(secret, oracle.at(now - 60), now) is None


def test_malformed_codes_never_match() -> None:
    """Non-digits, wrong lengths and non-ASCII digits are refused before any MAC."""
    secret = totp.new_secret()
    for code in ("", "12345", "1234567", "abcdef", "١٢٣٤٥٦", " 12345"):
        assert totp.matching_step(secret, code, 1_800_000_000.0) is None


def test_the_otpauth_uri_is_what_authenticator_apps_read() -> None:
    """pyotp parses the URI back to the same secret, issuer, account and parameters."""
    secret = totp.new_secret()
    parsed = pyotp.parse_uri(totp.otpauth_uri(secret, "Example Co", "ada@example.com"))
    assert isinstance(parsed, pyotp.TOTP)
    assert parsed.secret == totp.to_base32(secret)
    assert parsed.issuer == "Example Co" and parsed.name == "ada@example.com"
    assert parsed.digits == 6 and parsed.interval == 30
