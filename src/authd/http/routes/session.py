"""Cookie mode: POST/GET/DELETE /v1/session, its second step (POST /v1/session/mfa), and
password change for either mode."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from authd.core import amr, password_change
from authd.core.models import CookieSession, User
from authd.core.second_step import Binding, Proof
from authd.core.sessions import StartedSession
from authd.errors import Unauthenticated
from authd.http.auth import (
    authenticate_account,
    authenticate_cookie,
    check_origin,
    require_recent,
    services,
)
from authd.http.cookies import clear_session_cookie, cookie_name, set_session_cookie
from authd.http.requests import client_info, read_json
from authd.http.responses import NO_STORE, json_response
from authd.http.routes.email import sign_in_by_email
from authd.wiring import UseCases


def _user_json(user: User) -> dict[str, Any]:
    return {"id": user.id, "email": user.email, "email_verified": user.email_verified,
            "name": user.name}


def _session_json(session: CookieSession) -> dict[str, Any]:
    return {"id": session.id, "created_at": int(session.created_at),
            "last_used_at": int(session.last_used_at),
            "expires_at": int(min(session.idle_expires_at, session.absolute_expires_at)),
            "auth_time": int(session.auth_time if session.auth_time is not None
                             else session.created_at),
            "amr": list(session.amr)}


async def login(request: Request) -> Response:
    svc = services(request)
    check_origin(request, svc)  # no login CSRF from foreign origins
    body = await read_json(request, svc.settings.max_body_bytes)
    who = client_info(request)
    if "credential" in body:  # a passkey assertion with user verification: a whole login
        user = (await svc.passkeys.sign_in(body.get("challenge_id"), body.get("credential"),
                                           who)).user
        methods: tuple[str, ...] = (amr.HARDWARE_KEY, amr.USER_PRESENCE)
    elif "code" in body or "token" in body:  # a mailed sign-in code or link
        user = await sign_in_by_email(request, body.get("email"), body.get("code"), body.get("token"))
        methods = (amr.EMAIL,)
    else:
        user = await svc.accounts.authenticate(body.get("email"), body.get("password"), who)
        methods = (amr.PASSWORD,)
    if amr.USER_PRESENCE not in methods:  # a passkey with user verification is two factors
        await svc.second_step.gate(user, Binding.for_session(methods))  # 401 mfa_required
    return _signed_in(svc, user, await svc.cookie_sessions.start(user, who, amr=methods))


async def finish_second_step(request: Request) -> Response:
    """The second step of a cookie login: the mfa_token and one factor; the cookie on success."""
    svc = services(request)
    check_origin(request, svc)
    body = await read_json(request, svc.settings.max_body_bytes)
    who = client_info(request)
    proof = Proof(otp=body.get("otp"), recovery_code=body.get("recovery_code"),
                  credential=body.get("credential"))
    done = await svc.second_step.complete(body.get("mfa_token"), proof, "session", None, who)
    return _signed_in(svc, done.user, await svc.cookie_sessions.start(done.user, who,
                                                                      amr=done.amr))


def _signed_in(svc: UseCases, user: User, started: StartedSession) -> Response:
    response = json_response({"user": _user_json(user),
                              "csrf_token": svc.cookie_sessions.csrf_token(started.session)},
                             headers=NO_STORE)
    set_session_cookie(response, svc.settings, started.cookie_value)
    return response


async def current(request: Request) -> Response:
    svc = services(request)
    cookie = request.cookies.get(cookie_name(svc.settings))
    if cookie is None:
        raise Unauthenticated("no session")
    session, user = await svc.cookie_sessions.authenticate(cookie)
    return json_response({"session": _session_json(session), "user": _user_json(user),
                          "csrf_token": svc.cookie_sessions.csrf_token(session)},
                         headers=NO_STORE)


async def logout(request: Request) -> Response:
    svc = services(request)
    cookie = request.cookies.get(cookie_name(svc.settings))
    if cookie is None:
        raise Unauthenticated("no session")
    principal = await authenticate_cookie(request, cookie)
    assert principal.cookie_session is not None
    await svc.cookie_sessions.end(principal.cookie_session, client_info(request))
    response = Response(status_code=204, headers=NO_STORE)
    clear_session_cookie(response, svc.settings)
    return response


async def change_password(request: Request) -> Response:
    """Either mode, after a recent sign-in; every other session and refresh family of the user ends."""
    svc = services(request)
    principal = await authenticate_account(request)
    require_recent(request, principal)
    body = await read_json(request, svc.settings.max_body_bytes)
    who = client_info(request)
    await password_change.change_password(
        svc.accounts, svc.directory, principal.user_id, body.get("current_password"),
        body.get("new_password"), who, keep_session=principal.session_id)
    return Response(status_code=204, headers=NO_STORE)
