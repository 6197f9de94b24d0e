"""Brute-force controls: failed-login limits per account and per IP, sign-up limits per IP.

Failures are counted in a sliding window by a ``RateLimitStore`` (per
instance in memory, or shared through Redis). An account key is the
canonical email (``core/emails.py``), so unknown accounts are counted exactly
like real ones and the answers do not reveal which exist, and every way of
typing one address is one counter. The check runs before any password
work, so a locked-out attacker costs no Argon2 time. A successful login does
not reset the account counter: resetting would let an attacker who also
knows one valid password interleave guesses (the choice Ory and Keycloak's
defaults make too); the window expires failures instead.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Protocol

from authd.clock import Clock
from authd.config import RateLimits
from authd.core.emails import canonical_email
from authd.errors import RateLimited


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    retry_after: float
    count: int


class RateLimitStore(Protocol):
    async def count(self, key: str, window: float, now: float) -> tuple[int, float]:
        """Events for ``key`` within the window, and when the oldest of them leaves it."""
        ...

    async def add(self, key: str, window: float, now: float) -> None: ...

    @property
    def degraded(self) -> bool:
        """True when counting falls back to this instance only (e.g. Redis is down)."""
        ...


def _key(kind: str, value: str) -> str:
    # Raw emails and addresses never become storage keys.
    return f"{kind}:" + hashlib.sha256(f"{kind}\x00{value}".encode()).hexdigest()[:32]


def account_key(email: str) -> str:
    """The counter of an account: every form of one address is the same key."""
    return _key("acct", canonical_email(email))


class BruteForceGuard:
    def __init__(self, store: RateLimitStore, limits: RateLimits, clock: Clock) -> None:
        self._store = store
        self._limits = limits
        self._clock = clock

    @property
    def degraded(self) -> bool:
        return self._store.degraded

    async def check_login(self, email: str, ip: str) -> None:
        window = self._limits.window
        await self._check(account_key(email), self._limits.account_failures, window)
        await self._check(_key("ip", ip), self._limits.ip_failures, window)

    async def record_failure(self, email: str, ip: str) -> None:
        now = self._clock.now()
        await self._store.add(account_key(email), self._limits.window, now)
        await self._store.add(_key("ip", ip), self._limits.window, now)

    async def check_signup(self, ip: str) -> None:
        key = _key("signup", ip)
        await self._check(key, self._limits.signups_per_ip, self._limits.window)
        await self._store.add(key, self._limits.window, self._clock.now())

    async def check_social_start(self, ip: str) -> None:
        """Each social login start stores a pending login: bounded per IP so no one fills the table."""
        key = _key("social", ip)
        await self._check(key, self._limits.social_logins_per_ip, self._limits.window)
        await self._store.add(key, self._limits.window, self._clock.now())

    async def check_revoke(self, ip: str) -> None:
        """Every revocation request costs a signature check and possibly a durable write:
        bounded per IP so no one can keep the database busy with them."""
        key = _key("revoke", ip)
        await self._check(key, self._limits.revokes_per_ip, self._limits.window)
        await self._store.add(key, self._limits.window, self._clock.now())

    async def _check(self, key: str, limit: int, window: float) -> None:
        count, oldest_leaves_at = await self._store.count(key, window, self._clock.now())
        if count >= limit:
            raise RateLimited(retry_after=int(oldest_leaves_at - self._clock.now()) + 1)
