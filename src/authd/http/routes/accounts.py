"""POST /v1/users: sign-up.

Sign-up is refused from foreign origins and accepts JSON only, so that pages
on other sites cannot make their visitors' browsers create accounts: sign-up
spam spread over many addresses (past the per-IP limit), or accounts
pre-registered with an attacker's password from the visitor's own address.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from authd.http.auth import check_origin, services
from authd.http.requests import client_info, read_json_only
from authd.http.responses import json_response
from authd.http.routes.email import request_locale


async def create_user(request: Request) -> Response:
    svc = services(request)
    check_origin(request, svc)  # no cross-site sign-up (login CSRF's cousin)
    body = await read_json_only(request, svc.settings.max_body_bytes)
    user = await svc.accounts.sign_up(body.get("email"), body.get("password"), body.get("name"),
                                      client_info(request),
                                      body.get("locale") or request_locale(request))
    return json_response(
        {"id": user.id, "email": user.email, "name": user.name, "created_at": int(user.created_at)},
        status=201, headers={"Location": f"/v1/users/{user.id}"})
