"""The one canonical form of an email address.

Sign-up, login, rate-limit keys and the admin CLI all reduce an address with
``canonical_email``, so that one mailbox is one account (and one rate-limit
counter) however it was typed: surrounding spaces, letter case, and the
Unicode form (a precomposed ``é`` and ``e`` + combining accent are the same
address once NFC-normalised).
"""

from __future__ import annotations

import unicodedata


def canonical_email(raw: str) -> str:
    """Trimmed, NFC-normalised, lower-cased. Pure: it never rejects (validation is the caller's)."""
    return unicodedata.normalize("NFC", raw.strip()).lower()
