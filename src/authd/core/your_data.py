"""A user's data: everything authd stores about them in one document, and erasure.

``GET /v1/me/export`` and ``DELETE /v1/me`` (and the admin API's delete, and
``authd users delete``) go through here.

Erasure is ordered so that nothing the user held keeps working: the account
is disabled first (a login or refresh racing with the deletion is refused),
then every session and family ends (their ``sid`` enters the revocation feed,
cookie sessions leave whichever store holds them), then one transaction
deletes the rows (see ``AccountEraser``) and answers the families still live
at that moment, whose tokens are denied too.

The audit trail is kept, because security events must outlive the account
(a later investigation still sees "a deleted user's tokens were replayed"),
but pseudonymously: the user's id is replaced by ``pseudonym(id)``, an
HMAC-SHA256 of the id under a key derived from the root secret. It links a
deleted user's rows to each other, never to a person: the id itself is gone
with the account, and without the root secret no id can be tested against it.
The rows' IP addresses are dropped in the same transaction.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Awaitable, Callable
from typing import Any

from authd.clock import Clock
from authd.core import audit
from authd.core.audit import Auditor
from authd.core.directory import SessionDirectory
from authd.core.models import AuditEvent, ClientInfo, User
from authd.core.ports import AccountEraser, AuditStore, IdentityStore, UserStore
from authd.core.tokens import TokenService
from authd.errors import Unauthenticated

# Second factors (TOTP, passkeys) are exported by whoever stores them: an exporter answers
# the user's rows as JSON values, without any secret (no TOTP seed, no credential key).
FactorExporter = Callable[[str], Awaitable[object]]
EXPORT_PAGE = 1000
PSEUDONYM_PREFIX = "del_"


def pseudonym(key: bytes, user_id: str) -> str:
    """The stand-in for a deleted user's id in the audit trail (26 characters, fits the column)."""
    digest = hmac.new(key, user_id.encode(), hashlib.sha256).digest()[:16]
    return PSEUDONYM_PREFIX + base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def profile_json(user: User) -> dict[str, Any]:
    """The account as an administrator or its owner sees it: never the password hash."""
    return {"id": user.id, "email": user.email, "email_verified": user.email_verified,
            "name": user.name, "disabled": user.disabled, "created_at": user.created_at,
            "has_password": user.password_hash is not None,
            "password_changed_at": user.password_changed_at, "locale": user.locale}


def event_json(event: AuditEvent) -> dict[str, Any]:
    return {"at": event.at, "event": event.event, "user_id": event.user_id, "ip": event.ip,
            "detail": event.detail or {}}


class AccountData:
    def __init__(self, users: UserStore, identities: IdentityStore, directory: SessionDirectory,
                 events: AuditStore, eraser: AccountEraser, tokens: TokenService,
                 auditor: Auditor, clock: Clock, pseudonym_key: bytes) -> None:
        self._users = users
        self._identities = identities
        self._directory = directory
        self._events = events
        self._eraser = eraser
        self._tokens = tokens
        self._audit = auditor
        self._clock = clock
        self._pseudonym_key = pseudonym_key
        self._factor_exporters: dict[str, FactorExporter] = {}

    def register_factor_exporter(self, name: str, exporter: FactorExporter) -> None:
        """Extension point: a second factor's rows appear in the export under ``factors.<name>``."""
        self._factor_exporters[name] = exporter

    async def export(self, user_id: str) -> dict[str, Any]:
        """One JSON document: profile, identities, sessions, factors (no secrets), audit events.

        Unauthenticated when the account is gone or disabled (as for every account endpoint).
        """
        user = await self._users.get_user(user_id)
        if user is None or user.disabled:
            raise Unauthenticated("the account is gone or disabled")
        identities = [{"provider": i.provider, "subject": i.subject, "email": i.email,
                       "created_at": i.created_at}
                      for i in await self._identities.list_identities(user.id)]
        sessions = [v.as_json(None) for v in await self._directory.list(user.id)]
        for s in sessions:
            s.pop("current", None)
        factors: dict[str, object] = {"password": {
            "set": user.password_hash is not None, "changed_at": user.password_changed_at}}
        for name, exporter in self._factor_exporters.items():
            factors[name] = await exporter(user.id)
        return {"profile": profile_json(user), "identities": identities, "sessions": sessions,
                "factors": factors, "audit_events": await self._all_events(user.id),
                "exported_at": self._clock.now()}

    async def _all_events(self, user_id: str) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        before: int | None = None
        while True:
            page = await self._events.page_events(user_id=user_id, event=None, since=None,
                                                  before_seq=before, limit=EXPORT_PAGE)
            found += [event_json(e) for _, e in page]
            if len(page) < EXPORT_PAGE:
                return found
            before = page[-1][0]

    async def erase(self, user_id: str, client: ClientInfo, *, actor: str | None = None) -> bool:
        """Delete the account (see the module's docstring); False if there is no such user."""
        if not await self._users.set_disabled(user_id, True):
            return False
        await self._directory.revoke_all(user_id, client, actor=actor)
        live = await self._eraser.erase_user(user_id, self.pseudonym(user_id), self._clock.now())
        if live is None:
            return False  # deleted meanwhile by another request
        for family_id in live:
            await self._tokens.deny_family_tokens(family_id)
        if actor is None:  # the user themselves: their address goes with the account
            await self._audit(audit.USER_DELETED, user_id=self.pseudonym(user_id))
        else:
            await self._audit(audit.USER_DELETED, user_id=self.pseudonym(user_id), client=client,
                              actor=actor)
        return True

    def pseudonym(self, user_id: str) -> str:
        return pseudonym(self._pseudonym_key, user_id)
