"""The admin API and ``authd users ...`` over real server processes.

What operators rely on: disabling a user on one instance of a scaled-out
deployment (PostgreSQL + Redis) makes every other instance refuse the user's
token within a second; the CLI goes through the same use cases as the API
(search, delete, audit with its actor), on SQLite and PostgreSQL.
"""

from __future__ import annotations

import base64
import json
import secrets
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest

from authd.core.clients import hash_secret
from tests.conftest import REDIS_URL, drop_pg_database, make_pg_database, require_service
from tests.e2e.conftest import PASSWORD, bearer, login, refresh, serving, sign_up
from tests.http.test_admin_api import reset_mailed as _reset_mailed
from tests.serverproc import AuthdServer, free_port

OPS, OPS_SECRET = "ops-console", secrets.token_urlsafe(32)


def _config(path: Path) -> Path:
    """An operator's TOML registering the admin client."""
    path.write_text(f'[clients.{OPS}]\nsecret_hash = "{hash_secret(OPS_SECRET)}"\n'
                    'scopes = ["authd:admin"]\n')
    return path


def _admin_headers(http: httpx.Client) -> dict[str, str]:
    """An admin token from client_credentials, as Bearer headers."""
    response = http.post("/v1/token", data={"grant_type": "client_credentials"},
                         auth=(OPS, OPS_SECRET))
    assert response.status_code == 200, response.text
    return bearer(response.json()["access_token"])


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[AuthdServer, AuthdServer]]:
    """Two instances on one PostgreSQL and one Redis, sharing root secret, issuer and config;
    the database poll is slow (10 s), so only Redis pub/sub can carry a revocation in time."""
    require_service("Redis", "127.0.0.1", 6379)
    database = make_pg_database()
    issuer_port = free_port()
    config = _config(tmp_path_factory.mktemp("admin-config") / "authd.toml")
    shared = {"AUTHD_ISSUER": f"http://127.0.0.1:{issuer_port}", "AUTHD_REDIS_URL": REDIS_URL,
              "AUTHD_REDIS_KEY_PREFIX": f"authd-test:{secrets.token_hex(4)}:",
              "AUTHD_KEY_ENCRYPTION_KEY": secrets.token_urlsafe(32),
              "AUTHD_REVOCATION_POLL_INTERVAL": "10", "AUTHD_CONFIG": str(config)}
    a = AuthdServer(tmp_path_factory.mktemp("admin-a"), database_url=database, env=shared,
                    port=issuer_port)
    b = AuthdServer(tmp_path_factory.mktemp("admin-b"), database_url=database, env=shared)
    with ExitStack() as stack:
        stack.callback(drop_pg_database, database)
        a.start()
        stack.callback(a.stop)
        b.start()
        stack.callback(b.stop)
        yield a, b


def _refused_within(http: httpx.Client, token: str, seconds: float) -> bool:
    """Poll userinfo with the token until it is refused or the deadline passes."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if http.get("/v1/userinfo", headers=bearer(token)).status_code == 401:
            return True
    return False


def test_disable_reaches_every_instance_within_a_second(pair) -> None:
    """Disabled through A's admin API, the user's token is refused by B within a second, and
    B's cookie session ends too."""
    a, b = pair
    with a.client() as on_a, b.client() as on_b:
        email = sign_up(on_b)
        tokens = login(on_b, email)
        user_id = json.loads(base64.urlsafe_b64decode(
            tokens["access_token"].split(".")[1] + "=="))["sub"]
        cookie = on_b.post("/v1/session", json={"email": email, "password": PASSWORD})
        value = cookie.cookies["authd_session"]
        assert on_b.get("/v1/userinfo", headers=bearer(tokens["access_token"])).status_code == 200
        disabled = on_a.patch(f"/admin/v1/users/{user_id}", json={"disabled": True},
                              headers=_admin_headers(on_a))
        assert disabled.status_code == 200, disabled.text
        assert _refused_within(on_b, tokens["access_token"], 1.0)
        on_b.cookies.clear()
        assert on_b.get("/v1/session", headers={"Cookie": f"authd_session={value}"}
                        ).status_code == 401
        assert refresh(on_b, tokens["refresh_token"]).status_code == 400


def test_deletion_on_one_instance_reaches_the_other(pair) -> None:
    """DELETE /v1/me through A: B refuses the token within a second."""
    a, b = pair
    with a.client() as on_a, b.client() as on_b:
        email = sign_up(on_a)
        token = login(on_a, email)["access_token"]
        assert on_b.get("/v1/userinfo", headers=bearer(token)).status_code == 200
        assert on_a.delete("/v1/me", headers=bearer(token)).status_code == 204
        assert _refused_within(on_b, token, 1.0)


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_the_cli_shares_the_admin_use_cases(tmp_path: Path, backend: str) -> None:
    """`authd users search/delete/password-reset` act as the API does: the deleted user's token
    is refused, the address is free again, and the audit trail names the CLI as the actor."""
    with serving(tmp_path, backend, {"AUTHD_CONFIG": str(_config(tmp_path / "authd.toml"))}) as srv:
        with srv.client() as http:
            email = sign_up(http)
            tokens = login(http, email)
            found = [json.loads(line) for line in
                     srv.cli("users", "search", email[:12].upper()).stdout.splitlines()]
            assert [u["email"] for u in found] == [email]
            via_api = http.get("/admin/v1/users", params={"query": email[:12]},
                               headers=_admin_headers(http)).json()["users"]
            assert via_api == found
            srv.cli("users", "password-reset", email)
            # the CLI is another process: the server hears of it at its next feed poll
            assert _refused_within(http, tokens["access_token"], 10.0)
            tokens = login(http, email)
            srv.cli("users", "delete", "--yes", email)
            assert _refused_within(http, tokens["access_token"], 10.0)
            assert srv.cli("users", "show", email, check=False).returncode == 1
            sign_up(http, email)
        rows = [json.loads(line) for line in
                srv.cli("audit", "--event", "user.deleted").stdout.splitlines()]
        assert rows[0]["actor"] == "cli" and rows[0]["user_id"].startswith("del_")
        resets = [json.loads(line) for line in
                  srv.cli("audit", "--event", "password.reset_sent").stdout.splitlines()]
        assert resets[0]["actor"] == "cli"


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_an_operator_day_over_a_real_server(tmp_path: Path, backend: str) -> None:
    """Through a real process: an admin token from client_credentials finds a user, disables
    them (their token is refused at once on a single instance), enables them, mails them a
    reset link; the user then deletes their own account and the address signs up again."""
    config = {"AUTHD_CONFIG": str(_config(tmp_path / "authd.toml"))}
    with serving(tmp_path, backend, config) as srv, srv.client() as http:
        email = sign_up(http)
        token = login(http, email)["access_token"]
        admin = _admin_headers(http)
        found = http.get("/admin/v1/users", params={"query": email}, headers=admin).json()
        [user] = found["users"]
        path = f"/admin/v1/users/{user['id']}"
        assert http.patch(path, json={"disabled": True}, headers=admin).status_code == 200
        assert http.get("/v1/userinfo", headers=bearer(token)).status_code == 401
        assert http.patch(path, json={"disabled": False}, headers=admin).status_code == 200
        assert http.post(f"{path}/password-reset", headers=admin).status_code == 202
        deadline = time.monotonic() + 30  # the outbox delivers in the background
        while not _reset_mailed(tmp_path / "outbox", email):
            assert time.monotonic() < deadline, "no reset mail was written"
            time.sleep(0.05)
        token = login(http, email)["access_token"]
        assert http.delete("/v1/me", headers=bearer(token)).status_code == 204
        assert http.get(path, headers=admin).status_code == 404
        assert http.post("/v1/token", data={"grant_type": "password", "username": email,
                                            "password": PASSWORD}).status_code == 400
        sign_up(http, email)
