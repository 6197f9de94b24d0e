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
redeems it first chooses the provider account that gets linked.

Which browser completes the link is bound too, or an attacker could ask for a
ticket for their own account and make a victim's browser open it: a provider
that approves silently would then add the *victim's* provider account to the
*attacker's* account (forced linking, a login CSRF). So:

* a ticket asked for with a session cookie is redeemable only by a browser
  holding that same session;
* a ticket asked for with a Bearer token (an app that opens a system browser)
  comes with a ``link_verifier`` that only the app knows. The callback links
  nothing: it sends the browser back to ``redirect_to`` with a one-time
  ``link_code`` (256-bit, digest stored, 60 s, single use), and the app
  completes with ``POST /v1/identities/{provider}/complete`` — the same user's
  token, the code and the verifier. A victim's browser lands at the app with a
  code the attacker never sees, and the victim's app cannot complete it (other
  user, no verifier).

Rules: an identity linked to another user is never moved (that would take
over whichever account owned it); one identity per provider per user (unlink
first); an account never loses its last way to sign in.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import asdict, dataclass

import orjson

from authd.clock import Clock
from authd.core import audit
from authd.core.accounts import normalise_email
from authd.core.audit import Auditor
from authd.core.ids import b64url, new_secret
from authd.core.models import ClientInfo, Identity, User
from authd.core.ports import IdentityStore, PendingLoginStore, UserStore
from authd.core.social_models import Profile
from authd.errors import Conflict, InvalidGrant, InvalidRequest, LoginRefused, NotFound

LINK_TICKET_TTL = 60.0
LINK_CODE_TTL = 60.0
Notify = Callable[[str, str, Mapping[str, str]], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class LinkTicket:
    """Who asked to link which provider, and where the browser goes afterwards."""

    user_id: str
    provider: str
    redirect_to: str
    session_id: str | None = None  # asked for with a session cookie: only that session may redeem it
    challenge: str | None = None  # asked for with a Bearer token: S256 of the app's link_verifier


@dataclass(frozen=True, slots=True)
class StartedLink:
    """A new ticket, and for Bearer callers the verifier that completes the link."""

    ticket: str
    verifier: str | None = None


@dataclass(frozen=True, slots=True)
class HeldLink:
    """A provider account waiting for the app that asked to link it (``link_code``)."""

    user_id: str
    provider: str
    subject: str
    email: str | None
    challenge: str


def verifier_challenge(verifier: str) -> str:
    """S256 of a link verifier (as PKCE's, RFC 7636)."""
    return b64url(hashlib.sha256(verifier.encode("utf-8", "surrogatepass")).digest())


def ticket_key(ticket: str) -> str:
    """The pending-login store key of a ticket: a digest, apart from every ``state`` digest."""
    return "link:" + hashlib.sha256(ticket.encode("utf-8", "surrogatepass")).hexdigest()


def code_key(code: str) -> str:
    """The pending-login store key of a link code: a digest, apart from tickets and states."""
    return "linkcode:" + hashlib.sha256(code.encode("utf-8", "surrogatepass")).hexdigest()


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
                 auditor: Auditor, clock: Clock, *, notify: Notify | None = None) -> None:
        self._users = users
        self._identities = identities
        self._pending = pending
        self._audit = auditor
        self._clock = clock
        self._notify = notify  # mails the user a notice: (user id, template, values)

    async def list(self, user_id: str) -> list[Identity]:
        return await self._identities.list_identities(user_id)

    async def start(self, user_id: str, provider: str, redirect_to: str,
                    session_id: str | None = None) -> StartedLink:
        """A link ticket for ``/v1/oauth/{provider}/authorize?link_ticket=...``.

        Without ``session_id`` (a Bearer caller) the ticket also gets a verifier,
        and the link waits for the app (see the module's docstring).
        """
        ticket = new_secret()
        verifier = new_secret() if session_id is None else None
        challenge = verifier_challenge(verifier) if verifier is not None else None
        record = orjson.dumps(asdict(LinkTicket(user_id, provider, redirect_to, session_id,
                                                challenge)))
        await self._pending.put_pending(ticket_key(ticket), record,
                                        self._clock.now() + LINK_TICKET_TTL)
        return StartedLink(ticket, verifier)

    async def take(self, ticket: str, provider: str) -> LinkTicket:
        """The ticket's request, once; InvalidRequest if it is unknown, used, expired or not for here."""
        record = None
        if 0 < len(ticket) <= 256:
            record = await self._pending.take_pending(ticket_key(ticket), self._clock.now())
        found = LinkTicket(**orjson.loads(record)) if record is not None else None
        if found is None or found.provider != provider:
            raise InvalidRequest("the link ticket is invalid, used or expired")
        return found

    async def finish(self, user_id: str, profile: Profile, challenge: str | None,
                     client: ClientInfo) -> str | None:
        """The callback's step: link now (a cookie ticket), or hold it for the app.

        Returns the ``link_code`` the app completes with, when the ticket came with a
        verifier; None once linked.
        """
        if challenge is None:
            await self.link(user_id, profile.provider, profile.subject, profile.email, client)
            return None
        check_link(*await self._situation(user_id, profile.provider, profile.subject))
        code = new_secret()
        held = HeldLink(user_id, profile.provider, profile.subject, profile.email, challenge)
        await self._pending.put_pending(code_key(code), orjson.dumps(asdict(held)),
                                        self._clock.now() + LINK_CODE_TTL)
        return code

    async def complete(self, user_id: str, provider: str, code: object, verifier: object,
                       client: ClientInfo) -> None:
        """The app's step: its user, the code from the browser and its verifier; then link.

        The code is spent whatever the outcome, like an authorization code.
        """
        if not isinstance(code, str) or not isinstance(verifier, str):
            raise InvalidRequest("link_code and link_verifier are required strings")
        record = None
        if 0 < len(code) <= 256 and 0 < len(verifier) <= 256:
            record = await self._pending.take_pending(code_key(code), self._clock.now())
        held = HeldLink(**orjson.loads(record)) if record is not None else None
        if (held is None or held.provider != provider or held.user_id != user_id
                or not hmac.compare_digest(held.challenge, verifier_challenge(verifier))):
            raise InvalidGrant("the link code is invalid, used, expired or not yours")
        await self.link(user_id, held.provider, held.subject, held.email, client)

    async def _situation(self, user_id: str, provider: str, subject: str
                         ) -> tuple[User | None, str | None, Identity | None, str]:
        user = await self._users.get_user(user_id)
        existing = await self._identities.find_identity(provider, subject)
        mine = await self._identities.list_identities(user_id)
        here = next((i for i in mine if i.provider == provider), None)
        return user, existing.user_id if existing else None, here, subject

    async def link(self, user_id: str, provider: str, subject: str, provider_email: str | None,
                   client: ClientInfo) -> None:
        if not check_link(*await self._situation(user_id, provider, subject)):
            return
        try:
            email = normalise_email(provider_email) if provider_email else None
        except InvalidRequest:
            email = None
        try:
            await self._identities.add_identity(Identity(provider, subject, user_id,
                                                         email, self._clock.now()))
        except Conflict:
            raise LoginRefused("this provider account is linked to another user") from None
        await self._audit(audit.IDENTITY_LINKED, user_id=user_id, client=client,
                          provider=provider, explicit=True)
        if self._notify is not None:
            await self._notify(user_id, "identity_linked", {"provider": provider})

    async def unlink(self, user_id: str, provider: str, client: ClientInfo) -> None:
        if not await self._identities.remove_identity(user_id, provider):
            raise NotFound("no identity at this provider is linked to the account")
        await self._audit(audit.IDENTITY_UNLINKED, user_id=user_id, client=client, provider=provider)
        if self._notify is not None:
            await self._notify(user_id, "identity_unlinked", {"provider": provider})
