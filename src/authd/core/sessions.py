"""Cookie sessions: the stateful half of authd.

The cookie carries an opaque 256-bit id; the server stores only its SHA-256,
so a database leak yields no usable cookie. Every login mints a fresh id (a
planted or pre-existing id is never adopted: no session fixation). Each
session has its own CSRF token, required on unsafe requests the cookie
authenticates. A read refreshes the idle deadline with at most one write per
session per minute, so that a normal request costs a lookup and no write.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass

from authd.clock import Clock
from authd.config import Settings
from authd.core import audit
from authd.core.audit import Auditor
from authd.core.ids import digest, new_id, new_secret
from authd.core.models import ClientInfo, CookieSession, User
from authd.core.ports import CookieSessionStore, UserStore
from authd.errors import CsrfFailed, InvalidToken

TOUCH_INTERVAL = 60.0
MAX_COOKIE_LENGTH = 128


@dataclass(frozen=True, slots=True)
class StartedSession:
    cookie_value: str
    session: CookieSession


class CookieSessionService:
    def __init__(self, store: CookieSessionStore, users: UserStore, settings: Settings,
                 auditor: Auditor, clock: Clock) -> None:
        self._store = store
        self._users = users
        self._idle = float(settings.session_idle_timeout)
        self._absolute = float(settings.session_absolute_lifetime)
        self._audit = auditor
        self._clock = clock

    async def start(self, user: User, client: ClientInfo) -> StartedSession:
        now = self._clock.now()
        cookie_value = new_secret()
        session = CookieSession(
            id=new_id(), token_hash=digest(cookie_value), user_id=user.id,
            csrf_token=secrets.token_urlsafe(32), created_at=now, last_used_at=now,
            idle_expires_at=min(now + self._idle, now + self._absolute),
            absolute_expires_at=now + self._absolute,
            user_agent=client.user_agent, ip=client.ip,
        )
        await self._store.create_session(session)
        return StartedSession(cookie_value, session)

    async def authenticate(self, cookie_value: str) -> tuple[CookieSession, User]:
        """The live session and its user; InvalidToken for unknown, expired or garbage cookies."""
        if not cookie_value or len(cookie_value) > MAX_COOKIE_LENGTH:
            raise InvalidToken("no valid session")
        session = await self._store.get_session_by_hash(digest(cookie_value))
        now = self._clock.now()
        if session is None or now >= session.idle_expires_at or now >= session.absolute_expires_at:
            raise InvalidToken("no valid session")
        user = await self._users.get_user(session.user_id)
        if user is None or user.disabled:
            raise InvalidToken("no valid session")
        if now - session.last_used_at >= TOUCH_INTERVAL:
            idle = min(now + self._idle, session.absolute_expires_at)
            await self._store.touch_session(session.id, now, idle)
        return session, user

    async def end(self, session: CookieSession, client: ClientInfo) -> None:
        await self._store.delete_session(session.id)
        await self._audit(audit.LOGOUT, user_id=session.user_id, client=client,
                          session=session.id)


def check_csrf(session: CookieSession, presented: str | None) -> None:
    """The X-CSRF-Token header must equal the session's token (constant-time)."""
    if not presented or not hmac.compare_digest(presented.encode(), session.csrf_token.encode()):
        raise CsrfFailed()
