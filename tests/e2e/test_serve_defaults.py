"""What a new user sees from `authd serve` with no configuration beyond a port.

The issuer follows the port the server listens on (discovery, JWKS URL and
token ``iss`` must name a port that answers), the first log line says where
authd listens and what it serves from, and logs to a file are JSON lines.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from tests.conftest import drop_pg_database, make_pg_database
from tests.e2e.conftest import PASSWORD, sign_up
from tests.serverproc import AuthdServer


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def unconfigured(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
                 ) -> Iterator[AuthdServer]:
    """`authd serve --port <free>` without AUTHD_ISSUER, logging at info level."""
    url = None
    if request.param == "postgres":  # a password in the URL, to prove it is masked in logs
        url = make_pg_database().replace("postgresql://postgres@", "postgresql://postgres:pw-n0t-logged@")
    server = AuthdServer(tmp_path_factory.mktemp(f"unconfigured-{request.param}"), database_url=url,
                         env={"AUTHD_LOG_LEVEL": "info"})
    del server.env["AUTHD_ISSUER"]
    server.start()
    yield server
    server.stop()
    if url:
        drop_pg_database(url.replace(":pw-n0t-logged@", "@"))


def _log_lines(server: AuthdServer) -> list[dict[str, object]]:
    return [orjson.loads(line) for line in server.log_path.read_bytes().splitlines() if line.strip()]


def test_issuer_defaults_to_localhost_on_the_served_port(unconfigured: AuthdServer) -> None:
    """Discovery, the JWKS URL and a token's iss are http://localhost:<the port authd listens on>."""
    expected = f"http://localhost:{unconfigured.port}"
    with unconfigured.client() as http:
        discovery = http.get("/.well-known/openid-configuration").json()
        assert discovery["issuer"] == expected
        assert discovery["jwks_uri"].startswith(expected + "/")
        email = sign_up(http)
        token = http.post("/v1/token", data={"grant_type": "password", "username": email,
                                             "password": PASSWORD}).json()["access_token"]
    payload = token.split(".")[1]
    claims = orjson.loads(__import__("base64").urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    assert claims["iss"] == expected and claims["aud"] == expected


def test_a_localhost_issuer_counts_as_loopback_for_cookies(unconfigured: AuthdServer) -> None:
    """Over plain http on localhost the session cookie works: no Secure flag, no __Host- prefix."""
    with unconfigured.client() as http:
        email = sign_up(http)
        response = http.post("/v1/session", json={"email": email, "password": PASSWORD})
    assert response.status_code == 200
    header = response.headers["set-cookie"]
    assert header.startswith("authd_session=") and "secure" not in header.lower()


def test_start_line_says_where_and_logs_to_a_file_are_json(unconfigured: AuthdServer) -> None:
    """Not on a terminal every log line is JSON; one says address, issuer, data folder, database."""
    lines = _log_lines(unconfigured)  # raises if any line is not JSON
    start = [line["msg"] for line in lines if str(line.get("msg", "")).startswith("authd listening")]
    assert len(start) == 1
    text = str(start[0])
    assert f"http://127.0.0.1:{unconfigured.port}" in text
    assert f"issuer http://localhost:{unconfigured.port}" in text
    assert f"data folder {Path(unconfigured.data_dir).resolve()}" in text
    assert ("database sqlite:///" in text) or ("database postgresql://postgres:****@" in text)
    assert "pw-n0t-logged" not in unconfigured.log_path.read_text()


def test_a_configured_issuer_is_kept(tmp_path: Path) -> None:
    """AUTHD_ISSUER wins over the port-derived default (the test servers all set one)."""
    server = AuthdServer(tmp_path).start()
    try:
        with server.client() as http:
            assert http.get("/.well-known/openid-configuration").json()["issuer"] == server.url
    finally:
        server.stop()


def test_an_unreachable_database_is_one_clear_line(tmp_path: Path) -> None:
    """A PostgreSQL URL that cannot be opened exits 1 with one sentence, the password masked."""
    server = AuthdServer(tmp_path, database_url="postgresql://postgres:pw-n0t-logged@127.0.0.1:5432/"
                         "authd_no_such_database")
    result = server.cli("migrate", check=False)
    assert result.returncode == 1
    assert result.stderr.strip().count("\n") == 0 and "Traceback" not in result.stderr
    assert "cannot open the database postgresql://postgres:****@" in result.stderr
    assert "pw-n0t-logged" not in result.stderr
