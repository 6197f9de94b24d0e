"""Passkeys: enrol (``/registration`` then ``POST /v1/passkeys``), list, remove, and the sign-in
challenge. The sign-in itself is ``POST /v1/token`` (the passkey grant) or ``POST /v1/session``.

Enrolling and removing need a recent login, like every change of a factor;
the rules are in ``authd.core.passkeys``.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from authd.core.models import Passkey
from authd.http.auth import authenticate_account, require_recent, services
from authd.http.requests import client_info, read_json
from authd.http.responses import NO_STORE, json_response


def _passkey_json(passkey: Passkey) -> dict[str, Any]:
    return {"id": passkey.id, "name": passkey.name, "created_at": int(passkey.created_at),
            "last_used_at": int(passkey.last_used_at) if passkey.last_used_at is not None else None}


async def registration_options(request: Request) -> Response:
    principal = await authenticate_account(request)
    require_recent(request, principal)
    challenge = await services(request).passkeys.registration_options(principal.user_id)
    return json_response(challenge.as_response(), headers=NO_STORE)


async def register(request: Request) -> Response:
    principal = await authenticate_account(request)
    require_recent(request, principal)
    svc = services(request)
    body = await read_json(request, svc.settings.max_body_bytes)
    passkey = await svc.passkeys.register(principal.user_id, body.get("challenge_id"),
                                          body.get("credential"), body.get("name"),
                                          client_info(request))
    found = _passkey_json(passkey)
    return json_response({k: found[k] for k in ("id", "name", "created_at")}, status=201,
                         headers=NO_STORE)


async def list_passkeys(request: Request) -> Response:
    principal = await authenticate_account(request)
    found = await services(request).passkeys.list_passkeys(principal.user_id)
    return json_response({"passkeys": [_passkey_json(p) for p in found]}, headers=NO_STORE)


async def remove(request: Request) -> Response:
    principal = await authenticate_account(request)
    require_recent(request, principal)
    await services(request).passkeys.remove(principal.user_id, request.path_params["passkey_id"],
                                            client_info(request))
    return Response(status_code=204, headers=NO_STORE)


async def sign_in_challenge(request: Request) -> Response:
    svc = services(request)
    body = await read_json(request, svc.settings.max_body_bytes)
    challenge = await svc.passkeys.sign_in_options(body.get("email"), client_info(request))
    return json_response(challenge.as_response(), headers=NO_STORE)
