"""Operator actions: the use cases behind ``authd users ...`` (and any admin API to come).

They go through the same rules as the public API: a user created here
passes sign-up's email normalisation and password policy; disabling a user
ends every cookie session and refresh family (each family's ``sid`` enters
the revocation feed, so APIs refuse its access tokens) and is audited.
"""

from __future__ import annotations

from collections.abc import Sequence

from authd.core import audit
from authd.core.accounts import Accounts
from authd.core.audit import Auditor
from authd.core.directory import SessionDirectory
from authd.core.emails import canonical_email
from authd.core.models import AuditEvent, ClientInfo, User
from authd.core.ports import AuditStore, UserStore

OPERATOR = ClientInfo(ip="cli")


class Administration:
    def __init__(self, users: UserStore, accounts: Accounts, directory: SessionDirectory,
                 events: AuditStore, auditor: Auditor) -> None:
        self._users = users
        self._accounts = accounts
        self._directory = directory
        self._events = events
        self._audit = auditor

    async def create_user(self, email: object, password: object, name: object,
                          client: ClientInfo = OPERATOR) -> User:
        """Sign-up's own use case, without its per-IP limit (an operator is not a stranger)."""
        return await self._accounts.sign_up(email, password, name, client, rate_limited=False)

    async def disable_user(self, email: str, client: ClientInfo = OPERATOR) -> User | None:
        """Disable the account, then end all its sessions and families; None for no such user.

        Disabled first, so a refresh or login racing with this is refused too.
        """
        user = await self._users.find_user_by_email(canonical_email(email))
        if user is None:
            return None
        await self._users.set_disabled(user.id, True)
        await self._directory.revoke_all(user.id, client)
        await self._audit(audit.USER_DISABLED, user_id=user.id, client=client)
        return user

    async def list_users(self, limit: int, offset: int) -> Sequence[User]:
        return await self._users.list_users(limit, offset)

    async def events(self, *, user_id: str | None, event: str | None,
                     limit: int) -> Sequence[AuditEvent]:
        """The newest audit events, optionally of one user or one kind."""
        return await self._events.list_events(user_id=user_id, event=event, limit=limit)
