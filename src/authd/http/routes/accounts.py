"""POST /v1/users: sign-up."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from authd.http.auth import services
from authd.http.requests import client_info, read_json
from authd.http.responses import json_response


async def create_user(request: Request) -> Response:
    svc = services(request)
    body = await read_json(request, svc.settings.max_body_bytes)
    user = await svc.accounts.sign_up(body.get("email"), body.get("password"), body.get("name"),
                                      client_info(request))
    return json_response(
        {"id": user.id, "email": user.email, "name": user.name, "created_at": int(user.created_at)},
        status=201, headers={"Location": f"/v1/users/{user.id}"})
