"""The served OpenAPI document matches the routes the app really has."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from starlette.routing import Route

from authd.config import Settings
from authd.http.app import create_app
from authd.http.openapi import openapi_document
from tests.e2e.conftest import PASSWORD, login, sign_up, start_server
from tests.serverproc import AuthdServer


def _routed(tmp_path) -> set[tuple[str, str]]:
    app = create_app(Settings(data_dir=tmp_path))
    pairs: set[tuple[str, str]] = set()
    for route in app.routes:
        assert isinstance(route, Route)
        for method in route.methods or ():
            if method != "HEAD":
                pairs.add((route.path, method.lower()))
    return pairs


def test_every_route_is_documented_and_every_operation_is_routed(tmp_path) -> None:
    """/openapi.json documents exactly the routes the server answers."""
    documented = {(path, method) for path, ops in openapi_document()["paths"].items()
                  for method in ops}
    assert _routed(tmp_path) == documented


def test_every_operation_documents_responses() -> None:
    """Each operation names its success and error responses."""
    for path, ops in openapi_document()["paths"].items():
        for method, op in ops.items():
            assert op["responses"], (path, method)
            assert op["summary"], (path, method)


# -- the document against a real server: Allow headers and security per operation ---------------

METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


def _documented_methods() -> dict[str, set[str]]:
    """Per path, the methods the document declares, plus HEAD wherever GET is served."""
    found: dict[str, set[str]] = {}
    for path, ops in openapi_document()["paths"].items():
        methods = {m.upper() for m in ops}
        found[path] = methods | ({"HEAD"} if "GET" in methods else set())
    return found


def _concrete(path: str) -> str:
    return path.replace("{provider}", "nosuchprovider").replace("{session_id}", "nosuchsession")


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AuthdServer]:
    """A real server; routing and authentication do not depend on the storage backend."""
    server, _ = start_server(tmp_path_factory.mktemp("openapi-live"), "sqlite")
    yield server
    server.stop()


def test_each_path_is_one_route(tmp_path) -> None:
    """One route per path, so a refused method is answered with every method the path serves."""
    paths = [route.path for route in create_app(Settings(data_dir=tmp_path)).routes
             if isinstance(route, Route)]
    assert len(paths) == len(set(paths))


@pytest.mark.parametrize("path", sorted(_documented_methods()))
def test_a_refused_method_lists_every_allowed_method(live: AuthdServer, path: str) -> None:
    """405 answers carry Allow with exactly the path's methods (RFC 9110 15.5.6).

    Clients and API gateways read Allow to learn what a resource supports;
    naming only some methods (PUT /v1/session once said "POST") misleads them.
    """
    allowed = _documented_methods()[path]
    with live.client() as http:
        for method in METHODS:
            if method in allowed:
                continue
            response = http.request(method, _concrete(path))
            assert response.status_code == 405, (method, path, response.text)
            assert response.json()["error"] == "method_not_allowed"
            assert {m.strip() for m in response.headers["allow"].split(",")} == allowed, (method, path)


def _credentials(server: AuthdServer) -> tuple[dict[str, str], dict[str, str]]:
    """A new user's (Bearer headers, cookie headers with the CSRF token)."""
    with server.client() as http:
        email = sign_up(http)
        token = login(http, email)["access_token"]
        session = http.post("/v1/session", json={"email": email, "password": PASSWORD})
        assert session.status_code == 200, session.text
        cookie = f"authd_session={http.cookies['authd_session']}"
    return ({"Authorization": f"Bearer {token}"},
            {"Cookie": cookie, "X-CSRF-Token": session.json()["csrf_token"]})


def _secured_operations() -> list[tuple[str, str, set[str]]]:
    found = []
    for path, ops in openapi_document()["paths"].items():
        for method, op in ops.items():
            schemes = {name for requirement in op.get("security", []) for name in requirement}
            if schemes & {"bearer", "cookie"}:
                found.append((path, method.upper(), schemes))
    return sorted(found)


@pytest.mark.parametrize(("path", "method", "schemes"), _secured_operations(),
                         ids=[f"{m} {p}" for p, m, _ in _secured_operations()])
def test_security_per_operation_is_what_the_server_checks(live: AuthdServer, path: str, method: str,
                                                          schemes: set[str]) -> None:
    """Each operation accepts exactly the credentials the document names (Bearer, cookie, or both).

    GET and DELETE /v1/session once declared Bearer but read only the cookie;
    a client generated from the document would have sent a token in vain.
    """
    for scheme in ("bearer", "cookie"):
        bearer_headers, cookie_headers = _credentials(live)
        headers = bearer_headers if scheme == "bearer" else cookie_headers
        with live.client() as http:
            response = http.request(method, _concrete(path), headers=headers,
                                    json={} if method == "POST" else None)
        accepted = response.status_code != 401
        assert accepted == (scheme in schemes), (method, path, scheme, response.status_code,
                                                 response.text)
