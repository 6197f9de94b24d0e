"""Mailed link tokens leave the address bar on first load.

``/reset-password?token=…`` (and the verify, confirm and sign-in links) is
answered with a redirect to the same path *without* the token, which is kept
for 15 minutes in an HttpOnly cookie scoped to that one path. The token so
never stays in the history, the address bar or a ``Referer`` sent to a
third party (and every page says ``Referrer-Policy: no-referrer`` anyway).
Nothing is spent on that GET: mail scanners that open links use up nothing;
the person's own button press (a POST) redeems it.
"""

from __future__ import annotations

import re

from starlette.responses import Response

from authd.pages._render import Visit
from authd.pages._security import MAIL_TOKEN_COOKIE, MAIL_TOKEN_MAX_AGE, cookie_name, set_cookie

_TOKEN = re.compile(r"^[A-Za-z0-9_-]{16,128}$")


def take_from_url(visit: Visit) -> Response | None:
    """A redirect that moves ``?token=`` into the page's cookie; None when there is no token."""
    token = visit.request.query_params.get("token")
    if token is None:
        return None
    path = visit.request.scope["path"]
    response = visit.redirect(path, status=303)
    if _TOKEN.match(token):
        set_cookie(response, visit.svc.settings, MAIL_TOKEN_COOKIE, token,
                   max_age=MAIL_TOKEN_MAX_AGE, path=path)
    return response


def held(visit: Visit) -> str | None:
    """The token this page holds for the visitor, if any."""
    name = cookie_name(visit.svc.settings, MAIL_TOKEN_COOKIE, host_only=False)
    return visit.request.cookies.get(name)


def forget(visit: Visit) -> None:
    """Clear the page's token cookie with the next answer (it is single-use anyway)."""
    visit.cookies_to_clear.append((MAIL_TOKEN_COOKIE, visit.request.scope["path"]))
