"""The ``authd`` command line against a real data directory."""

from __future__ import annotations

import base64
import json
import secrets
import subprocess

import pytest

from tests.e2e.conftest import PASSWORD, bearer, login, refresh, sign_up, start_server
from tests.serverproc import AuthdServer


def _kid(token: str) -> str:
    import base64

    head = token.split(".")[0]
    return str(json.loads(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4)))["kid"])


def test_config_check_masks_secrets(tmp_path) -> None:
    """`authd config check` prints the effective config with secrets masked."""
    secret = "super-secret-value-" + secrets.token_urlsafe(32)
    srv = AuthdServer(tmp_path, env={"AUTHD_KEY_ENCRYPTION_KEY": secret})
    result = srv.cli("config", "check")
    assert secret not in result.stdout
    config = json.loads(result.stdout)
    assert config["key_encryption_key"] == "**********"
    assert config["issuer"] == srv.url


def test_config_check_reports_every_bad_setting(tmp_path) -> None:
    """Bad settings exit non-zero with one clear line each."""
    srv = AuthdServer(tmp_path, env={"AUTHD_ISSUER": "ftp://x", "AUTHD_ACCESS_TOKEN_TTL": "-5",
                                     "AUTHD_SIGNING_ALG": "none"})
    result = srv.cli("config", "check", check=False)
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if line.startswith("config error:")]
    assert len(lines) == 3
    assert any("issuer" in line for line in lines)
    assert any("access_token_ttl" in line for line in lines)
    assert any("signing_alg" in line for line in lines)


def test_toml_config_file_and_env_precedence(tmp_path) -> None:
    """AUTHD_CONFIG names a TOML file; environment variables win over it."""
    config = tmp_path / "authd.toml"
    config.write_text('access_token_ttl = 120\nrefresh_reuse_grace = 3\n'
                      '[clients.api]\nsecret_hash = "sha256:00"\nredirect_uris = []\n')
    srv = AuthdServer(tmp_path, env={"AUTHD_CONFIG": str(config), "AUTHD_REFRESH_REUSE_GRACE": "7"})
    result = json.loads(srv.cli("config", "check").stdout)
    assert result["access_token_ttl"] == 120
    assert result["refresh_reuse_grace"] == 7
    assert result["clients"]["api"]["secret_hash"] == "**********"


def test_missing_config_file_is_an_error(tmp_path) -> None:
    """A missing AUTHD_CONFIG file is reported, not ignored."""
    srv = AuthdServer(tmp_path, env={"AUTHD_CONFIG": str(tmp_path / "nope.toml")})
    result = srv.cli("config", "check", check=False)
    assert result.returncode == 2 and "no such file" in result.stderr


def test_users_create_list_disable(tmp_path) -> None:
    """Admins create, list and disable users; a disabled user's tokens stop working."""
    srv, _ = start_server(tmp_path, "sqlite")
    try:
        created = srv.cli("users", "create", "--email", "Admin@Example.com", "--name", "Admin",
                          input=f"{PASSWORD}\n{PASSWORD}\n")
        assert "admin@example.com" in created.stdout
        assert "admin@example.com" in srv.cli("users", "list").stdout
        with srv.client() as http:
            tokens = login(http, "admin@example.com")
            srv.cli("users", "disable", "admin@example.com")
            assert http.get("/v1/userinfo", headers=bearer(tokens["access_token"])).status_code == 401
            response = http.post("/v1/token", data={"grant_type": "password",
                                                    "username": "admin@example.com",
                                                    "password": PASSWORD})
            assert response.status_code == 400
        assert "disabled" in srv.cli("users", "list").stdout
        weak = srv.cli("users", "create", "--email", "b@example.com", "--password", "password",
                       check=False)
        assert weak.returncode == 1 and "password" in weak.stderr
    finally:
        srv.stop()


def test_keys_rotate_publishes_before_use_and_keeps_old_keys(tmp_path) -> None:
    """Rotation activates the already-published next key; old tokens keep verifying."""
    srv, _ = start_server(tmp_path, "sqlite")
    try:
        with srv.client() as http:
            tokens = login(http, sign_up(http))
            before = {k["kid"] for k in http.get("/.well-known/jwks.json").json()["keys"]}
        listing = srv.cli("keys", "list").stdout
        next_kid = next(line.split()[0] for line in listing.splitlines() if " next " in line)
        assert next_kid in before
        rotated = srv.cli("keys", "rotate").stdout
        assert next_kid in rotated
        srv.restart()
        with srv.client() as http:
            after = {k["kid"] for k in http.get("/.well-known/jwks.json").json()["keys"]}
            assert before <= after and len(after) == len(before) + 1
            assert http.get("/v1/userinfo", headers=bearer(tokens["access_token"])).status_code == 200
            fresh = login(http, sign_up(http))
            assert _kid(fresh["access_token"]) == next_kid
    finally:
        srv.stop()


def test_audit_trail_records_security_events(tmp_path) -> None:
    """Login ok/failed, refresh, reuse and revoke appear in `authd audit`."""
    from tests.e2e.conftest import refresh

    srv, _ = start_server(tmp_path, "sqlite")
    try:
        with srv.client() as http:
            email = sign_up(http)
            t0 = login(http, email)
            http.post("/v1/token", data={"grant_type": "password", "username": email,
                                         "password": "wrong password here"})
            t1 = refresh(http, t0["refresh_token"]).json()
            refresh(http, t1["refresh_token"])
            refresh(http, t0["refresh_token"])  # reuse
            http.post("/v1/revoke", data={"token": t1["access_token"]})
        events = [json.loads(line)["event"] for line in srv.cli("audit").stdout.splitlines()]
        for expected in ("user.created", "login.ok", "login.failed", "token.refreshed",
                         "token.reuse_detected", "token.revoked", "key.rotated"):
            assert expected in events, (expected, events)
        log = srv.log_path.read_text()
        assert t0["refresh_token"] not in log and t0["access_token"] not in log
        assert PASSWORD not in log
    finally:
        srv.stop()


def test_help_lists_every_command() -> None:
    """`authd --help` lists serve, migrate, keys, users, config."""
    import sys

    out = subprocess.run([sys.executable, "-m", "authd.cli", "--help"], capture_output=True,
                         text=True, check=True).stdout
    for command in ("serve", "migrate", "keys", "users", "config", "audit"):
        assert command in out


def test_a_missing_server_dependency_is_one_sentence() -> None:
    """Without the [server] extra (typer missing), `authd` names the extra instead of a traceback."""
    import sys

    result = subprocess.run([sys.executable, "-c", "import sys; sys.modules['typer'] = None; "
                             "from authd.cli import main; main()"], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.strip() == ("error: the authd command needs 'typer', which is not installed; "
                                     "install the server extra: pip install 'authd[server]'")


def test_users_create_and_disable_accept_either_unicode_form(tmp_path) -> None:
    """An admin who types 'zoë' decomposed creates the same account a precomposed 'zoë' logs in
    to, and disabling it by either form finds it."""
    srv, _ = start_server(tmp_path, "sqlite")
    try:
        srv.cli("users", "create", "--email", "Zoe\u0308@example.com", input=f"{PASSWORD}\n{PASSWORD}\n")
        with srv.client() as http:
            assert login(http, "zo\u00eb@example.com")["access_token"]
        srv.cli("users", "disable", "ZO\u00cb@example.com")
        assert "disabled" in srv.cli("users", "list").stdout
    finally:
        srv.stop()


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_users_disable_revokes_everything_and_is_audited(tmp_path, backend: str) -> None:
    """`authd users disable` acts like the API's own use case: the user's access token is refused,
    its refresh family is revoked and published in the revocation feed (so every API that
    follows the feed refuses the token too), the cookie session ends, and the audit trail
    says who was disabled."""
    srv, _ = start_server(tmp_path, backend)
    try:
        with srv.client() as http:
            email = sign_up(http)
            tokens = login(http, email)
            sid = json.loads(base64.urlsafe_b64decode(
                tokens["access_token"].split(".")[1] + "=="))["sid"]
            assert http.post("/v1/session", json={"email": email, "password": PASSWORD},
                             headers={"Origin": srv.url}).status_code == 200
            srv.cli("users", "disable", email.upper())
            assert http.get("/v1/userinfo", headers=bearer(tokens["access_token"])).status_code == 401
            assert refresh(http, tokens["refresh_token"]).status_code == 400
            assert http.get("/v1/session").status_code == 401
            feed = http.get("/v1/revocations").json()["revoked"]
            assert any(entry.get("sid") == sid for entry in feed)
        user_id = json.loads(base64.urlsafe_b64decode(
            tokens["access_token"].split(".")[1] + "=="))["sub"]
        rows = [json.loads(line) for line in
                srv.cli("audit", "--event", "user.disabled").stdout.splitlines()]
        assert [row["user_id"] for row in rows] == [user_id]
        assert rows[0]["ip"] == "cli"
    finally:
        srv.stop()
