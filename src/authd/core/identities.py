"""Explicit identity linking: a signed-in user adds or removes a social-login account.

Social login joins an existing account by email only in the narrow case the
account rules allow (see ``authd.core.social``); everyone else — a password
account that wants "Sign in with Google" too, or an account whose provider
email differs — links explicitly, proving control of both sides: the authd
account (cookie + CSRF token, or a Bearer token) asks for a *link ticket*, and
the browser then completes an ordinary authorization with the provider.

The ticket exists because the browser that finishes the link must be the one
bound to the login's ``state`` (the binding cookie is set when it opens
``/authorize``), while the request that proves who the user is may come from
an app holding a Bearer token. It is a 256-bit secret, stored as a digest,
single use, 60 s: the same properties as a one-time code, since whoever
redeems it first chooses the provider account that gets linked. A ticket
asked for with a session cookie is redeemable only by a browser holding that
same session, so a leaked ticket is useless elsewhere; Bearer callers (apps
that open a system browser) rely on the ticket's secrecy and lifetime.

Rules: an identity linked to another user is never moved (that would take
over whichever account owned it); one identity per provider per user (unlink
first); an account never loses its last way to sign in.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass

import orjson

from authd.clock import Clock
from authd.core import audit
from authd.core.accounts import normalise_email
from authd.core.audit import Auditor
from authd.core.ids import new_secret
from authd.core.models import ClientInfo, Identity, User
from authd.core.ports import IdentityStore, PendingLoginStore, UserStore
from authd.errors import Conflict, InvalidRequest, NotFound
from authd.oauth.errors import LoginRefused
from authd.oauth.flow import Profile

LINK_TICKET_TTL = 60.0


@dataclass(frozen=True, slots=True)
class LinkTicket:
    """Who asked to link which provider, and where the browser goes afterwards."""

    user_id: str
    provider: str
    redirect_to: str
    session_id: str | None = None  # asked for with a session cookie: only that session may redeem it


def ticket_key(ticket: str) -> str:
    """The pending-login store key of a ticket: a digest, apart from every ``state`` digest."""
    return "link:" + hashlib.sha256(ticket.encode("utf-8", "surrogatepass")).hexdigest()


def check_link(user: User | None, owner_id: str | None, linked_here: Identity | None,
               subject: str) -> bool:
    """Whether to add the identity (False: it is this user's already); LoginRefused if not allowed.

    ``owner_id`` is the user the (provider, subject) identity belongs to, if any;
    ``linked_here`` the identity this user already has at the provider, if any.
    """
    if user is None or user.disabled:
        raise LoginRefused("this account is gone or disabled")
    if owner_id is not None:
        if owner_id != user.id:
            raise LoginRefused("this provider account is linked to another user")
        return False
    if linked_here is not None and linked_here.subject != subject:
        raise LoginRefused("another account at this provider is linked already; unlink it first")
    return True


class IdentityLinks:
    def __init__(self, users: UserStore, identities: IdentityStore, pending: PendingLoginStore,
                 auditor: Auditor, clock: Clock) -> None:
        self._users = users
        self._identities = identities
        self._pending = pending
        self._audit = auditor
        self._clock = clock

    async def list(self, user_id: str) -> list[Identity]:
        return await self._identities.list_identities(user_id)

    async def start(self, user_id: str, provider: str, redirect_to: str,
                    session_id: str | None = None) -> str:
        """A link ticket for ``/v1/oauth/{provider}/authorize?link_ticket=...``."""
        ticket = new_secret()
        record = orjson.dumps(asdict(LinkTicket(user_id, provider, redirect_to, session_id)))
        await self._pending.put_pending(ticket_key(ticket), record,
                                        self._clock.now() + LINK_TICKET_TTL)
        return ticket

    async def take(self, ticket: str, provider: str) -> LinkTicket:
        """The ticket's request, once; InvalidRequest if it is unknown, used, expired or not for here."""
        record = None
        if 0 < len(ticket) <= 256:
            record = await self._pending.take_pending(ticket_key(ticket), self._clock.now())
        found = LinkTicket(**orjson.loads(record)) if record is not None else None
        if found is None or found.provider != provider:
            raise InvalidRequest("the link ticket is invalid, used or expired")
        return found

    async def link(self, user_id: str, profile: Profile, client: ClientInfo) -> None:
        user = await self._users.get_user(user_id)
        existing = await self._identities.find_identity(profile.provider, profile.subject)
        mine = await self._identities.list_identities(user_id)
        here = next((i for i in mine if i.provider == profile.provider), None)
        if not check_link(user, existing.user_id if existing else None, here, profile.subject):
            return
        try:
            email = normalise_email(profile.email) if profile.email else None
        except InvalidRequest:
            email = None
        try:
            await self._identities.add_identity(Identity(profile.provider, profile.subject, user_id,
                                                         email, self._clock.now()))
        except Conflict:
            raise LoginRefused("this provider account is linked to another user") from None
        await self._audit(audit.IDENTITY_LINKED, user_id=user_id, client=client,
                          provider=profile.provider, explicit=True)

    async def unlink(self, user_id: str, provider: str, client: ClientInfo) -> None:
        if not await self._identities.remove_identity(user_id, provider):
            raise NotFound("no identity at this provider is linked to the account")
        await self._audit(audit.IDENTITY_UNLINKED, user_id=user_id, client=client, provider=provider)
