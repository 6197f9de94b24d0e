"""A real server refuses redirect_to values that leave the allowed path, before storing anything."""

from __future__ import annotations

import sqlite3
import subprocess

import httpx
import pytest

from tests.e2e.social import ALLOWED, APP, Social, back_at_app, log_in
from tests.serverproc import AuthdServer


def pending_logins(server: AuthdServer) -> int:
    """How many pending social logins the server's database holds."""
    query = "SELECT count(*) FROM pending_logins"
    url = server.env.get("AUTHD_DATABASE_URL")
    if url is None:
        with sqlite3.connect(server.data_dir / "authd.db") as db:
            return int(db.execute(query).fetchone()[0])
    out = subprocess.run(["psql", url, "-tAc", query], check=True, capture_output=True, text=True)
    return int(out.stdout.strip())


@pytest.mark.parametrize("escape", [
    "/../evil", "/x/../../evil", "/;/../../evil", "/..;/evil", "/%2e%2e/evil", "/..%2fevil",
    "/..%5cevil", "/%252e%252e/evil", "//evil.example", "/\u2025/evil",
])
def test_a_redirect_to_escaping_the_allowed_path_starts_no_login(social: Social, browser: httpx.Client,
                                                               escape: str) -> None:
    """redirect_to under the allowed prefix that resolves outside it (dot segments, `;`
    parameters, encoded separators, empty segments) gets a 400 before any pending login is
    stored or the browser is sent to the provider: the one-time code can never arrive there."""
    before = pending_logins(social.authd)
    response = browser.get(f"{social.url}/v1/oauth/fake/authorize",
                           params={"redirect_to": ALLOWED + escape})
    assert response.status_code == 400, response.text
    assert response.json()["error"] == "invalid_request"
    assert "location" not in response.headers and "set-cookie" not in response.headers
    assert pending_logins(social.authd) <= before  # (expired ones may have been swept)


def test_dot_segments_inside_the_allowed_path_land_on_the_resolved_path(social: Social,
                                                                       browser: httpx.Client) -> None:
    """A redirect_to whose dot segments stay inside the allowed path is accepted, and the
    user is sent back to the resolved URL: exactly the one authd checked."""
    response = log_in(social, browser, redirect_to=ALLOWED + "/x/../done")
    assert response.headers["location"].startswith(APP + "?") or response.headers["location"] == APP
    back_at_app(response)
