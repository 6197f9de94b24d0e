"""The sign-in pages: /, /login, /signup, /sign-in (mailed code or link), /logout."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from authd.core import amr
from authd.errors import AuthdError
from authd.http.cookies import clear_session_cookie
from authd.http.requests import client_info, read_params
from authd.pages import _mailtoken
from authd.pages._finish import first_factor_done
from authd.pages._handoff import Handoff, read_handoff, social_start
from authd.pages._render import Visit, page


def _sign_in_context(visit: Visit, handoff: Handoff) -> dict[str, Any]:
    buttons = [(name, social_start(visit.svc, name, handoff)) for name in visit.svc.providers]
    return {"handoff": handoff.fields(), "handoff_query": handoff.query(),
            "csrf": visit.form_token(), "providers": buttons}


def _refused(visit: Visit, template: str, handoff: Handoff, exc: AuthdError, field: str,
             values: dict[str, str]) -> Response:
    """The form again, with the API's answer as an error linked to the field."""
    return visit.refused(template, exc, field, values=values, **_sign_in_context(visit, handoff))


@page
async def home(visit: Visit) -> Response:
    signed_in = await visit.signed_in()
    return visit.render("home.html", user=signed_in[1] if signed_in else None)


@page
async def login(visit: Visit) -> Response:
    request = visit.request
    if request.method == "GET":
        handoff = read_handoff(request.query_params, visit.svc)
        return visit.render("login.html", cache=True, **_sign_in_context(visit, handoff))
    params = await visit.read_form()
    handoff = read_handoff(params, visit.svc)
    if "credential" in params:
        return await _passkey_login(visit, params, handoff)
    values = {"email": params.get("email", "")}
    try:
        user = await visit.svc.accounts.authenticate(params.get("email"), params.get("password"),
                                                     client_info(request))
    except AuthdError as exc:
        return _refused(visit, "login.html", handoff, exc, "password", values)
    return await first_factor_done(visit, user, handoff, (amr.PASSWORD,))


async def _passkey_login(visit: Visit, params: dict[str, str], handoff: Handoff) -> Response:
    """The passkey form of /login (posted by passkeys.js): a whole login, like /v1/session's."""
    try:
        signed_in = await visit.svc.passkeys.sign_in(params.get("challenge_id"),
                                                     params.get("credential"),
                                                     client_info(visit.request))
    except AuthdError as exc:
        if exc.status >= 500:
            raise
        message = visit.gettext("That passkey did not sign you in. Try again, or use your "
                                "password.")
        return visit.render("login.html", status=exc.status, errors=[("", message)],
                            **_sign_in_context(visit, handoff))
    return await first_factor_done(visit, signed_in.user, handoff,
                                   (amr.HARDWARE_KEY, amr.USER_PRESENCE))


@page
async def signup(visit: Visit) -> Response:
    request, svc = visit.request, visit.svc
    if request.method == "GET":
        handoff = read_handoff(request.query_params, svc)
        return visit.render("signup.html", cache=True, **_sign_in_context(visit, handoff))
    params = await visit.read_form()
    handoff = read_handoff(params, svc)
    values = {"email": params.get("email", ""), "name": params.get("name", "")}
    try:
        user = await svc.accounts.sign_up(params.get("email"), params.get("password"),
                                          params.get("name") or None, client_info(request),
                                          visit.lang)
    except AuthdError as exc:
        field = "password" if "password" in exc.description else "email"
        return _refused(visit, "signup.html", handoff, exc, field, values)
    if svc.settings.require_verified_email:
        return visit.render("message.html", title=visit.gettext("Check your email"),
                            notice=visit.gettext("We sent you a link to verify your address."))
    return await first_factor_done(visit, user, handoff, (amr.PASSWORD,))


@page
async def sign_in(visit: Visit) -> Response:
    """A mailed code (two steps: the address, then the code) or a mailed link (one button)."""
    request = visit.request
    if request.method == "GET":
        moved = _mailtoken.take_from_url(visit)
        if moved is not None:
            return moved
        handoff = read_handoff(request.query_params, visit.svc)
        step = "link" if _mailtoken.held(visit) else "email"
        return visit.render("sign_in.html", cache=True, step=step,
                            **_sign_in_context(visit, handoff))
    params = await visit.read_form()
    handoff = read_handoff(params, visit.svc)
    step = params.get("step", "email")
    if step == "email":
        return await _mail_a_code(visit, params, handoff)
    return await _redeem(visit, params, handoff, step)


async def _mail_a_code(visit: Visit, params: dict[str, str], handoff: Handoff) -> Response:
    email_flows = visit.svc.email
    assert email_flows is not None
    values = {"email": params.get("email", "")}
    try:
        await email_flows.start_sign_in(params.get("email"), visit.lang, client_info(visit.request))
    except AuthdError as exc:
        return _refused(visit, "sign_in.html", handoff, exc, "email", values)
    return visit.render("sign_in.html", step="code", values=values,
                        notice=visit.gettext("If this address can sign in, we mailed it a code "
                                             "and a link."), **_sign_in_context(visit, handoff))


async def _redeem(visit: Visit, params: dict[str, str], handoff: Handoff, step: str) -> Response:
    email_flows = visit.svc.email
    assert email_flows is not None
    who = client_info(visit.request)
    values = {"email": params.get("email", "")}
    try:
        if step == "link":
            user = await email_flows.sign_in_with_token(_mailtoken.held(visit), who)
            _mailtoken.forget(visit)
        else:
            user = await email_flows.sign_in_with_code(params.get("email"), params.get("code"), who)
    except AuthdError as exc:
        if step == "link":
            _mailtoken.forget(visit)
        return visit.refused("sign_in.html", exc, "code" if step == "code" else "email",
                             step="code" if step == "code" else "email", values=values,
                             **_sign_in_context(visit, handoff))
    return await first_factor_done(visit, user, handoff, (amr.EMAIL,))


@page
async def logout(visit: Visit) -> Response:
    signed_in = await visit.signed_in()
    if visit.request.method == "GET":
        if signed_in is None:
            return visit.redirect("/login")
        csrf = visit.svc.cookie_sessions.csrf_token(signed_in[0])
        return visit.render("logout.html", csrf=csrf)
    params = await read_params(visit.request, visit.svc.settings.max_body_bytes)
    if signed_in is not None:
        visit.check_session_form(signed_in[0], params)
        await visit.svc.cookie_sessions.end(signed_in[0], client_info(visit.request))
    response = visit.redirect("/login")
    clear_session_cookie(response, visit.svc.settings)
    return response
