"""Either mode: userinfo, the caller's sessions, and their data (export, deletion).

The session list and ending sessions are account endpoints (a cookie, or a
token for authd itself); userinfo answers any user's token authd issued, with
the claims its scopes allow (OIDC Core 5.4); a machine's own token has no user.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from authd.core.account_access import FULL_PROFILE_SCOPE
from authd.http.auth import authenticate, authenticate_account, require_recent, services
from authd.http.cookies import clear_session_cookie
from authd.http.requests import client_info
from authd.http.responses import NO_STORE, json_response


async def userinfo(request: Request) -> Response:
    principal = await authenticate(request)
    # A cookie caller is the user at authd itself, which shows them their whole
    # profile anyway (GET /v1/session); scopes limit what an app's token reveals.
    scope = FULL_PROFILE_SCOPE if principal.kind == "cookie" else principal.scope
    claims = await services(request).accounts.profile(principal.user_id, scope,
                                                      user=principal.user)
    return json_response(claims, headers=NO_STORE)


async def list_sessions(request: Request) -> Response:
    principal = await authenticate_account(request)
    views = await services(request).directory.list(principal.user_id)
    return json_response({"sessions": [v.as_json(principal.session_id) for v in views]},
                         headers=NO_STORE)


async def delete_session(request: Request) -> Response:
    principal = await authenticate_account(request)
    session_id = request.path_params["session_id"]
    await services(request).directory.revoke(principal.user_id, session_id, client_info(request))
    return Response(status_code=204)


async def delete_all_sessions(request: Request) -> Response:
    principal = await authenticate_account(request)
    await services(request).directory.revoke_all(principal.user_id, client_info(request))
    return Response(status_code=204)


async def export(request: Request) -> Response:
    """Everything authd stores about the caller (recent authentication, either mode)."""
    principal = await authenticate_account(request)
    require_recent(request, principal)
    svc = services(request)
    return json_response(await svc.account_data.export(principal.user_id), headers={
        **NO_STORE, "Content-Disposition": 'attachment; filename="authd-export.json"'})


async def delete_account(request: Request) -> Response:
    """Delete the caller's account (recent authentication, either mode); the cookie is cleared."""
    principal = await authenticate_account(request)
    require_recent(request, principal)
    svc = services(request)
    await svc.account_data.erase(principal.user_id, client_info(request))
    response = Response(status_code=204, headers=NO_STORE)
    clear_session_cookie(response, svc.settings)
    return response
