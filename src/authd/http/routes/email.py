"""Accounts by email: verification, password reset, email change and sign-in codes.

Thin: each handler reads the body, calls one use case of
``authd.core.email_flows`` and answers. Requests that name an address answer
202 ``{}`` whatever happened to it, so the answer never says whether an
account exists.
"""

from __future__ import annotations

import re

from starlette.requests import Request
from starlette.responses import Response

from authd.core.email_flows import EmailAccounts
from authd.core.models import User
from authd.http.auth import authenticate_account, check_origin, require_recent, services
from authd.http.requests import client_info, read_json
from authd.http.responses import NO_STORE, json_response

_TAG = re.compile(r"^[a-z]{2,3}(?:-[a-z0-9]{1,8}){0,3}$")
MAX_ACCEPT_LANGUAGE = 512


def email_accounts(request: Request) -> EmailAccounts:
    found = services(request).email
    assert found is not None  # build_services always sets it
    return found


def request_locale(request: Request) -> str | None:
    """The preferred language of ``Accept-Language`` (highest q, first on ties), or None."""
    header = request.headers.get("accept-language", "")[:MAX_ACCEPT_LANGUAGE]
    best: tuple[float, str] | None = None
    for entry in header.split(","):
        tag, _, params = entry.strip().lower().partition(";")
        tag = tag.strip()
        weight = 1.0
        if params.strip().startswith("q="):
            try:
                weight = float(params.strip()[2:])
            except ValueError:
                continue
        if _TAG.match(tag) and weight > 0 and (best is None or weight > best[0]):
            best = (weight, tag)
    return best[1] if best else None


async def _body(request: Request) -> dict[str, object]:
    svc = services(request)
    check_origin(request, svc)  # no cross-site requests that mail someone
    return await read_json(request, svc.settings.max_body_bytes)


def _accepted() -> Response:
    return json_response({}, status=202, headers=NO_STORE)


async def verify(request: Request) -> Response:
    body = await _body(request)
    await email_accounts(request).verify(body.get("token"), client_info(request))
    return json_response({"email_verified": True}, headers=NO_STORE)


async def resend_verification(request: Request) -> Response:
    principal = await authenticate_account(request)
    await email_accounts(request).resend_verification(principal.user_id, request_locale(request),
                                                      client_info(request))
    return _accepted()


async def forgot_password(request: Request) -> Response:
    body = await _body(request)
    await email_accounts(request).forgot_password(body.get("email"), request_locale(request),
                                                  client_info(request))
    return _accepted()


async def reset_password(request: Request) -> Response:
    body = await _body(request)
    await email_accounts(request).reset_password(body.get("token"), body.get("new_password"),
                                                 client_info(request))
    return json_response({}, headers=NO_STORE)


async def change_email(request: Request) -> Response:
    principal = await authenticate_account(request)
    require_recent(request, principal)
    body = await read_json(request, services(request).settings.max_body_bytes)
    await email_accounts(request).change_email(principal.user_id, body.get("new_email"),
                                               request_locale(request), client_info(request))
    return _accepted()


async def confirm_email(request: Request) -> Response:
    body = await _body(request)
    user = await email_accounts(request).confirm_email(body.get("token"), client_info(request))
    return json_response({"email": user.email, "email_verified": user.email_verified},
                         headers=NO_STORE)


async def start_sign_in(request: Request) -> Response:
    body = await _body(request)
    await email_accounts(request).start_sign_in(body.get("email"), request_locale(request),
                                                client_info(request))
    return _accepted()


async def sign_in_by_email(request: Request, email: object, code: object, token: object) -> User:
    """The user a mailed sign-in code (with its address) or sign-in link token proves."""
    flows, who = email_accounts(request), client_info(request)
    if token is not None:
        return await flows.sign_in_with_token(token, who)
    return await flows.sign_in_with_code(email, code, who)
