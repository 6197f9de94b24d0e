"""What a social login is about, as the core sees it: the provider's profile and the pending login.

These values are shared by the account rules (``authd.core.social``,
``authd.core.identities``) and the protocol (``authd.oauth``). They live in
the core so that the dependency points one way: the protocol package uses
the core's types, and the core never imports the protocol.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import asdict, dataclass
from typing import Literal

import orjson

Mode = Literal["session", "token", "link"]
PENDING_TTL = 600.0


@dataclass(frozen=True, slots=True)
class Profile:
    """Who the provider says the user is; ``subject`` is the only stable identifier."""

    provider: str
    subject: str
    email: str | None
    email_verified: bool
    name: str | None


@dataclass(frozen=True, slots=True)
class PendingLogin:
    provider: str
    state: str
    nonce: str
    code_verifier: str
    browser_binding: str
    redirect_to: str
    mode: Mode
    created_at: float
    client_id: str | None = None  # token mode: the app that will exchange the one-time code
    app_challenge: str | None = None  # token mode: the app's own PKCE S256 challenge, if it sent one
    user_id: str | None = None  # link mode: the signed-in user the provider account is added to

    def to_record(self) -> bytes:
        return orjson.dumps(asdict(self))

    @classmethod
    def from_record(cls, record: bytes) -> PendingLogin:
        return cls(**orjson.loads(record))


def new_pending(provider: str, redirect_to: str, mode: Mode, now: float, *,
                client_id: str | None = None, app_challenge: str | None = None,
                user_id: str | None = None) -> PendingLogin:
    """A fresh login: its own 256-bit state, nonce and browser binding, and a PKCE verifier."""
    return PendingLogin(provider=provider, state=secrets.token_urlsafe(32),
                        nonce=secrets.token_urlsafe(32), code_verifier=secrets.token_urlsafe(48),
                        browser_binding=secrets.token_urlsafe(32), redirect_to=redirect_to,
                        mode=mode, created_at=now, client_id=client_id,
                        app_challenge=app_challenge, user_id=user_id)


def state_key(state: str) -> str:
    """What the pending-login store is keyed by: a digest, so the table holds no usable state."""
    return hashlib.sha256(state.encode("utf-8", "surrogatepass")).hexdigest()
