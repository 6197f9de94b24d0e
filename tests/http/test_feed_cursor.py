"""The revocation feed's ``since`` cursor: anything the feed cannot have returned is a 400."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.conftest import serving
from tests.serverproc import AuthdServer


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def feed_server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
                ) -> Iterator[AuthdServer]:
    """A real authd per backend whose revocation feed is read with odd cursors."""
    with serving(tmp_path_factory.mktemp(f"feed-{request.param}"), request.param) as server:
        yield server


@pytest.mark.parametrize("since", ["2147483648", "999999999999999999", "480590040734770280",
                                   "9223372036854775808", "²", "\u0661", "-1", "1.0", " 1", ""])
def test_a_cursor_the_feed_never_returned_is_refused(feed_server: AuthdServer, since: str) -> None:
    """Resource servers poll the feed with the cursor it gave them; other values get a clear 400.

    Found by fuzzing the OpenAPI document: on PostgreSQL a cursor above the
    32-bit sequence range reached the driver and answered 500; a non-ASCII
    digit such as "²" passed str.isdigit() but not int().
    """
    with feed_server.client() as http:
        response = http.get("/v1/revocations", params={"since": since})
    assert response.status_code == 400, response.text
    assert response.json()["error"] == "invalid_request"


@pytest.mark.parametrize("since", ["0", "2147483647", "0000000001"])
def test_cursors_in_range_are_served(feed_server: AuthdServer, since: str) -> None:
    """Any cursor the feed could have returned gets a page (empty past the end), never an error."""
    with feed_server.client() as http:
        response = http.get("/v1/revocations", params={"since": since})
    assert response.status_code == 200, response.text
    assert set(response.json()) == {"revoked", "cursor", "poll_after"}
