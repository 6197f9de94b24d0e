"""Account endpoints: the caller's social-login identities — list, link (a ticket), unlink.

Linking finishes in the browser: ``POST /v1/identities/{provider}`` answers
with the authd URL to open, which sets the login's browser binding and goes
on to the provider. For a cookie caller the callback then adds the identity;
for a Bearer caller it sends the browser back to ``redirect_to`` with a
``link_code`` that the app completes with its ``link_verifier`` at
``POST /v1/identities/{provider}/complete`` (see ``authd.core.identities``).
Linking and unlinking need a recent sign-in.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response

from authd.core.identities import LINK_TICKET_TTL
from authd.core.models import Identity
from authd.errors import InvalidRequest, NotFound
from authd.http.auth import authenticate_account, require_recent, services
from authd.http.requests import client_info, read_params
from authd.http.responses import NO_STORE, json_response
from authd.oauth.redirects import check_redirect_to


def _identity_json(identity: Identity) -> dict[str, object]:
    return {"provider": identity.provider, "subject": identity.subject, "email": identity.email,
            "linked_at": int(identity.created_at)}


async def list_identities(request: Request) -> Response:
    principal = await authenticate_account(request)
    found = await services(request).identity_links.list(principal.user_id)
    return json_response({"identities": [_identity_json(i) for i in found]}, headers=NO_STORE)


async def start_link(request: Request) -> Response:
    principal = await authenticate_account(request)  # cookie callers need the CSRF token: a POST
    require_recent(request, principal)
    svc = services(request)
    provider = request.path_params["provider"]
    if provider not in svc.providers:
        raise NotFound("no such login provider")
    params = await read_params(request, svc.settings.max_body_bytes)
    if "redirect_to" not in params:
        raise InvalidRequest("redirect_to is required")
    redirect_to = check_redirect_to(params["redirect_to"], svc.settings.redirect_allowlist)
    await svc.guard.check_social_start(client_info(request).ip or "unknown")
    session_id = principal.session_id if principal.kind == "cookie" else None
    started = await svc.identity_links.start(principal.user_id, provider, redirect_to, session_id)
    url = (f"{svc.settings.issuer}/v1/oauth/{provider}/authorize?"
           f"{urlencode({'link_ticket': started.ticket})}")
    body: dict[str, Any] = {"authorize_url": url, "expires_in": int(LINK_TICKET_TTL)}
    if started.verifier is not None:
        body["link_verifier"] = started.verifier
    return json_response(body, headers=NO_STORE)


async def complete_link(request: Request) -> Response:
    """A Bearer caller's link, step three: the browser's ``link_code`` and the app's verifier."""
    principal = await authenticate_account(request)
    svc = services(request)
    params = await read_params(request, svc.settings.max_body_bytes)
    await svc.identity_links.complete(principal.user_id, request.path_params["provider"],
                                      params.get("link_code"), params.get("link_verifier"),
                                      client_info(request))
    return Response(status_code=204, headers=NO_STORE)


async def unlink(request: Request) -> Response:
    principal = await authenticate_account(request)
    require_recent(request, principal)
    await services(request).identity_links.unlink(principal.user_id, request.path_params["provider"],
                                                  client_info(request))
    return Response(status_code=204)
