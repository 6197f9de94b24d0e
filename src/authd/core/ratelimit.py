"""Brute-force controls: login limits per account and per IP, sign-up and social-start limits per IP.

Attempts are counted in a sliding window by a ``RateLimitStore`` (per
instance in memory, or shared through Redis). An account key is the
canonical email (``core/emails.py``), so unknown accounts are counted exactly
like real ones and the answers do not reveal which exist, and every way of
typing one address is one counter.

An attempt is *reserved* before any password work: the store checks the
count and adds the attempt in one atomic step, and refuses once the limit is
reached. However many requests arrive at once, on one instance or many, at
most ``limit`` of them reach the password hash in a window; a refused
attempt costs no Argon2 time and is not counted.

What a reservation becomes:

* a wrong password (or an unknown or disabled account, or a request
  abandoned while its password is checked) keeps it: it is the counted
  failure;
* a right password releases exactly its own reservation, so the owner's
  logins never use up the limit. A success does not reset the counter
  either: resetting would let an attacker who also knows one valid password
  interleave guesses (the choice Ory and Keycloak's defaults make too); the
  window expires failures instead;
* a server failure before the password is judged (the database is down)
  releases it too: no guess was answered, and an outage must not lock out
  the users who retried through it.

Sign-ups and social-login starts keep every reservation: they are limited per
attempt, whatever its outcome.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Protocol

from authd.clock import Clock
from authd.core.emails import canonical_email
from authd.core.policies import RateLimitPolicy
from authd.errors import RateLimited


@dataclass(frozen=True, slots=True)
class Reservation:
    """The answer of one atomic check-and-add.

    ``allowed``: the attempt was counted and may go ahead; ``resets_at``: when
    the oldest counted attempt leaves the window (the Retry-After of a refusal);
    ``at`` and ``token`` identify the counted attempt for ``release``.
    """

    key: str
    allowed: bool
    count: int
    resets_at: float
    at: float
    token: str


class RateLimitStore(Protocol):
    async def reserve(self, key: str, limit: int, window: float, now: float) -> Reservation:
        """Atomically: drop attempts older than the window; if fewer than ``limit`` remain, add
        this one (``allowed``), else add nothing (not ``allowed``)."""
        ...

    async def release(self, reservation: Reservation) -> None:
        """Forget one allowed attempt (a right password); a no-op once it has left the window."""
        ...

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


@dataclass(frozen=True, slots=True)
class LoginAttempt:
    """A login attempt counted against its account and its IP, before the password is checked."""

    account: Reservation
    ip: Reservation


class BruteForceGuard:
    def __init__(self, store: RateLimitStore, limits: RateLimitPolicy, clock: Clock) -> None:
        self._store = store
        self._limits = limits
        self._clock = clock

    @property
    def degraded(self) -> bool:
        return self._store.degraded

    async def reserve_login(self, email: str, ip: str) -> LoginAttempt:
        """Count one password attempt against the account and the IP, or raise RateLimited.

        A refusal by the IP gives the account's reservation back, so an IP
        that is locked out cannot use up the limits of the accounts it names.
        """
        account = await self._reserve(account_key(email), self._limits.account_failures)
        try:
            address = await self._reserve(_key("ip", ip), self._limits.ip_failures)
        except BaseException:
            await self._store.release(account)
            raise
        return LoginAttempt(account, address)

    async def reserve_client_secret(self, client_id: str, ip: str) -> LoginAttempt:
        """Count one client-secret attempt against the client id and the IP, or raise RateLimited.

        The same shape as a password attempt: a per-client counter (so no one can guess a
        machine's secret from many addresses) and the per-IP counter that logins use (so one
        address guessing secrets and passwords is limited once). Released on a right secret.
        """
        client = await self._reserve(_key("client", client_id), self._limits.account_failures)
        try:
            address = await self._reserve(_key("ip", ip), self._limits.ip_failures)
        except BaseException:
            await self._store.release(client)
            raise
        return LoginAttempt(client, address)

    async def reserve_ip(self, ip: str) -> Reservation:
        """Count one attempt against the IP's login counter (a passkey sign-in: it names no
        account to count against until its credential is looked up), or raise RateLimited."""
        return await self._reserve(_key("ip", ip), self._limits.ip_failures)

    async def release(self, reservation: Reservation) -> None:
        """The attempt of ``reserve_ip`` is not a failure: it stops counting."""
        await self._store.release(reservation)

    async def release_login(self, attempt: LoginAttempt) -> None:
        """The attempt is not a failure (a right password, or no answer at all): it stops counting."""
        await self._store.release(attempt.account)
        await self._store.release(attempt.ip)

    async def check_signup(self, ip: str) -> None:
        """Each sign-up attempt counts, whatever its outcome."""
        await self._reserve(_key("signup", ip), self._limits.signups_per_ip)

    async def check_social_start(self, ip: str) -> None:
        """Each social login start stores a pending login: bounded per IP so no one fills the table."""
        await self._reserve(_key("social", ip), self._limits.social_logins_per_ip)

    async def check_revoke(self, ip: str) -> None:
        """Every revocation request costs a signature check and possibly a durable write:
        bounded per IP so no one can keep the database busy with them."""
        await self._reserve(_key("revoke", ip), self._limits.revokes_per_ip)

    async def check_quota(self, kind: str, value: str, limit: int, window: float | None = None) -> None:
        """One more of a bounded action (mail requests per IP, mails per address), or RateLimited.

        Every attempt counts, whatever its outcome; ``window`` defaults to the login window.
        """
        await self._reserve(_key(kind, canonical_email(value)), limit, window)

    async def _reserve(self, key: str, limit: int, window: float | None = None) -> Reservation:
        now = self._clock.now()
        reservation = await self._store.reserve(key, limit, window or self._limits.window, now)
        if not reservation.allowed:
            raise RateLimited(retry_after=int(reservation.resets_at - now) + 1)
        return reservation
