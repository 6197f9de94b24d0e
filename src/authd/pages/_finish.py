"""The end of every sign-in through the pages: one place, so every first factor ends alike.

A first factor (password, mailed code or link, and later passkeys) proves
who the person is and hands the user to ``first_factor_done``. That is where
a second factor slots in: when the account has one, the core's gate parks
the login and the browser goes to ``/mfa`` with the waiting sign-in in a
sealed cookie (``_waiting``) instead of a session; ``/mfa`` finishes it with
``complete_sign_in`` like any other, with the amr of both steps.

Completing in session mode always mints a new session
(``CookieSessionService.start`` never adopts a presented id) and ends the one
the browser had, so a session id planted before the login is worth nothing
after it (no session fixation). Token mode hands the app a one-time code and
leaves authd's own session, if any, as it was.
"""

from __future__ import annotations

from starlette.responses import Response

from authd.core.models import User
from authd.core.second_step import Binding
from authd.errors import MfaRequired
from authd.http.cookies import set_session_cookie
from authd.http.requests import client_info
from authd.pages import _waiting
from authd.pages._handoff import Handoff, token_mode_target
from authd.pages._render import Visit


async def first_factor_done(visit: Visit, user: User, handoff: Handoff,
                            methods: tuple[str, ...]) -> Response:
    """The person proved a first factor (``methods``, RFC 8176): signed in, or, for a user
    with a second factor, sent to /mfa with the parked login (never signed in yet)."""
    try:
        await visit.svc.second_step.gate(user, Binding.for_session(methods))
    except MfaRequired as exc:
        _waiting.parked(visit, exc, handoff)
        return visit.redirect(_waiting.PATH, status=303)
    return await complete_sign_in(visit, user, handoff, methods)


async def complete_sign_in(visit: Visit, user: User, handoff: Handoff,
                           methods: tuple[str, ...]) -> Response:
    """Session mode: a new session with ``methods`` as its amr; token mode: a one-time code."""
    svc = visit.svc
    if handoff.mode == "token":  # the app gets a code; authd's own session is left as it was
        return visit.redirect(await token_mode_target(svc, handoff, user, methods), status=302)
    previous = await visit.signed_in()
    if previous is not None:
        await svc.cookie_sessions.end(previous[0], client_info(visit.request))
    started = await svc.cookie_sessions.start(user, client_info(visit.request), amr=methods)
    response = visit.redirect(handoff.return_to or "/account", status=302)
    set_session_cookie(response, svc.settings, started.cookie_value)
    return response
