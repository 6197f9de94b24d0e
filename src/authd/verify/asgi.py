"""Protecting an ASGI API: a plain middleware, and Starlette/FastAPI dependencies.

Failures are RFC 6750 answers: 401 with ``WWW-Authenticate: Bearer
error="invalid_token"`` for a missing or bad token, 403 with
``error="insufficient_scope"`` when the token lacks a scope, and (when the
dependency asks for ``max_age`` or ``amr``) 401 with
``error="insufficient_user_authentication"`` and ``max_age`` (RFC 9470) when
the login behind the token is too old or too weak. Starlette is imported only
here, and only the app that uses this module needs it.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Collection, MutableMapping
from typing import Any

import orjson

from authd.jose import InvalidToken
from authd.verify._verifier import (
    Claims,
    InsufficientUserAuthentication,
    TokenVerifier,
    check_authentication,
)

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
CLAIMS_KEY = "authd.claims"
VERIFIER_KEY = "authd.verifier"


def challenge(error: str, description: str, scope: str | None = None) -> str:
    value = f'Bearer error="{error}", error_description="{description}"'
    return value + (f', scope="{scope}"' if scope else "")


def bearer_from_headers(headers: list[tuple[bytes, bytes]]) -> str | None:
    for name, value in headers:
        if name.lower() == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            return token.strip() or None if scheme.lower() == "bearer" else None
    return None


class RequireTokenMiddleware:
    """Plain ASGI: every HTTP request needs a valid token, except paths in ``public_paths``.

    The claims are put in ``scope["authd.claims"]`` (``request.scope`` in Starlette).
    """

    def __init__(self, app: ASGIApp, verifier: TokenVerifier, *,
                 public_paths: Collection[str] = ()) -> None:
        self.app = app
        self.verifier = verifier
        self.public_paths = frozenset(public_paths)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path") in self.public_paths:
            await self.app(scope, receive, send)
            return
        token = bearer_from_headers(scope.get("headers", []))
        if token is None:
            await _deny(send, 401, challenge("invalid_token", "authentication required"))
            return
        try:
            claims = await self.verifier.verify_async(token)
        except InvalidToken as exc:
            await _deny(send, 401, challenge("invalid_token", exc.reason))
            return
        scope[CLAIMS_KEY] = claims
        scope[VERIFIER_KEY] = self.verifier
        await self.app(scope, receive, send)


async def _deny(send: Send, status: int, www_authenticate: str) -> None:
    code = "invalid_token" if status == 401 else "insufficient_scope"
    body = orjson.dumps({"error": code})
    await send({"type": "http.response.start", "status": status, "headers": [
        (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
        (b"www-authenticate", www_authenticate.encode())]})
    await send({"type": "http.response.body", "body": body})


def step_up_challenge(exc: InsufficientUserAuthentication) -> str:
    """RFC 9470's challenge: what kind of login would be enough."""
    value = challenge(exc.reason, exc.detail.replace('"', "'"))
    return value + (f", max_age={exc.max_age}" if exc.max_age is not None else "")


def require_token(verifier: TokenVerifier | None = None, *, max_age: int | None = None,
                  amr: Collection[str] | None = None) -> Callable[[Any], Awaitable[Claims]]:
    """A FastAPI/Starlette dependency: ``claims = Depends(require_token(v))``.

    ``max_age`` (seconds since the login) and ``amr`` (methods the login must
    have used, e.g. ``["mfa"]``) ask for step-up: 401
    ``insufficient_user_authentication`` otherwise.
    """
    return require_scope(verifier=verifier, max_age=max_age, amr=amr)


def require_scope(*scopes: str, verifier: TokenVerifier | None = None,
                  max_age: int | None = None, amr: Collection[str] | None = None
                  ) -> Callable[[Any], Awaitable[Claims]]:
    """A dependency that also demands every scope in ``scopes`` (403 otherwise).

    The verifier is the one given, else the one ``RequireTokenMiddleware``
    used, else ``app.state.authd_verifier``. ``max_age`` and ``amr`` as in
    ``require_token``.
    """
    from starlette.exceptions import HTTPException
    from starlette.requests import Request

    needed = frozenset(scopes)

    async def dependency(request: Request) -> Claims:
        claims = request.scope.get(CLAIMS_KEY)
        if claims is None:
            chosen = verifier or getattr(request.app.state, "authd_verifier", None)
            if chosen is None:
                raise RuntimeError("no TokenVerifier: pass one or set app.state.authd_verifier")
            token = bearer_from_headers(request.scope.get("headers", []))
            if token is None:
                raise HTTPException(401, "authentication required", headers={
                    "WWW-Authenticate": challenge("invalid_token", "authentication required")})
            try:
                claims = await chosen.verify_async(token)
            except InvalidToken as exc:
                raise HTTPException(401, "invalid token", headers={
                    "WWW-Authenticate": challenge("invalid_token", exc.reason)}) from None
        if max_age is not None or amr:
            chosen = verifier or request.scope.get(VERIFIER_KEY) or getattr(
                request.app.state, "authd_verifier", None)
            now = chosen.now() if isinstance(chosen, TokenVerifier) else time.time()
            try:
                check_authentication(claims, now, max_age=max_age, amr=amr)
            except InsufficientUserAuthentication as exc:
                raise HTTPException(401, "insufficient user authentication", headers={
                    "WWW-Authenticate": step_up_challenge(exc)}) from None
        granted = set(str(claims.get("scope", "")).split())
        if not needed <= granted:
            missing = " ".join(sorted(needed))
            raise HTTPException(403, "insufficient scope", headers={
                "WWW-Authenticate": challenge("insufficient_scope", "missing scope", missing)})
        return dict(claims)

    return dependency
