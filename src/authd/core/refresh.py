"""Refresh-family rules: token format, rotation, the grace rule, theft detection.

A refresh token is ``<family id>.<generation>.<mac>`` where the MAC is
HMAC-SHA256(refresh key, family id | generation): 256 pseudo-random bits that
only the server can produce. Only the exact string the server minted is a
token: the generation is canonical decimal (``0`` or no leading zero, ASCII
digits, no sign or space), so no other spelling of a token (``fam.0001.mac``
for ``fam.1.mac``) is accepted, counted as a reuse or able to revoke the
family. The database stores the family's current
generation and nothing a client could present, yet the server can hand the
current token again to a tab that lost the race (the grace rule), so
concurrent refreshes converge on one branch (the Supabase Auth design).
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import re
from dataclasses import dataclass

from authd.core.ids import b64url
from authd.core.models import RefreshFamily

_MAX_TOKEN_LENGTH = 128
# How ``mint`` writes a generation (str of a non-negative int), and nothing else.
_GENERATION = re.compile(r"0|[1-9][0-9]{0,8}")


@dataclass(frozen=True, slots=True)
class PresentedToken:
    family_id: str
    generation: int


class Outcome(enum.Enum):
    ROTATE = "rotate"                  # current token: move on one generation
    RETURN_CURRENT = "return_current"  # immediate parent within grace: hand back the current one
    REUSE = "reuse"                    # anything older, or the parent too late: theft
    DEAD = "dead"                      # revoked or expired family: plain invalid_grant


def mint(key: bytes, family_id: str, generation: int) -> str:
    return f"{family_id}.{generation}.{_mac(key, family_id, generation)}"


def parse(key: bytes, token: str) -> PresentedToken | None:
    """The family and generation a token names, or None unless its MAC is ours."""
    if not token or len(token) > _MAX_TOKEN_LENGTH or not token.isascii():
        return None
    parts = token.split(".")
    if len(parts) != 3 or _GENERATION.fullmatch(parts[1]) is None:
        return None  # only the spelling mint writes: fullmatch, so no "0001", "+1" or "1\\n"
    family_id, generation = parts[0], int(parts[1])
    if not hmac.compare_digest(parts[2], _mac(key, family_id, generation)):
        return None
    return PresentedToken(family_id, generation)


def decide(family: RefreshFamily, presented: int, now: float, grace: float) -> Outcome:
    if family.revoked_at is not None or now >= family.idle_expires_at \
            or now >= family.absolute_expires_at:
        return Outcome.DEAD
    if presented == family.generation:
        return Outcome.ROTATE
    if presented == family.generation - 1 and now - family.rotated_at <= grace:
        return Outcome.RETURN_CURRENT
    return Outcome.REUSE


def next_idle_expiry(family: RefreshFamily, now: float, idle_ttl: float) -> float:
    """Idle expiry slides with use but never past the absolute lifetime."""
    return min(now + idle_ttl, family.absolute_expires_at)


def _mac(key: bytes, family_id: str, generation: int) -> str:
    message = f"{family_id}|{generation}".encode()
    return b64url(hmac.new(key, message, hashlib.sha256).digest())
