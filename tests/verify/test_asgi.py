"""The ASGI middleware and the Starlette/FastAPI dependencies answer as RFC 6750 says."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from authd.verify import RequireTokenMiddleware, require_scope, require_token
from authd.verify.testing import LocalIssuer

AUDIENCE = "my-api"


@pytest.fixture(scope="module")
def issuer() -> LocalIssuer:
    """A local issuer: tokens for the protected app without an authd server."""
    return LocalIssuer()


@pytest.fixture
def dependency_app(issuer: LocalIssuer) -> Iterator[TestClient]:
    """A Starlette app whose routes use require_token and require_scope."""
    verifier = issuer.verifier(audience=AUDIENCE)
    who = require_token(verifier)
    writer = require_scope("orders:write", verifier=verifier)

    async def me(request: Request) -> JSONResponse:
        claims = await who(request)
        return JSONResponse({"sub": claims["sub"]})

    async def orders(request: Request) -> JSONResponse:
        claims = await writer(request)
        return JSONResponse({"ok": claims["sub"]})

    app = Starlette(routes=[Route("/me", me), Route("/orders", orders, methods=["POST"])])
    with TestClient(app) as client:
        yield client


def test_dependency_accepts_a_valid_token(dependency_app: TestClient, issuer: LocalIssuer) -> None:
    """A valid token gives the route its claims."""
    token = issuer.mint(sub="alice", audience=AUDIENCE)
    response = dependency_app.get("/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200 and response.json() == {"sub": "alice"}


def test_missing_and_bad_tokens_are_401_with_a_challenge(dependency_app: TestClient,
                                                         issuer: LocalIssuer) -> None:
    """No token or a bad one: 401 and WWW-Authenticate: Bearer error="invalid_token"."""
    for headers in ({}, {"Authorization": "Bearer nope"},
                    {"Authorization": f"Bearer {issuer.mint(audience='other')}"}):
        response = dependency_app.get("/me", headers=headers)
        assert response.status_code == 401
        assert response.headers["www-authenticate"].startswith('Bearer error="invalid_token"')


def test_missing_scope_is_403_insufficient_scope(dependency_app: TestClient,
                                                 issuer: LocalIssuer) -> None:
    """A valid token without the scope: 403 with error="insufficient_scope" and the scope."""
    reader = issuer.mint(scope="orders:read", audience=AUDIENCE)
    response = dependency_app.post("/orders", headers={"Authorization": f"Bearer {reader}"})
    assert response.status_code == 403
    assert 'error="insufficient_scope"' in response.headers["www-authenticate"]
    assert 'scope="orders:write"' in response.headers["www-authenticate"]
    writer = issuer.mint(scope="orders:read orders:write", audience=AUDIENCE)
    assert dependency_app.post("/orders", headers={"Authorization": f"Bearer {writer}"}
                               ).status_code == 200


def test_middleware_protects_everything_but_public_paths(issuer: LocalIssuer) -> None:
    """RequireTokenMiddleware answers 401 itself and hands claims to the app in the scope."""
    async def hello(request: Request) -> JSONResponse:
        return JSONResponse({"sub": request.scope["authd.claims"]["sub"]})

    async def health(_: Request) -> JSONResponse:
        return JSONResponse({"ok": True})

    app = Starlette(routes=[Route("/hello", hello), Route("/health", health)])
    wrapped = RequireTokenMiddleware(app, issuer.verifier(audience=AUDIENCE),
                                     public_paths={"/health"})
    with TestClient(wrapped) as client:
        assert client.get("/health").status_code == 200
        denied = client.get("/hello")
        assert denied.status_code == 401 and "invalid_token" in denied.headers["www-authenticate"]
        expired = client.get("/hello", headers={
            "Authorization": f"Bearer {issuer.mint(audience=AUDIENCE, expires_in=-100)}"})
        assert expired.status_code == 401 and "expired" in expired.headers["www-authenticate"]
        ok = client.get("/hello", headers={
            "Authorization": f"Bearer {issuer.mint(sub='bob', audience=AUDIENCE)}"})
        assert ok.json() == {"sub": "bob"}
