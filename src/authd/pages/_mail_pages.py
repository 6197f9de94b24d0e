"""Pages that mailed links open: /forgot-password, /reset-password, /verify-email, /confirm-email.

Each link's token is moved out of the URL on first load (``_mailtoken``) and
redeemed by the person's button press; the answers are the API's, so asking
for a reset link says nothing about whether the address has an account.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from authd.core.email_flows import EmailAccounts
from authd.errors import AuthdError, InvalidEmailToken
from authd.http.requests import client_info
from authd.pages import _mailtoken
from authd.pages._render import Visit, page


def _flows(visit: Visit) -> EmailAccounts:
    found = visit.svc.email
    assert found is not None  # build_services always sets it
    return found


def _done(visit: Visit, title: str, notice: str, next_url: str | None = "/login") -> Response:
    return visit.render("message.html", title=title, notice=notice, next_url=next_url)


def _failed(visit: Visit, template: str, exc: AuthdError, field: str, **context: Any) -> Response:
    return visit.refused(template, exc, field, csrf=visit.form_token(), **context)


@page
async def forgot_password(visit: Visit) -> Response:
    if visit.request.method == "GET":
        return visit.render("forgot.html", cache=True, csrf=visit.form_token())
    params = await visit.read_form()
    try:
        await _flows(visit).forgot_password(params.get("email"), visit.lang,
                                            client_info(visit.request))
    except AuthdError as exc:
        return _failed(visit, "forgot.html", exc, "email", values={"email": params.get("email", "")})
    _ = visit.gettext
    return _done(visit, _("Check your email"),
                 _("If an account uses this address, we mailed it a link to choose a new "
                   "password. The link works for 30 minutes."), None)


@page
async def reset_password(visit: Visit) -> Response:
    moved = _mailtoken.take_from_url(visit) if visit.request.method == "GET" else None
    if moved is not None:
        return moved
    token = _mailtoken.held(visit)
    _ = visit.gettext
    if token is None:
        return _done(visit, _("Open the link from your email"),
                     _("This page needs the link we mailed you. Ask for a new one if it expired."),
                     "/forgot-password")
    if visit.request.method == "GET":
        return visit.render("reset.html", csrf=visit.form_token())
    params = await visit.read_form()
    try:
        await _flows(visit).reset_password(token, params.get("new_password"),
                                           client_info(visit.request))
    except AuthdError as exc:
        if isinstance(exc, InvalidEmailToken):  # a weak password may be fixed: keep the token
            _mailtoken.forget(visit)
        return _failed(visit, "reset.html", exc, "new_password")
    _mailtoken.forget(visit)
    return _done(visit, _("Password changed"),
                 _("Your new password is set and every other session has ended. Sign in with it."))


async def _redeem_page(visit: Visit, template: str) -> tuple[str | None, Response | None]:
    """The shared steps of a one-button page: move the token, or show the button."""
    moved = _mailtoken.take_from_url(visit) if visit.request.method == "GET" else None
    if moved is not None:
        return None, moved
    token = _mailtoken.held(visit)
    _ = visit.gettext
    if token is None:
        return None, _done(visit, _("Open the link from your email"),
                           _("This page needs the link we mailed you."), "/account")
    if visit.request.method == "GET":
        return None, visit.render(template, csrf=visit.form_token())
    await visit.read_form()
    _mailtoken.forget(visit)
    return token, None


@page
async def verify_email(visit: Visit) -> Response:
    token, answer = await _redeem_page(visit, "verify.html")
    if answer is not None:
        return answer
    try:
        await _flows(visit).verify(token, client_info(visit.request))
    except AuthdError as exc:
        return _failed(visit, "message.html", exc, "", title=visit.gettext("Verify your email"),
                       next_url="/account")
    _ = visit.gettext
    return _done(visit, _("Email verified"), _("Thank you: your email address is verified."),
                 "/account")


@page
async def confirm_email(visit: Visit) -> Response:
    token, answer = await _redeem_page(visit, "confirm.html")
    if answer is not None:
        return answer
    try:
        user = await _flows(visit).confirm_email(token, client_info(visit.request))
    except AuthdError as exc:
        return _failed(visit, "message.html", exc, "", title=visit.gettext("Confirm your new email"),
                       next_url="/account")
    _ = visit.gettext
    return _done(visit, _("Email changed"),
                 _("Your account now uses %(email)s.", email=user.email), "/account")
