"""/mfa: the second step of a sign-in through the pages (a TOTP code, a recovery code, or with
JavaScript a passkey).

The first factor left a waiting sign-in in a sealed cookie (``_waiting``);
the form posts one code, which the core's second step checks
(``SecondStep.complete`` in session mode: the login parked by the page).
Right: the sign-in ends like a one-step one (``complete_sign_in``) with the
amr of both steps. Wrong: the page again with the reason; after five wrong
tries the waiting sign-in is dropped and the person starts again (the core
refuses a sixth try on that token anyway). No waiting sign-in (none, expired,
altered, another browser's): a page that says so and links to /login.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from authd.core.second_step import Proof
from authd.errors import AuthdError, InvalidCredentials
from authd.http.requests import client_info
from authd.pages import _waiting
from authd.pages._finish import complete_sign_in
from authd.pages._render import Visit, page, with_query
from authd.pages._waiting import Waiting

METHODS = ("otp", "recovery_code", "passkey")


def _context(visit: Visit, waiting: Waiting, method: str) -> dict[str, Any]:
    return {"csrf": visit.form_token(), "method": method, "factors": waiting.factors,
            "tries_left": _waiting.MAX_TRIES - waiting.tries, "expired": False,
            "login_url": with_query("/login", waiting.handoff.fields())}


def _expired(visit: Visit, reason: str) -> Response:
    """No sign-in is waiting (or it was given up): say so, and where to start again."""
    _waiting.forget(visit)
    return visit.render("mfa.html", status=400, expired=True, notice=None,
                        errors=[("", reason)], login_url="/login")


@page
async def mfa(visit: Visit) -> Response:
    waiting = _waiting.held(visit)
    _ = visit.gettext
    if waiting is None:
        if visit.request.method == "POST":
            await visit.read_form()  # a missing token is the CSRF answer, not this one
        return _expired(visit, _("No sign-in is waiting for a second step, or it expired. "
                                 "Sign in again."))
    if visit.request.method == "GET":
        method = visit.request.query_params.get("method", "otp")
        return visit.render("mfa.html", **_context(
            visit, waiting, method if method in ("otp", "recovery_code") else "otp"))
    params = await visit.read_form()
    method = params.get("method", "otp")
    if method not in METHODS:
        method = "otp"
    proof = _proof(method, params)
    try:
        done = await visit.svc.second_step.complete(waiting.mfa_token, proof, "session", None,
                                                    client_info(visit.request))
    except InvalidCredentials:
        return _wrong(visit, waiting.tried(), method)
    except AuthdError as exc:
        shown = "otp" if method == "passkey" else method
        return visit.refused("mfa.html", exc, "code", **_context(visit, waiting, shown))
    _waiting.forget(visit)
    return await complete_sign_in(visit, done.user, waiting.handoff, done.amr)


def _proof(method: str, params: dict[str, str]) -> Proof:
    if method == "passkey":
        return Proof(credential=params.get("credential", ""))
    if method == "recovery_code":
        return Proof(recovery_code=params.get("code", ""))
    return Proof(otp=params.get("code", ""))


def _wrong(visit: Visit, waiting: Waiting, method: str) -> Response:
    _ = visit.gettext
    if waiting.tries >= _waiting.MAX_TRIES:
        return _expired(visit, _("Too many wrong codes. Sign in again to get new tries."))
    _waiting.park(visit, waiting)
    if method == "passkey":
        error = ("", _("That passkey did not confirm it is you. Try again, or use a code."))
        method = "otp"
    else:
        error = ("code", _("That code is wrong or was already used. Try again."))
    return visit.render("mfa.html", status=401, errors=[error],
                        **_context(visit, waiting, method))
