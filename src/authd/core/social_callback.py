"""The social-login callback as one use case: check, complete, then link or sign in.

``/v1/oauth/{provider}/callback`` hands over the query and the browser's
binding cookie and gets back what happened, as a value the HTTP layer turns
into cookies and a redirect:

* ``SignedIn``: a cookie session was started (session mode);
* ``CodeIssued``: a one-time code for the app (token mode);
* ``Linked``: the provider account was added to the signed-in user, or is
  held for the app under ``link_code`` (link mode);
* ``Refused``: the state was valid but the login cannot complete; the user
  goes back to the app with ``error`` (RFC 6749 4.1.2.1), and it is audited.

A callback whose state is not this browser's, is unknown or expired raises
``InvalidState`` instead: nothing is known to be safe to redirect to.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from authd.clock import Clock
from authd.core import amr
from authd.core.clients import ClientRegistry
from authd.core.identities import IdentityLinks
from authd.core.models import ClientInfo
from authd.core.ports import LoginProvider
from authd.core.second_step import Binding, SecondStep
from authd.core.sessions import CookieSessionService, StartedSession
from authd.core.social import SocialLogins
from authd.core.social_models import PendingLogin
from authd.errors import InvalidState, MfaRequired, SocialLoginError


@dataclass(frozen=True, slots=True)
class SignedIn:
    redirect_to: str
    session: StartedSession


@dataclass(frozen=True, slots=True)
class CodeIssued:
    redirect_to: str
    code: str


@dataclass(frozen=True, slots=True)
class Linked:
    redirect_to: str
    link_code: str | None  # set when the link is held for an app (Bearer linking)


@dataclass(frozen=True, slots=True)
class SecondFactorNeeded:
    """A session-mode social login of a user with a second factor: no cookie yet.

    The browser goes back to the app with the mfa_token in the URL fragment (never
    sent to a server, never in a Referer); the app finishes with POST /v1/session/mfa.
    """

    redirect_to: str
    mfa_token: str
    factors: list[str]


@dataclass(frozen=True, slots=True)
class Refused:
    redirect_to: str
    error: SocialLoginError


CallbackOutcome = SignedIn | CodeIssued | Linked | SecondFactorNeeded | Refused


class SocialCallbacks:
    def __init__(self, social: SocialLogins, links: IdentityLinks,
                 sessions: CookieSessionService, clients: ClientRegistry, clock: Clock, *,
                 second_step: SecondStep | None = None) -> None:
        self._second_step = second_step
        self._social = social
        self._links = links
        self._sessions = sessions
        self._clients = clients
        self._clock = clock

    async def complete(self, provider: LoginProvider, params: Mapping[str, str],
                       browser_binding: str | None, client: ClientInfo) -> CallbackOutcome:
        """Finish the login this callback belongs to; InvalidState if it belongs to none."""
        pending = await self._social.take(params.get("state"))
        if pending is not None and pending.provider != provider.name:
            pending = None  # a state issued for another provider's login
        try:
            code = await provider.check_callback(pending, params, browser_binding, self._clock)
        except InvalidState as exc:
            if exc.redirect_to is None:
                raise
            return await self._refused(provider, exc.redirect_to, exc, client)
        except SocialLoginError as exc:
            if pending is None:
                raise InvalidState() from None
            return await self._refused(provider, pending.redirect_to, exc, client)
        assert pending is not None
        try:
            return await self._finish(provider, pending, code, client)
        except SocialLoginError as exc:
            return await self._refused(provider, pending.redirect_to, exc, client)

    async def _finish(self, provider: LoginProvider, pending: PendingLogin, code: str,
                      client: ClientInfo) -> CallbackOutcome:
        profile = await provider.complete(pending, code)
        if pending.mode == "link":
            assert pending.user_id is not None
            link_code = await self._links.finish(pending.user_id, profile, pending.app_challenge,
                                                 client)
            return Linked(pending.redirect_to, link_code)
        user = await self._social.sign_in(
            profile, link_by_verified_email=provider.link_by_verified_email, client=client)
        if pending.mode == "token":
            one_time = await self._social.issue_code(
                user, pending.client_id or self._clients.default_id, pending.app_challenge)
            return CodeIssued(pending.redirect_to, one_time)
        if self._second_step is not None:
            try:
                await self._second_step.gate(user, Binding.for_session((amr.FEDERATED,)))
            except MfaRequired as exc:
                return SecondFactorNeeded(pending.redirect_to, exc.mfa_token, exc.factors)
        return SignedIn(pending.redirect_to,
                        await self._sessions.start(user, client, amr=(amr.FEDERATED,)))

    async def _refused(self, provider: LoginProvider, redirect_to: str, exc: SocialLoginError,
                       client: ClientInfo) -> Refused:
        """A login refused after its state was valid: audited like a bad password."""
        await self._social.refused(provider.name, exc.code, client)
        return Refused(redirect_to, exc)
