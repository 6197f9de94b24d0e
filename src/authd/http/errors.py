"""The one place where exceptions become HTTP responses.

Core errors carry their protocol code and status (``authd.errors``); routing
errors from Starlette are answered in the same JSON shape; anything else is a
bug, logged and answered as a bare 500 that reveals nothing. Storage adapters
turn an unreachable database or Redis into ``ServiceUnavailable`` at their own
edge, so nothing here knows a driver.
"""

from __future__ import annotations

import logging

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from authd.errors import (
    AuthdError,
    InsufficientScope,
    InsufficientUserAuthentication,
    InvalidClient,
    MethodNotAllowed,
    MfaRequired,
    NotFound,
    RateLimited,
    Unauthenticated,
)
from authd.http.responses import json_response

log = logging.getLogger("authd.http")


def error_response(exc: AuthdError) -> Response:
    headers: dict[str, str] = {"Cache-Control": "no-store"}
    if isinstance(exc, Unauthenticated):
        headers["WWW-Authenticate"] = _bearer_challenge("invalid_token", exc.description)
    elif isinstance(exc, InsufficientScope):
        headers["WWW-Authenticate"] = (_bearer_challenge("insufficient_scope", exc.description)
                                       + f', scope="{exc.scope}"')
    elif isinstance(exc, InsufficientUserAuthentication):
        headers["WWW-Authenticate"] = (_bearer_challenge(exc.code, exc.description)
                                       + f", max_age={exc.max_age}")
    elif isinstance(exc, InvalidClient):
        headers["WWW-Authenticate"] = 'Basic realm="authd"'
    elif isinstance(exc, RateLimited):
        headers["Retry-After"] = str(exc.retry_after)
    body: dict[str, object] = {"error": exc.code, "error_description": exc.description}
    if isinstance(exc, MfaRequired):
        body.update(mfa_token=exc.mfa_token, factors=exc.factors)
    return json_response(body, status=exc.status, headers=headers)


def _bearer_challenge(code: str, description: str) -> str:
    safe = description.replace("\\", "").replace('"', "'")
    return f'Bearer realm="authd", error="{code}", error_description="{safe}"'


async def handle_authd_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, AuthdError)
    if exc.status >= 500:
        log.error("service error: %s", exc.code)
    return error_response(exc)


async def handle_http_exception(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        return error_response(NotFound())
    if exc.status_code == 405:
        response = error_response(MethodNotAllowed())
        if exc.headers and "Allow" in exc.headers:
            response.headers["Allow"] = exc.headers["Allow"]
        return response
    error = AuthdError(str(exc.detail))
    error.status, error.code = exc.status_code, "invalid_request" if exc.status_code < 500 else "server_error"
    return error_response(error)


async def handle_unexpected(_request: Request, exc: Exception) -> Response:
    """A bug: storage outages arrive as ``ServiceUnavailable``, mapped where the driver is used."""
    log.exception("unhandled error", exc_info=exc)
    return json_response({"error": "server_error", "error_description": "internal error"},
                         status=500, headers={"Cache-Control": "no-store"})
