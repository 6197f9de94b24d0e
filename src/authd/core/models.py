"""Domain values, as frozen dataclasses: what the core reads and writes through its ports."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Literal

KeyState = Literal["next", "active", "retired"]


@dataclass(frozen=True, slots=True)
class User:
    id: str
    email: str
    email_verified: bool
    name: str | None
    password_hash: str | None
    disabled: bool
    created_at: float
    password_changed_at: float | None = None
    locale: str | None = None  # the language of its mail (sign-up's ``locale``)


@dataclass(frozen=True, slots=True)
class KeyRecord:
    """A signing key as stored: the private JWK only in encrypted form."""

    kid: str
    alg: str
    state: KeyState
    public_jwk: dict[str, str] | None
    private_jwk_enc: bytes
    created_at: float
    activated_at: float | None = None
    retired_at: float | None = None
    publish_until: float | None = None


@dataclass(frozen=True, slots=True)
class RefreshFamily:
    """The chain of refresh tokens since one login; its id is the ``sid`` of its access tokens.

    ``auth_time`` is when the user last proved who they are for this family (the
    login, or ``POST /v1/reauth``): refreshes keep it, so a stolen refresh token
    never makes its holder look recently signed in.
    """

    id: str
    user_id: str
    client_id: str
    scope: str
    audience: str
    generation: int
    rotated_at: float
    created_at: float
    last_used_at: float
    idle_expires_at: float
    absolute_expires_at: float
    revoked_at: float | None = None
    revoked_reason: str | None = None
    user_agent: str | None = None
    ip: str | None = None
    auth_time: float | None = None  # the login (or re-login) behind it; None: rows from before 0003
    amr: tuple[str, ...] = ()  # how that login was made (RFC 8176); empty: rows from before 0006


@dataclass(frozen=True, slots=True)
class CookieSession:
    """A cookie session; ``id`` is ``authd.core.sessions.session_id_for(token_hash)``."""

    id: str
    token_hash: bytes
    user_id: str
    created_at: float
    last_used_at: float
    idle_expires_at: float
    absolute_expires_at: float
    user_agent: str | None = None
    ip: str | None = None
    auth_time: float | None = None  # the login (or re-login) behind it; None: rows from before 0003
    amr: tuple[str, ...] = ()  # how that login was made (RFC 8176); empty: rows from before 0006


@dataclass(frozen=True, slots=True)
class Revocation:
    """One entry of the revocation feed: a token id or a family/session id."""

    kind: Literal["jti", "sid"]
    value: str
    expires_at: float


@dataclass(frozen=True, slots=True)
class Rotated:
    """A won rotation (``FamilyStore.rotate``): the family's user as that transaction saw it.

    ``user`` is None if the user is gone; the caller decides what that means.
    """

    user: User | None


@dataclass(frozen=True, slots=True)
class AuditEvent:
    at: float
    event: str
    user_id: str | None = None
    ip: str | None = None
    detail: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class ClientInfo:
    """Who is calling: recorded on sessions so users can recognise their devices."""

    ip: str | None = None
    user_agent: str | None = None


@dataclass(frozen=True, slots=True)
class Identity:
    """A social-login account (provider + its stable subject) linked to an authd user."""

    provider: str
    subject: str
    user_id: str
    email: str | None
    created_at: float


@dataclass(frozen=True, slots=True)
class OneTimeCode:
    """A token-mode social login waiting to be exchanged; only the code's SHA-256 is kept.

    ``family_id`` is chosen when the code is issued, so that a replay can
    revoke the family the first exchange created. ``amr`` is how the login that
    produced it was made (RFC 8176): a social login's ``("fed",)``, or a hosted
    page's password or mailed-code login, with ``"mfa"`` when its second step is done.
    """

    code_hash: bytes
    user_id: str
    client_id: str
    expires_at: float
    family_id: str
    used_at: float | None = None
    code_challenge: str | None = None
    amr: tuple[str, ...] = ("fed",)


@dataclass(frozen=True, slots=True)
class OutboxItem:
    """One durable outgoing message. ``kind`` says who delivers it ("mail", "webhook");
    ``payload`` is sealed under the root secret and bound to ``id``; a mail's is None once
    delivered, a webhook's is kept (for replay) until the row is pruned.

    Webhook rows also name their ``endpoint``, the ``subject`` (user id) they are
    ordered by, their ``event_type`` and the receiver's ``last_status``.
    """

    id: str
    kind: str
    payload: bytes | None
    created_at: float
    next_attempt_at: float
    attempts: int = 0
    delivered_at: float | None = None
    failed_at: float | None = None
    last_error: str | None = None
    endpoint: str | None = None
    subject: str | None = None
    event_type: str | None = None
    last_status: int | None = None


@dataclass(frozen=True, slots=True)
class OutgoingMail:
    """A rendered message: what a ``Mailer`` sends."""

    to: str
    subject: str
    text: str
    html: str
    sender: str
    id: str = ""  # the outbox id: the Message-ID's left part, the .eml file's name


@dataclass(frozen=True, slots=True)
class Passkey:
    """A WebAuthn credential of a user: its public key (COSE), never anything secret.

    ``id`` is authd's own id (the one in ``/v1/passkeys/{id}``);
    ``credential_id`` is the authenticator's. ``sign_count`` is the
    authenticator's signature counter at its last use (0 if it keeps none).
    """

    id: str
    user_id: str
    credential_id: bytes
    public_key: bytes
    sign_count: int
    transports: tuple[str, ...]
    name: str
    created_at: float
    last_used_at: float | None = None


@dataclass(frozen=True, slots=True)
class UsedChallenge:
    """A WebAuthn challenge being redeemed: remembered under ``key`` until it expires anyway."""

    key: str
    expires_at: float


class PasskeyUse(StrEnum):
    """What a passkey store says about one use: done, the challenge was redeemed already, or the
    counter moved since it was read (a clone racing its original)."""

    OK = "ok"
    REPLAYED = "replayed"
    COUNTER_MOVED = "counter_moved"


@dataclass(frozen=True, slots=True)
class TotpFactor:
    """A user's TOTP factor. The secret is sealed under the root secret, bound to the user id.

    ``confirmed_at`` is None while enrolment waits for a first code; ``last_step``
    is the last time step accepted (a code is accepted at most once).
    """

    user_id: str
    secret_enc: bytes
    created_at: float
    confirmed_at: float | None = None
    last_step: int | None = None


@dataclass(frozen=True, slots=True)
class MfaChallenge:
    """A login waiting for its second factor; only the mfa_token's SHA-256 is kept.

    ``binding`` is what the finished login must match (the first factor's amr, the mode,
    and in token mode the client, scope, audience and a fixed family id); ``attempts``
    counts tries, each one made before the factor is checked.
    """

    token_hash: bytes
    user_id: str
    binding: dict[str, Any]
    created_at: float
    expires_at: float
    attempts: int = 0
    used_at: float | None = None
