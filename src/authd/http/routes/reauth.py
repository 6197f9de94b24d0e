"""POST /v1/reauth: sign in again with the password, a TOTP code or a passkey assertion, for
actions that need a recent login.

A cookie caller's session gets a new ``auth_time`` (``{auth_time}``); a token caller's
refresh family does, and the answer is a fresh access token carrying it
(``{access_token, token_type, expires_in, scope}``); the family's later
refreshes carry it too.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from authd.http.auth import authenticate_account, services
from authd.http.requests import client_info, read_json
from authd.http.responses import NO_STORE, json_response


async def reauth(request: Request) -> Response:
    principal = await authenticate_account(request)  # cookie callers need the CSRF token
    svc = services(request)
    body = await read_json(request, svc.settings.max_body_bytes)
    who = client_info(request)
    if principal.cookie_session is not None:
        auth_time = await svc.reauth.for_session(principal.cookie_session, body.get("password"),
                                                 who, otp=body.get("otp"),
                                                 credential=body.get("credential"))
        return json_response({"auth_time": int(auth_time)}, headers=NO_STORE)
    assert principal.claims is not None
    token = await svc.reauth.for_token(principal.claims, body.get("password"), who,
                                       otp=body.get("otp"), credential=body.get("credential"))
    return json_response({"access_token": token, "token_type": "Bearer",
                          "expires_in": svc.settings.access_token_ttl,
                          "scope": str(principal.claims.get("scope", ""))}, headers=NO_STORE)
