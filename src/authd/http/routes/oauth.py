"""Social login: GET /v1/oauth/{provider}/authorize and /v1/oauth/{provider}/callback.

Only translation happens here: the checks are in ``authd.oauth`` (protocol),
the callback's orchestration in ``authd.core.social_callback`` (which answers
what happened: signed in, code issued, linked or refused), the account rules
and one-time codes in ``authd.core.social``. Once a callback's state
is valid, every failure sends the user back to ``redirect_to`` with
``error``/``error_description`` (RFC 6749 4.1.2.1), never to an authd error
page; before that, nothing is known to be safe to redirect to, so the answer
is a plain 400.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast
from urllib.parse import urlencode, urlsplit, urlunsplit

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from authd.core.social import check_app_challenge
from authd.core.social_callback import (
    CallbackOutcome,
    CodeIssued,
    Linked,
    SecondFactorNeeded,
    SignedIn,
)
from authd.core.social_models import PENDING_TTL, Mode
from authd.errors import InvalidRequest, NotFound, SocialLoginError, Unauthenticated
from authd.http.auth import services
from authd.http.cookies import (
    binding_cookie_name,
    clear_binding_cookie,
    cookie_name,
    set_binding_cookie,
    set_session_cookie,
)
from authd.http.requests import client_info, read_query
from authd.oauth.redirects import check_redirect_to
from authd.oauth.request import authorize_url
from authd.wiring import UseCases

if TYPE_CHECKING:  # the driver (httpx) is loaded only when a provider is configured
    from authd.oauth.driver import ProviderClient

REDIRECT_HEADERS = {"Cache-Control": "no-store", "Pragma": "no-cache", "Referrer-Policy": "no-referrer"}


def _provider(svc: UseCases, request: Request) -> ProviderClient:
    provider = svc.providers.get(request.path_params["provider"])
    if provider is None:
        raise NotFound("no such login provider")
    return provider


async def authorize(request: Request) -> Response:
    svc = services(request)
    provider = _provider(svc, request)
    params = read_query(request)
    if "link_ticket" in params:
        return await _authorize_link(svc, request, provider, params["link_ticket"])
    redirect_to = check_redirect_to(params.get("redirect_to", ""), svc.settings.redirect_targets)
    mode = params.get("mode", "session")
    if mode not in ("session", "token"):
        raise InvalidRequest("mode must be session or token")
    client_id = svc.clients.known(params.get("client_id"))
    challenge = check_app_challenge(params.get("code_challenge"), params.get("code_challenge_method"))
    await svc.guard.check_social_start(client_info(request).ip or "unknown")
    return await _send_to_provider(svc, provider, redirect_to, cast(Mode, mode),
                                   client_id=client_id, app_challenge=challenge)


async def _authorize_link(svc: UseCases, request: Request, provider: ProviderClient,
                          ticket: str) -> Response:
    """Linking, step two: the ticket names the signed-in user; this browser gets the binding."""
    link = await svc.identity_links.take(ticket, provider.name)
    if link.session_id is not None and await _session_id(svc, request) != link.session_id:
        raise InvalidRequest("open the link in the browser that asked for it, signed in")
    # A Bearer caller's ticket carries its verifier's challenge: the callback then holds the
    # link for the app instead of linking (authd.core.identities).
    return await _send_to_provider(svc, provider, link.redirect_to, "link", user_id=link.user_id,
                                   app_challenge=link.challenge)


async def _session_id(svc: UseCases, request: Request) -> str | None:
    try:
        session, _ = await svc.cookie_sessions.authenticate(
            request.cookies.get(cookie_name(svc.settings), ""))
    except Unauthenticated:
        return None
    return session.id


async def _send_to_provider(svc: UseCases, provider: ProviderClient, redirect_to: str, mode: Mode,
                            *, client_id: str | None = None, app_challenge: str | None = None,
                            user_id: str | None = None) -> Response:
    try:
        metadata = await provider.metadata()
    except SocialLoginError as exc:
        return _back_to_app(svc, redirect_to, exc)
    pending = await svc.social.begin(provider.name, redirect_to, mode, client_id=client_id,
                                     app_challenge=app_challenge, user_id=user_id)
    location = authorize_url(metadata.authorization_endpoint, client_id=provider.config.client_id,
                             redirect_uri=provider.redirect_uri,
                             scopes=provider.scopes, pending=pending,
                             oidc=metadata.kind == "oidc", hosted_domain=metadata.hosted_domain)
    response = RedirectResponse(location, status_code=302, headers=REDIRECT_HEADERS)
    set_binding_cookie(response, svc.settings, pending.browser_binding, int(PENDING_TTL))
    return response


async def callback(request: Request) -> Response:
    svc = services(request)
    provider = _provider(svc, request)
    outcome = await svc.social_callback.complete(
        provider, read_query(request), request.cookies.get(binding_cookie_name(svc.settings)),
        client_info(request))
    return _answer(svc, outcome)


def _answer(svc: UseCases, outcome: CallbackOutcome) -> Response:
    """What happened, as the browser's next stop (and its session cookie, if one was started)."""
    if isinstance(outcome, SignedIn):
        response = _redirect(svc, outcome.redirect_to)
        set_session_cookie(response, svc.settings, outcome.session.cookie_value)
        return response
    if isinstance(outcome, CodeIssued):
        return _redirect(svc, _with_params(outcome.redirect_to, {"code": outcome.code}))
    if isinstance(outcome, SecondFactorNeeded):  # in the fragment: never sent on, never logged
        fragment = urlencode({"error": "mfa_required", "mfa_token": outcome.mfa_token,
                              "factors": " ".join(outcome.factors)})
        return _redirect(svc, urlunsplit(urlsplit(outcome.redirect_to)._replace(
            fragment=fragment)))
    if isinstance(outcome, Linked):
        if outcome.link_code is None:
            return _redirect(svc, outcome.redirect_to)
        return _redirect(svc, _with_params(outcome.redirect_to, {"link_code": outcome.link_code}))
    return _back_to_app(svc, outcome.redirect_to, outcome.error)


def _back_to_app(svc: UseCases, redirect_to: str, exc: SocialLoginError) -> Response:
    return _redirect(svc, _with_params(redirect_to, {"error": exc.code,
                                                     "error_description": exc.description}))


def _redirect(svc: UseCases, location: str) -> Response:
    response = RedirectResponse(location, status_code=302, headers=REDIRECT_HEADERS)
    clear_binding_cookie(response, svc.settings)
    return response


def _with_params(url: str, params: dict[str, str]) -> str:
    """``url`` with ``params`` added to its query (the app's own parameters are kept)."""
    parts = urlsplit(url)
    extra = urlencode(params)
    query = f"{parts.query}&{extra}" if parts.query else extra
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))
