"""Cookie sessions: the stateful half of authd.

The cookie carries an opaque 256-bit id; the server stores only its SHA-256,
so a database leak yields no usable cookie (nor a CSRF token: those are MACs
of the session's hash under a server key). Every login mints a fresh id (a
planted or pre-existing id is never adopted: no session fixation). Each
session has its own CSRF token, required on unsafe requests the cookie
authenticates. A read refreshes the idle deadline with at most one write per
session per touch interval (a minute, or a quarter of the idle timeout when
that is shorter, so an active session never expires between two touches),
so that a normal request costs a lookup and no write. With
a shared store, an optional ``SessionCache`` saves the lookup for up to a
second (see ``authd.core.session_cache`` for why that stays safe).
"""

from __future__ import annotations

import hmac
from collections.abc import Sequence
from dataclasses import dataclass

from authd.clock import Clock
from authd.core import amr as methods_of_login
from authd.core import audit
from authd.core.audit import Auditor
from authd.core.ids import b64url, digest, new_secret
from authd.core.models import ClientInfo, CookieSession, User
from authd.core.policies import SessionPolicy
from authd.core.ports import CookieSessionStore, UserStore
from authd.core.session_cache import SessionCache
from authd.errors import CsrfFailed, Unauthenticated

TOUCH_INTERVAL = 60.0
MAX_COOKIE_LENGTH = 128


def session_id_for(token_hash: bytes) -> str:
    """The public id of a session: the first 128 bits of its cookie's SHA-256.

    A handle its owner sees in the session list, useless for forging the
    cookie (that would need a SHA-256 preimage), and one key fewer in Redis:
    a store finds the record by id from the cookie's digest alone.
    """
    return b64url(token_hash[:16])


def touch_interval(idle_timeout: float) -> float:
    """How stale ``last_used_at`` may get: at most a quarter of the idle timeout.

    Equal to the timeout, a session used every few seconds would still expire
    (its deadline would move only after it had passed). With a quarter, a
    session ends after between three quarters of and the whole idle timeout
    without use.
    """
    return min(TOUCH_INTERVAL, idle_timeout / 4)


@dataclass(frozen=True, slots=True)
class StartedSession:
    cookie_value: str
    session: CookieSession


class CookieSessionService:
    def __init__(self, store: CookieSessionStore, users: UserStore, policy: SessionPolicy,
                 csrf_key: bytes, auditor: Auditor, clock: Clock,
                 cache: SessionCache | None = None) -> None:
        self._store = store
        self._cache = cache
        self._csrf_key = csrf_key
        self._users = users
        self._idle = float(policy.idle_timeout)
        self._touch_every = touch_interval(self._idle)
        self._absolute = float(policy.absolute_lifetime)
        self._audit = auditor
        self._clock = clock

    async def start(self, user: User, client: ClientInfo, *, amr: Sequence[str]
                    ) -> StartedSession:
        """A new session for a login made with the methods ``amr`` (RFC 8176)."""
        now = self._clock.now()
        cookie_value = new_secret()
        token_hash = digest(cookie_value)
        session = CookieSession(
            id=session_id_for(token_hash), token_hash=token_hash, user_id=user.id,
            created_at=now, last_used_at=now,
            idle_expires_at=min(now + self._idle, now + self._absolute),
            absolute_expires_at=now + self._absolute,
            user_agent=client.user_agent, ip=client.ip, auth_time=now,
            amr=methods_of_login.normalise(amr),
        )
        await self._store.create_session(session)
        return StartedSession(cookie_value, session)

    async def authenticate(self, cookie_value: str) -> tuple[CookieSession, User]:
        """The live session and its user; Unauthenticated for unknown, expired or garbage cookies."""
        if not cookie_value or len(cookie_value) > MAX_COOKIE_LENGTH:
            raise Unauthenticated("no valid session")
        token_hash = digest(cookie_value)
        now = self._clock.now()
        cached = (self._cache.get(session_id_for(token_hash), token_hash, now)
                  if self._cache is not None else None)
        if cached is not None:
            session, user = cached
        else:
            session, user = await self._load(token_hash, now)
        if now >= session.idle_expires_at or now >= session.absolute_expires_at:
            raise Unauthenticated("no valid session")
        if now - session.last_used_at >= self._touch_every:
            idle = min(now + self._idle, session.absolute_expires_at)
            await self._store.touch_session(session.id, now, idle)
        return session, user

    async def _load(self, token_hash: bytes, now: float) -> tuple[CookieSession, User]:
        generation = self._cache.generation if self._cache is not None else 0
        session = await self._store.get_session_by_hash(token_hash)
        if session is None or now >= session.idle_expires_at or now >= session.absolute_expires_at:
            raise Unauthenticated("no valid session")
        user = await self._users.get_user(session.user_id)
        if user is None or user.disabled:
            raise Unauthenticated("no valid session")
        if self._cache is not None:
            self._cache.put(session, user, now, generation)  # ``now``: taken before the reads
        return session, user

    async def end(self, session: CookieSession, client: ClientInfo) -> None:
        await self._store.delete_session(session.id)
        await self._audit(audit.LOGOUT, user_id=session.user_id, client=client,
                          session=session.id)


    def csrf_token(self, session: CookieSession) -> str:
        """The session's CSRF token: a MAC of its hash, so no store has to keep it."""
        return b64url(hmac.digest(self._csrf_key, session.token_hash, "sha256"))

    def check_csrf(self, session: CookieSession, presented: str | None) -> None:
        """The X-CSRF-Token header must equal the session's token (constant-time)."""
        expected = self.csrf_token(session).encode()
        if not presented or not hmac.compare_digest(presented.encode("utf-8", "replace"), expected):
            raise CsrfFailed()
