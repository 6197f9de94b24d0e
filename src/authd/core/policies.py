"""The settings each use case needs, as small frozen values built once at start-up.

The core never reads the configuration object (``authd.config``, pydantic):
``authd.wiring`` builds these values from it and hands each use case only
what it decides with, the way an HTTP client is given its timeouts and limits.
A use case can then be built and tested from plain values, and a setting that
a use case does not receive cannot change what it does.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class TokenPolicy:
    """What access and refresh tokens say and how long they live (seconds)."""

    issuer: str
    audience: str  # the default audience of access tokens
    allowed_audiences: tuple[str, ...] = ()
    # Audiences only registered clients may get for themselves (client_credentials): authd's
    # own endpoints (introspection) accept them, user grants never hand them out.
    client_audiences: tuple[str, ...] = ()
    default_scopes: tuple[str, ...] = ("openid", "profile", "email")
    access_token_ttl: int = 300
    refresh_reuse_grace: int = 10
    refresh_idle_ttl: int = 14 * 86_400
    refresh_absolute_ttl: int = 90 * 86_400


@dataclass(frozen=True, slots=True)
class SessionPolicy:
    """How long a cookie session lives without use, and at most (seconds)."""

    idle_timeout: float = 1800.0
    absolute_lifetime: float = 7 * 86_400.0


@dataclass(frozen=True, slots=True)
class RateLimitPolicy:
    """How many attempts of each kind are allowed per ``window`` seconds."""

    account_failures: int = 10
    ip_failures: int = 100
    window: int = 600
    signups_per_ip: int = 20
    social_logins_per_ip: int = 300
    revokes_per_ip: int = 600


@dataclass(frozen=True, slots=True)
class RegisteredClient:
    """A confidential client: the digest of its secret, the scopes it may ask for, the
    audiences its own (``client_credentials``) tokens may name (first = default), and the
    authentication methods it may use (its secret's, or ``private_key_jwt`` for its keys)."""

    secret_hash: str | None
    scopes: tuple[str, ...] = ("openid", "profile", "email")
    audiences: tuple[str, ...] = ()
    auth_methods: tuple[str, ...] = ("client_secret_basic", "client_secret_post")


@dataclass(frozen=True, slots=True)
class ClientPolicy:
    """The public first-party client and the registered confidential ones."""

    default_client_id: str = "authd"
    default_scopes: tuple[str, ...] = ("openid", "profile", "email")
    confidential: Mapping[str, RegisteredClient] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class PasskeyPolicy:
    """The WebAuthn relying party: its id and name, the origins ceremonies may run on, and how
    long a challenge lives. ``challenge_key`` authenticates the challenges authd hands out
    (they carry their purpose, user and expiry, so issuing one writes nothing);
    ``decoy_key`` keys the stand-in credential ids answered for an address without
    passkeys, so the answer does not say whether the account exists."""

    rp_id: str
    rp_name: str
    origins: tuple[str, ...]
    challenge_key: bytes
    decoy_key: bytes
    challenge_ttl: int = 300
    challenges_per_ip: int = 300
    max_per_user: int = 20
