"""The admin API under /admin/v1: users, their sessions, the audit trail and signing keys.

Every route starts with ``require_admin`` (a Bearer token with ``authd:admin``)
and only translates: the rules live in ``authd.core.admin``, shared with the
``authd`` CLI. Answers are JSON and never cached.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from authd.core.admin import Page, key_json, page_size
from authd.core.your_data import event_json, profile_json
from authd.errors import InvalidRequest
from authd.http.auth import require_admin, services
from authd.http.requests import read_json_only, read_query
from authd.http.responses import NO_STORE, json_response


def _page(key: str, page: Page, items: list[object]) -> Response:
    return json_response({key: items, "next_cursor": page.next_cursor}, headers=NO_STORE)


async def search_users(request: Request) -> Response:
    require_admin(request)
    params = read_query(request)
    page = await services(request).admin.search(params.get("query"), page_size(params.get("limit")),
                                                params.get("cursor"))
    return _page("users", page, [profile_json(u) for u in page.items])


async def create_user(request: Request) -> Response:
    actor = require_admin(request)
    svc = services(request)
    body = await read_json_only(request, svc.settings.max_body_bytes)
    user = await svc.admin.create_user(body.get("email"), body.get("password"), body.get("name"),
                                       actor)
    return json_response(profile_json(user), status=201,
                         headers={**NO_STORE, "Location": f"/admin/v1/users/{user.id}"})


async def get_user(request: Request) -> Response:
    actor = require_admin(request)
    user = await services(request).admin.view_user(request.path_params["user_id"], actor)
    return json_response(profile_json(user), headers=NO_STORE)


async def update_user(request: Request) -> Response:
    actor = require_admin(request)
    svc = services(request)
    body = await read_json_only(request, svc.settings.max_body_bytes)
    user = await svc.admin.update_user(request.path_params["user_id"], body, actor)
    return json_response(profile_json(user), headers=NO_STORE)


async def delete_user(request: Request) -> Response:
    actor = require_admin(request)
    await services(request).admin.delete_user(request.path_params["user_id"], actor)
    return Response(status_code=204, headers=NO_STORE)


async def list_sessions(request: Request) -> Response:
    actor = require_admin(request)
    views = await services(request).admin.sessions(request.path_params["user_id"], actor)
    return json_response({"sessions": [v.as_json(None) for v in views]}, headers=NO_STORE)


async def delete_sessions(request: Request) -> Response:
    actor = require_admin(request)
    count = await services(request).admin.revoke_sessions(request.path_params["user_id"], actor)
    return json_response({"revoked": count}, headers=NO_STORE)


async def reset_mfa(request: Request) -> Response:
    """A user's second factors go (TOTP, recovery codes, passkeys): a lost device."""
    actor = require_admin(request)
    await services(request).admin.reset_mfa(request.path_params["user_id"], actor)
    return Response(status_code=204, headers=NO_STORE)


async def password_reset(request: Request) -> Response:
    actor = require_admin(request)
    await services(request).admin.password_reset(request.path_params["user_id"], actor)
    return Response(status_code=202, headers=NO_STORE)


async def audit_events(request: Request) -> Response:
    require_admin(request)
    params = read_query(request)
    page = await services(request).admin.audit_page(
        user_id=params.get("user") or None, event=params.get("event") or None,
        since=_since(params.get("since")), limit=page_size(params.get("limit")),
        cursor=params.get("cursor"))
    return _page("events", page, [event_json(e) for e in page.items])


async def list_keys(request: Request) -> Response:
    require_admin(request)
    records = await services(request).admin.keys()
    return json_response({"keys": [key_json(r) for r in records]}, headers=NO_STORE)


async def rotate_keys(request: Request) -> Response:
    actor = require_admin(request)
    kid = await services(request).admin.rotate_keys(actor)
    return json_response({"active": kid}, headers=NO_STORE)


async def webhook_deliveries(request: Request) -> Response:
    """The webhook delivery log, newest first: filter by ``endpoint`` name and ``status``."""
    require_admin(request)
    params = read_query(request)
    page = await services(request).webhooks.deliveries(
        params.get("endpoint") or None, params.get("status") or None, params.get("cursor") or None,
        page_size(params.get("limit")))
    return json_response(page.as_json(), headers=NO_STORE)


def _since(raw: str | None) -> float | None:
    """``since``: Unix seconds (what every time in the API is)."""
    if raw is None or raw == "":
        return None
    try:
        value = float(raw)
    except ValueError:
        raise InvalidRequest("since must be a time in Unix seconds") from None
    if not 0 <= value < 1e11:
        raise InvalidRequest("since must be a time in Unix seconds")
    return value
