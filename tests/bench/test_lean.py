"""The bench's lean HTTP/1.1 client against a real authd process: keep-alive, bodies, failures."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import orjson
import pytest

from authd.bench._lean import LeanConnection, LeanHttpError
from tests.e2e.conftest import start_server
from tests.serverproc import AuthdServer, free_port


@pytest.fixture(scope="module")
def authd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AuthdServer]:
    """A real authd on SQLite for the lean client to talk to."""
    server, _ = start_server(tmp_path_factory.mktemp("lean-authd"), "sqlite")
    yield server
    server.stop()


async def test_many_requests_share_one_connection(authd: AuthdServer) -> None:
    """GETs and form POSTs on one keep-alive connection return status and the whole body."""
    conn = LeanConnection(authd.url)
    try:
        for _ in range(20):
            assert (await conn.request("GET", "/healthz")).status == 200
        reply = await conn.request("POST", "/v1/token", form={"grant_type": "password",
                                                              "username": "nobody@example.com",
                                                              "password": "wrong password"})
        assert reply.status in (400, 401) and orjson.loads(reply.body)["error"]
        discovery = orjson.loads((await conn.request("GET", "/.well-known/openid-configuration")).body)
        assert discovery["issuer"] == authd.url
    finally:
        conn.close()


async def test_a_closed_port_is_a_lean_http_error() -> None:
    """Nothing listening: a LeanHttpError (counted as an error by the generator), never a crash."""
    conn = LeanConnection(f"http://127.0.0.1:{free_port()}")
    with pytest.raises(LeanHttpError):
        await asyncio.wait_for(conn.request("GET", "/healthz"), timeout=30)


def test_only_http_urls_are_accepted() -> None:
    """An ftp:// URL is refused with a clear message."""
    with pytest.raises(LeanHttpError, match="http"):
        LeanConnection("ftp://127.0.0.1/")
