"""Second factors of the signed-in user: TOTP enrolment and removal, recovery codes, status.

Enrolling, removing and renewing recovery codes need a recent sign-in (RFC
9470 answer otherwise); reading the status does not. The QR code is drawn
here (an SVG of the ``otpauth://`` URI): it is presentation, not a rule.
"""

from __future__ import annotations

import io

import segno
from starlette.requests import Request
from starlette.responses import Response

from authd.http.auth import authenticate_account, require_recent, services
from authd.http.requests import client_info, read_json
from authd.http.responses import NO_STORE, json_response


def qr_svg(uri: str) -> str:
    """The URI as a scalable QR code (error correction M, as authenticator apps expect)."""
    out = io.BytesIO()
    segno.make(uri, error="m", micro=False).save(out, kind="svg", scale=4, xmldecl=False,
                                                 svgns=True, nl=False)
    return out.getvalue().decode()


async def status(request: Request) -> Response:
    principal = await authenticate_account(request)
    found = await services(request).second_factors.status(principal.user_id)
    return json_response(found.as_json(), headers=NO_STORE)


async def begin_totp(request: Request) -> Response:
    principal = await authenticate_account(request)
    require_recent(request, principal)
    enrolment = await services(request).second_factors.begin_totp(principal.user_id)
    return json_response({"secret": enrolment.secret, "otpauth_uri": enrolment.otpauth_uri,
                          "qr_svg": qr_svg(enrolment.otpauth_uri)}, headers=NO_STORE)


async def confirm_totp(request: Request) -> Response:
    principal = await authenticate_account(request)
    require_recent(request, principal)
    svc = services(request)
    body = await read_json(request, svc.settings.max_body_bytes)
    codes = await svc.second_factors.confirm_totp(principal.user_id, body.get("code"),
                                                  client_info(request))
    return json_response({"recovery_codes": codes}, headers=NO_STORE)


async def disable_totp(request: Request) -> Response:
    principal = await authenticate_account(request)
    require_recent(request, principal)
    await services(request).second_factors.disable_totp(principal.user_id, client_info(request))
    return Response(status_code=204, headers=NO_STORE)


async def regenerate_recovery_codes(request: Request) -> Response:
    principal = await authenticate_account(request)
    require_recent(request, principal)
    codes = await services(request).second_factors.regenerate_recovery_codes(
        principal.user_id, client_info(request))
    return json_response({"recovery_codes": codes}, headers=NO_STORE)
