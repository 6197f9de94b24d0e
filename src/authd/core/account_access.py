"""Who may read or change an account, and when a sign-in is recent enough to change it.

Four rules, kept here so that every account endpoint applies the same ones:

* **Audience.** authd signs access tokens for other APIs too (``audience``);
  such a token leaks with that API's logs, proxies and bugs. Account
  endpoints (identities, password, sessions, re-login) accept only a cookie
  session or a token whose ``aud`` is authd itself. A token for another API is
  *invalid here* (RFC 9068 4, RFC 6750 3.1 ``invalid_token``), not merely short
  of a scope: no scope would make it valid.
* **A user behind the token.** A ``client_credentials`` token is a machine
  acting for itself: its subject is a client id, it has no login (``sid``)
  and no ``auth_time``. Userinfo and the account endpoints answer about a
  user, so such a token is *invalid there* (401 ``invalid_token``), whatever
  its audience: it must never read or change an account that happens to
  share its subject, and never fail as a missing account.
* **Recent authentication.** Linking or unlinking a social identity and
  changing the password need a login (or ``POST /v1/reauth``) in the last
  ``sensitive_max_age`` seconds, as OIDC ``auth_time``; otherwise RFC 9470's
  ``insufficient_user_authentication`` tells the app to ask for the password
  again. A refresh keeps ``auth_time``: a stolen refresh token never makes its
  holder look recently signed in.
* **Userinfo claims** follow the token's scopes (OIDC Core 5.4).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from authd.clock import Clock
from authd.core import amr, audit
from authd.core.audit import Auditor
from authd.core.models import ClientInfo, CookieSession, User
from authd.core.passwords import PasswordHasher
from authd.core.ports import CookieSessionStore, PasskeyAssertions, UserStore
from authd.core.ratelimit import BruteForceGuard
from authd.core.second_factors import SecondFactors
from authd.core.tokens import TokenService
from authd.errors import (
    InsufficientUserAuthentication,
    InvalidCredentials,
    InvalidRequest,
    Unauthenticated,
)

FULL_PROFILE_SCOPE = "openid profile email"


def check_account_audience(claims: Mapping[str, Any], issuer: str) -> None:
    """Unauthenticated unless the token was minted for authd itself (``aud`` is the issuer)."""
    audience = claims.get("aud")
    if audience != issuer and audience != [issuer]:
        raise Unauthenticated("this token is for another API; account endpoints need a token "
                              "whose audience is authd")


def check_user_token(claims: Mapping[str, Any]) -> None:
    """Unauthenticated unless a user's login stands behind the token (it names its ``sid``).

    Every token of a user grant carries the login's ``sid``; a client's own
    (``client_credentials``) token never does.
    """
    if not claims.get("sid"):
        raise Unauthenticated("this token was issued to a client, not a user; this endpoint "
                              "needs a user's token")


def require_recent_login(auth_time: float | None, now: float, max_age: int) -> None:
    """InsufficientUserAuthentication unless the user signed in within ``max_age`` seconds."""
    if auth_time is None or not 0 <= now - auth_time <= max_age:
        raise InsufficientUserAuthentication(
            max_age, "sign in again (POST /v1/reauth) to do this: the last login is too old")


def userinfo_claims(user: User, scope: str) -> dict[str, Any]:
    """``sub`` always; ``email``/``email_verified`` with scope email, ``name`` with profile."""
    scopes = set(scope.split())
    claims: dict[str, Any] = {"sub": user.id}
    if "email" in scopes:
        claims.update(email=user.email, email_verified=user.email_verified)
    if "profile" in scopes:
        claims["name"] = user.name
    return claims


class Reauthentication:
    """``POST /v1/reauth``: the password (or a TOTP code) again, through the login
    brute-force guard. The session's or family's ``amr`` becomes the re-login's."""

    def __init__(self, users: UserStore, hasher: PasswordHasher, guard: BruteForceGuard,
                 sessions: CookieSessionStore, tokens: TokenService, auditor: Auditor,
                 clock: Clock, *, factors: SecondFactors | None = None,
                 passkeys: PasskeyAssertions | None = None) -> None:
        self._factors = factors
        self._passkeys = passkeys
        self._users = users
        self._hasher = hasher
        self._guard = guard
        self._sessions = sessions
        self._tokens = tokens
        self._audit = auditor
        self._clock = clock

    async def for_session(self, session: CookieSession, password: object,
                          client: ClientInfo, *, otp: object = None,
                          credential: object = None) -> float:
        """Renew the cookie session's ``auth_time``; returns it."""
        methods = await self._check(session.user_id, password, otp, client, credential)
        now = self._clock.now()
        if not await self._sessions.renew_auth_time(session.id, now, methods):
            raise Unauthenticated("no valid session")
        await self._audit(audit.REAUTH, user_id=session.user_id, client=client, session=session.id)
        return now

    async def for_token(self, claims: dict[str, Any], password: object,
                        client: ClientInfo, *, otp: object = None,
                        credential: object = None) -> str:
        """Renew the token family's ``auth_time``; returns a fresh access token carrying it."""
        user_id = str(claims["sub"])
        methods = await self._check(user_id, password, otp, client, credential)
        token = await self._tokens.renew_auth_time(claims, methods)
        await self._audit(audit.REAUTH, user_id=user_id, client=client, sid=claims.get("sid"))
        return token

    async def _check(self, user_id: str, password: object, otp: object,
                     client: ClientInfo, credential: object = None) -> tuple[str, ...]:
        """The re-login's methods: a password (``pwd``), for a user with TOTP a code
        (``otp``, accepted once like at login), or one of the user's passkeys (``hwk``)."""
        if credential is not None and password is None and otp is None:
            passkeys = self._passkeys
            if passkeys is None:
                raise InvalidRequest("passkeys are not enabled")
            return await self._factor(user_id, client, "passkey",
                                      lambda uid: passkeys.verify_for_user(uid, credential, client),
                                      "the passkey could not be verified")
        if otp is None or password is not None or self._factors is None:
            await self._check_password(user_id, password, client)
            return (amr.PASSWORD,)
        factors = self._factors
        return await self._factor(user_id, client, "otp",
                                  lambda uid: factors.check_otp(uid, otp),
                                  "the code is wrong or was already used")

    async def _factor(self, user_id: str, client: ClientInfo, name: str,
                      check: Callable[[str], Awaitable[tuple[str, ...] | None]],
                      refusal: str) -> tuple[str, ...]:
        """One factor's check (its amr, or None when wrong) under the login's brute-force
        guard: a wrong answer keeps its reservation, anything else releases it."""
        user = await self._users.get_user(user_id)
        if user is None or user.disabled:
            raise Unauthenticated("the account is gone or disabled")
        attempt = await self._guard.reserve_login(user.email, client.ip or "unknown")
        try:
            accepted = await check(user.id)
        except Exception:
            await self._guard.release_login(attempt)  # malformed or a server failure: no guess
            raise
        if accepted is None:
            await self._audit(audit.LOGIN_FAILED, user_id=user.id, client=client, reauth=True,
                              factor=name)
            raise InvalidCredentials(refusal)
        await self._guard.release_login(attempt)
        return accepted

    async def _check_password(self, user_id: str, password: object, client: ClientInfo) -> None:
        """The same guard and counters as a login: re-login is no way around the lockout."""
        if not isinstance(password, str):
            raise InvalidRequest("password must be a string")
        user = await self._users.get_user(user_id)
        if user is None or user.disabled:
            raise Unauthenticated("the account is gone or disabled")
        if user.password_hash is None:
            raise InvalidRequest("this account has no password: sign in again with its provider")
        ip = client.ip or "unknown"
        attempt = await self._guard.reserve_login(user.email, ip)
        try:
            await self._hasher.verify(user.password_hash, password)
        except InvalidCredentials:
            await self._audit(audit.LOGIN_FAILED, user_id=user.id, client=client, reauth=True)
            raise InvalidCredentials("the password is wrong") from None
        except Exception:
            await self._guard.release_login(attempt)  # a server failure answered no guess
            raise
        await self._guard.release_login(attempt)
