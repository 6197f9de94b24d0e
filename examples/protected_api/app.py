"""A small orders API protected by authd.verify.

    AUTHD_ISSUER=http://localhost:8000 API_AUDIENCE=http://localhost:8000 \
        uvicorn examples.protected_api.app:app --port 9000
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from authd.verify import TokenVerifier, require_scope, require_token

ORDERS: dict[str, list[str]] = {}


def create_app(verifier: TokenVerifier) -> Starlette:
    signed_in = require_token(verifier)
    may_write = require_scope("orders:write", verifier=verifier)

    async def list_orders(request: Request) -> JSONResponse:
        claims = await signed_in(request)
        return JSONResponse({"user": claims["sub"], "orders": ORDERS.get(claims["sub"], [])})

    async def add_order(request: Request) -> JSONResponse:
        claims = await may_write(request)
        ORDERS.setdefault(claims["sub"], []).append((await request.json())["item"])
        return JSONResponse({"ok": True}, status_code=201)

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        verifier.start()  # fetch keys and start following revocations up front
        yield
        verifier.close()

    return Starlette(routes=[Route("/orders", list_orders),
                             Route("/orders", add_order, methods=["POST"])], lifespan=lifespan)


def _from_env() -> Starlette:
    issuer = os.environ.get("AUTHD_ISSUER", "http://localhost:8000")
    audience = os.environ.get("API_AUDIENCE", issuer)
    return create_app(TokenVerifier(issuer=issuer, audience=audience))


app = _from_env() if os.environ.get("AUTHD_EXAMPLE_AUTOSTART") else None
