"""Either mode: userinfo and the caller's sessions."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from authd.errors import Unauthenticated
from authd.http.auth import authenticate, services
from authd.http.requests import client_info
from authd.http.responses import NO_STORE, json_response


async def userinfo(request: Request) -> Response:
    principal = await authenticate(request)
    user = principal.user or await services(request).store.users.get_user(principal.user_id)
    if user is None or user.disabled:
        raise Unauthenticated("the account is gone or disabled")
    return json_response({"sub": user.id, "email": user.email,
                          "email_verified": user.email_verified, "name": user.name},
                         headers=NO_STORE)


async def list_sessions(request: Request) -> Response:
    principal = await authenticate(request)
    views = await services(request).directory.list(principal.user_id)
    return json_response({"sessions": [v.as_json(principal.session_id) for v in views]},
                         headers=NO_STORE)


async def delete_session(request: Request) -> Response:
    principal = await authenticate(request)
    session_id = request.path_params["session_id"]
    await services(request).directory.revoke(principal.user_id, session_id, client_info(request))
    return Response(status_code=204)


async def delete_all_sessions(request: Request) -> Response:
    principal = await authenticate(request)
    await services(request).directory.revoke_all(principal.user_id, client_info(request))
    return Response(status_code=204)
