"""Security events: one call writes the audit row and the structured log line.

Details never contain secrets: ids of users, families and keys only.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from authd.clock import Clock
from authd.core.models import AuditEvent, ClientInfo
from authd.core.ports import AuditStore

log = logging.getLogger("authd.audit")
DAY = 86_400
PRUNE_BATCH = 10_000

LOGIN_OK = "login.ok"
LOGIN_FAILED = "login.failed"
REAUTH = "login.reauth"
SIGNUP = "user.created"
REFRESH = "token.refreshed"
REUSE_DETECTED = "token.reuse_detected"
REVOKE = "token.revoked"
SESSION_REVOKED = "session.revoked"
LOGOUT = "logout"
LOGOUT_EVERYWHERE = "logout.everywhere"
KEY_ROTATED = "key.rotated"
PASSWORD_CHANGED = "password.changed"
IDENTITY_LINKED = "identity.linked"
IDENTITY_UNLINKED = "identity.unlinked"
CODE_REPLAYED = "code.replayed"
EMAIL_VERIFIED = "email.verified"
EMAIL_CHANGED = "email.changed"
PASSWORD_RESET = "password.reset"
LOGIN_BY_EMAIL = "login.email"
MAIL_GIVEN_UP = "mail.given_up"
USER_DISABLED = "user.disabled"
USER_ENABLED = "user.enabled"
USER_UPDATED = "user.updated"
USER_DELETED = "user.deleted"
USER_VIEWED = "user.viewed"  # an administrator read one user's record or sessions
PASSWORD_RESET_SENT = "password.reset_sent"
CLIENT_CREDENTIALS = "token.client_credentials"
CLIENT_AUTH_FAILED = "client.auth_failed"
PASSKEY_ADDED = "passkey.added"
PASSKEY_REMOVED = "passkey.removed"
PASSKEY_COUNTER_REGRESSED = "passkey.counter_regressed"
LOGIN_PASSKEY = "login.passkey"


class Auditor:
    def __init__(self, store: AuditStore, clock: Clock) -> None:
        self._store = store
        self._clock = clock
        self._listeners: list[Callable[[str], None]] = []

    def add_listener(self, listener: Callable[[str], None]) -> None:
        """Called with each event name (metrics count security events this way)."""
        self._listeners.append(listener)

    async def __call__(self, event: str, *, user_id: str | None = None,
                       client: ClientInfo | None = None, **detail: Any) -> None:
        await self.record(self.event(event, user_id=user_id, client=client, **detail))

    def event(self, event: str, *, user_id: str | None = None, client: ClientInfo | None = None,
              **detail: Any) -> AuditEvent:
        """An event for a store to write in its own transaction; ``announce`` it once committed."""
        ip = client.ip if client else None
        return AuditEvent(self._clock.now(), event, user_id, ip, detail or None)

    async def record(self, event: AuditEvent) -> None:
        await self._store.record(event)
        self.announce(event)

    async def prune(self, retention_days: int, *, batch: int = PRUNE_BATCH) -> int:
        """Drop events older than the retention (0 keeps them forever); how many were dropped.

        Deleted in batches, each its own short transaction, so that a first prune of a
        large trail never holds the database's writers up for long.
        """
        if retention_days <= 0:
            return 0
        before = self._clock.now() - retention_days * DAY
        dropped = 0
        while True:
            deleted = await self._store.prune_events(before, batch)
            dropped += deleted
            if deleted < batch:
                return dropped

    def announce(self, event: AuditEvent) -> None:
        """The log line and listeners of an event that is already stored."""
        detail = event.detail or {}
        log.info(event.event, extra={"event": event.event, "user_id": event.user_id,
                                     "ip": event.ip, **detail})
        for listener in self._listeners:
            listener(event.event)
