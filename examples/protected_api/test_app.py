"""The example API against a real authd process."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient
from tests.e2e.conftest import login, sign_up, start_server
from tests.serverproc import AuthdServer

from authd.verify import TokenVerifier
from examples.protected_api.app import create_app


@pytest.fixture(scope="module")
def authd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AuthdServer]:
    """A real authd process (SQLite) that issues the tokens the example API checks."""
    server, _ = start_server(tmp_path_factory.mktemp("example-authd"), "sqlite")
    yield server
    server.stop()


@pytest.fixture
def api(authd: AuthdServer) -> Iterator[TestClient]:
    """The example API, protected by a verifier that follows this authd by discovery."""
    verifier = TokenVerifier(issuer=authd.url, audience=authd.url, poll_interval=0.3)
    with TestClient(create_app(verifier)) as client:
        yield client


def test_orders_api_accepts_authd_tokens_and_checks_scope(authd: AuthdServer,
                                                         api: TestClient) -> None:
    """A user's token reads orders; writing needs orders:write, which the default scope lacks."""
    with authd.client() as http:
        tokens = login(http, sign_up(http))
    auth = {"Authorization": f"Bearer {tokens['access_token']}"}
    assert api.get("/orders", headers=auth).json()["orders"] == []
    denied = api.post("/orders", headers=auth, json={"item": "tea"})
    assert denied.status_code == 403
    assert api.get("/orders").status_code == 401


def test_revoked_token_is_refused_by_the_api(authd: AuthdServer, api: TestClient) -> None:
    """After POST /v1/revoke at authd, the API refuses the token within a poll or two."""
    with authd.client() as http:
        tokens = login(http, sign_up(http))
        auth = {"Authorization": f"Bearer {tokens['access_token']}"}
        assert api.get("/orders", headers=auth).status_code == 200
        http.post("/v1/revoke", data={"token": tokens["access_token"]}).raise_for_status()
    deadline = time.monotonic() + 5
    status = 200
    while status == 200 and time.monotonic() < deadline:
        time.sleep(0.1)
        status = api.get("/orders", headers=auth).status_code
    assert status == 401
