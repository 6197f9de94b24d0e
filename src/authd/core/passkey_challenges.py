"""WebAuthn challenges that carry their own purpose, user and expiry, authenticated by a MAC.

A challenge is ``nonce (16) | expires (8) | purpose (1) | tag (16)``: 41 bytes,
128 of them random. The tag is an HMAC-SHA256 (truncated to 128 bits) under a
key derived from the root secret, over the rest and the user the challenge is
for, so a challenge cannot be forged, stretched, moved to another purpose or
handed to another user. Issuing one writes nothing; a browser's answer
names it (``clientDataJSON.challenge``), so a second-factor check needs no
separate id. Single use is the store's part: redeeming writes the challenge
down, in the same transaction as the passkey's counter, and a second
redemption finds it there.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
import struct
from dataclasses import dataclass
from enum import IntEnum

from authd.core.ids import b64url
from authd.core.models import UsedChallenge

CHALLENGE_BYTES = 41
_TAG = 16
_LABEL = b"authd webauthn challenge v1\x00"


class Purpose(IntEnum):
    REGISTER = 1  # POST /v1/passkeys of the user it was issued to
    SIGN_IN = 2  # a passwordless login; bound to the account of the email, if one was given
    USER = 3  # the second factor or re-login of the user it was issued to


@dataclass(frozen=True, slots=True)
class OpenedChallenge:
    """A genuine, unexpired challenge: what it is for, and whom (None: any user)."""

    purpose: Purpose
    user_id: str | None
    expires_at: float
    raw: bytes

    def redeemed(self) -> UsedChallenge:
        """What the store writes down to make it single-use."""
        return UsedChallenge("webauthn:" + b64url(hashlib.sha256(self.raw).digest()),
                             self.expires_at)


def issue(key: bytes, purpose: Purpose, user_id: str | None, now: float, ttl: int) -> bytes:
    """A fresh challenge for ``purpose`` (and ``user_id``), valid for ``ttl`` seconds."""
    body = secrets.token_bytes(16) + struct.pack(">QB", math.ceil(now + ttl), purpose)
    return body + _tag(key, body, user_id)


def open_challenge(key: bytes, raw: bytes, users: tuple[str | None, ...], now: float
                   ) -> OpenedChallenge | None:
    """The challenge if it is authd's, unexpired, and bound to one of ``users`` (None stands
    for "no user"); None otherwise: one answer for every reason."""
    if len(raw) != CHALLENGE_BYTES:
        return None
    body, tag = raw[:-_TAG], raw[-_TAG:]
    expires, purpose = struct.unpack(">QB", body[16:])
    for user_id in users:
        if hmac.compare_digest(tag, _tag(key, body, user_id)):
            if expires <= now:
                return None
            return OpenedChallenge(Purpose(purpose), user_id, float(expires), raw)  # authd's own
    return None


def _tag(key: bytes, body: bytes, user_id: str | None) -> bytes:
    bound = b"\x00" if user_id is None else b"\x01" + user_id.encode()
    return hmac.new(key, _LABEL + body + bound, hashlib.sha256).digest()[:_TAG]
