"""Who is calling: a Bearer access token, or a session cookie.

Bearer requests carry their credential explicitly, so they are not subject
to CSRF. Cookie-authenticated unsafe requests must carry the session's
``X-CSRF-Token`` and come from an allowed origin (Origin / Sec-Fetch-Site).

Account endpoints (anything that reads or changes the account: identities,
password, sessions, re-login) use ``authenticate_account``, which also refuses
tokens minted for other APIs, and ``require_recent`` where an action
needs a recent sign-in; the rules themselves are in ``authd.core.account_access``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlsplit

from starlette.requests import Request

from authd.core.account_access import (
    check_account_audience,
    check_user_token,
    require_recent_login,
)
from authd.core.admin import Actor
from authd.core.clients import ADMIN_SCOPE
from authd.core.models import CookieSession, User
from authd.errors import CsrfFailed, InsufficientScope
from authd.http.cookies import cookie_name
from authd.http.requests import bearer_token, client_info
from authd.wiring import UseCases

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True, slots=True)
class Principal:
    user_id: str
    session_id: str | None
    kind: Literal["token", "cookie"]
    scope: str
    cookie_session: CookieSession | None = None
    user: User | None = None  # already loaded in cookie mode
    auth_time: float | None = None  # the login (or re-login) behind the session or token
    claims: dict[str, Any] | None = None  # token mode: the access token's claims


def services(request: Request) -> UseCases:
    """The use cases routes may call (no stores: routes only translate)."""
    found: UseCases = request.app.state.use_cases
    return found


async def authenticate(request: Request) -> Principal:
    """The caller; Unauthenticated (401 with WWW-Authenticate) when there is none.

    An Authorization header wins over a cookie: a request that names a token
    is judged by that token alone. A client's own (``client_credentials``)
    token has no user, so it is no caller here.
    """
    svc = services(request)
    cookie = request.cookies.get(cookie_name(svc.settings))
    if cookie is not None and "authorization" not in request.headers:
        return await authenticate_cookie(request, cookie)
    claims = svc.tokens.authenticate(bearer_token(request))
    check_user_token(claims)  # every caller of this is about a user: userinfo, the account
    auth_time = claims.get("auth_time")
    return Principal(user_id=str(claims["sub"]), session_id=claims.get("sid"), kind="token",
                     scope=str(claims.get("scope", "")), claims=claims,
                     auth_time=float(auth_time) if isinstance(auth_time, int | float) else None)


async def authenticate_account(request: Request) -> Principal:
    """``authenticate`` for account endpoints: a cookie session, or a token for authd itself.

    A token minted for another API gets 401 ``invalid_token`` (see
    ``authd.core.account_access`` for why not 403).
    """
    principal = await authenticate(request)
    if principal.claims is not None:
        check_account_audience(principal.claims, services(request).settings.issuer)
    return principal


def require_admin(request: Request) -> Actor:
    """The admin API's caller: a valid, unrevoked access token for authd carrying ``authd:admin``.

    No token or a bad one: 401 ``invalid_token``, as for a token minted for another
    API (its ``aud`` is not the issuer: it leaks with that API, see
    ``check_account_audience``); a valid token without the scope (a user's, or a
    client's that was not given it): 403 ``insufficient_scope`` naming the scope
    (RFC 6750 3.1). Only a client configured with the scope gets it
    (``client_credentials``); a user's grant never carries it. A cookie is never
    an admin credential, so the admin API needs no CSRF defence.
    """
    svc = services(request)
    claims = svc.tokens.authenticate(bearer_token(request))
    check_account_audience(claims, svc.settings.issuer)
    if ADMIN_SCOPE not in str(claims.get("scope", "")).split():
        raise InsufficientScope(ADMIN_SCOPE, f"this endpoint needs a token with scope {ADMIN_SCOPE}")
    return Actor(str(claims.get("client_id") or claims["sub"]), client_info(request))


def require_recent(request: Request, principal: Principal) -> None:
    """401 insufficient_user_authentication unless the caller signed in recently (RFC 9470)."""
    svc = services(request)
    require_recent_login(principal.auth_time, svc.clock.now(), svc.settings.sensitive_max_age)


async def authenticate_cookie(request: Request, cookie: str) -> Principal:
    svc = services(request)
    session, user = await svc.cookie_sessions.authenticate(cookie)
    if request.method not in SAFE_METHODS:
        check_origin(request, svc)
        svc.cookie_sessions.check_csrf(session, request.headers.get("x-csrf-token"))
    return Principal(user_id=user.id, session_id=session.id, kind="cookie",
                     scope=" ".join(svc.settings.default_scopes), cookie_session=session,
                     user=user,
                     auth_time=session.auth_time if session.auth_time is not None
                     else session.created_at)


def check_origin(request: Request, svc: UseCases) -> None:
    """Refuse cross-site unsafe requests from origins that are not on the allow-list."""
    origin = request.headers.get("origin")
    allowed = {_origin_of(svc.settings.issuer), *svc.settings.cors_origins}
    if origin is not None and origin not in allowed:
        raise CsrfFailed("cross-origin request from an origin that is not allowed")
    if origin is None and request.headers.get("sec-fetch-site") == "cross-site":
        raise CsrfFailed("cross-site request without an allowed origin")


def _origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"
