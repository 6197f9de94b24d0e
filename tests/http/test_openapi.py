"""The served OpenAPI document matches the routes the app really has."""

from __future__ import annotations

from starlette.routing import Route

from authd.config import Settings
from authd.http.app import create_app
from authd.http.openapi import openapi_document


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
