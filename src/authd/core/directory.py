"""One list of a user's sessions, whatever their kind: cookie sessions and refresh families.

A family's id is the ``sid`` claim of its access tokens; a cookie session's
id is its public record id (never the cookie value). Ending either takes
effect on the very next request.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from authd.clock import Clock
from authd.core import audit
from authd.core.audit import Auditor
from authd.core.models import ClientInfo
from authd.core.ports import CookieSessionStore, FamilyStore
from authd.core.tokens import TokenService
from authd.errors import NotFound


@dataclass(frozen=True, slots=True)
class SessionView:
    id: str
    kind: Literal["cookie", "token"]
    created_at: float
    last_used_at: float
    user_agent: str | None
    ip: str | None
    amr: tuple[str, ...] = ()  # how its login was made (RFC 8176); empty if unknown

    def as_json(self, current_id: str | None) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind, "created_at": int(self.created_at),
                "last_used_at": int(self.last_used_at), "user_agent": self.user_agent,
                "ip": self.ip, "amr": list(self.amr), "current": self.id == current_id}


class SessionDirectory:
    def __init__(self, families: FamilyStore, cookies: CookieSessionStore, tokens: TokenService,
                 auditor: Auditor, clock: Clock) -> None:
        self._families = families
        self._cookies = cookies
        self._tokens = tokens
        self._audit = auditor
        self._clock = clock

    async def list(self, user_id: str) -> list[SessionView]:
        now = self._clock.now()
        views = [SessionView(s.id, "cookie", s.created_at, s.last_used_at, s.user_agent, s.ip,
                             s.amr)
                 for s in await self._cookies.list_sessions(user_id, now)]
        views += [SessionView(f.id, "token", f.created_at, f.last_used_at, f.user_agent, f.ip,
                              f.amr)
                  for f in await self._families.list_families(user_id, now)]
        return sorted(views, key=lambda v: v.created_at)

    async def revoke(self, user_id: str, session_id: str, client: ClientInfo) -> None:
        """End one of the caller's sessions; NotFound for ids that are not theirs."""
        owned = {v.id: v for v in await self.list(user_id)}
        view = owned.get(session_id)
        if view is None:
            raise NotFound("no such session")
        await self._end(view)
        await self._audit(audit.SESSION_REVOKED, user_id=user_id, client=client,
                          session=session_id, kind=view.kind)

    async def revoke_all(self, user_id: str, client: ClientInfo, *,
                         except_id: str | None = None, actor: str | None = None) -> int:
        """Logout everywhere (or everywhere else, after a password change); ``actor`` names
        the administrator (a client id, or ``cli``) when it was not the user."""
        views = [v for v in await self.list(user_id) if v.id != except_id]
        for view in views:
            await self._end(view)
        by: dict[str, Any] = {"actor": actor} if actor is not None else {}
        await self._audit(audit.LOGOUT_EVERYWHERE, user_id=user_id, client=client,
                          count=len(views), **by)
        return len(views)

    async def _end(self, view: SessionView) -> None:
        if view.kind == "token":
            await self._tokens.revoke_family(view.id, "logout")
        else:
            await self._cookies.delete_session(view.id)
