"""The root secret: a strong value, the same one everywhere, and a private data folder."""

from __future__ import annotations

import secrets
import stat

import pytest

from tests.conftest import drop_pg_database
from tests.e2e.conftest import sign_up, start_server
from tests.serverproc import AuthdServer, free_port

SENTENCE = ("were sealed with another root secret; "
            "start every instance with the same AUTHD_KEY_ENCRYPTION_KEY")


def _serve(srv: AuthdServer, **env: str) -> tuple[int, str]:
    """Run ``authd serve`` with ``env`` on top of the server's settings; (exit status, stderr)."""
    other = AuthdServer(srv.data_dir, env={**srv.env, **env}, port=free_port())
    result = other.cli("serve", "--host", "127.0.0.1", "--port", str(other.port), check=False)
    return result.returncode, result.stderr


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_an_instance_with_another_root_secret_refuses_to_start(tmp_path, backend: str) -> None:
    """An operator who starts an instance with the wrong secret gets one sentence naming
    AUTHD_KEY_ENCRYPTION_KEY and a non-zero exit, not a traceback or a half-working server;
    the refused instance writes no keys, so the right instances keep working."""
    first = {"AUTHD_KEY_ENCRYPTION_KEY": secrets.token_urlsafe(32)}
    srv, url = start_server(tmp_path, backend, env=first)
    try:
        with srv.client() as http:
            sign_up(http)
        keys_before = srv.cli("keys", "list").stdout
        srv.stop()
        # Another signing algorithm too: the refused instance must not bootstrap keys.
        status, stderr = _serve(srv, AUTHD_KEY_ENCRYPTION_KEY=secrets.token_urlsafe(32),
                                AUTHD_SIGNING_ALG="EdDSA")
        assert status != 0
        assert SENTENCE in stderr
        assert "Traceback" not in stderr and "InvalidTag" not in stderr
        assert srv.cli("keys", "list").stdout == keys_before
        srv.start()
        with srv.client() as http:
            sign_up(http)
    finally:
        srv.stop()
        if url:
            drop_pg_database(url)


@pytest.mark.parametrize("value", ["super-secret-value", "a" * 64, "abcdefgh" * 8, ""])
def test_a_weak_root_secret_is_refused_with_how_to_make_one(tmp_path, value: str) -> None:
    """A short or repetitive AUTHD_KEY_ENCRYPTION_KEY stops `config check` and `serve` with
    exit 2 and one line that says how to make a good one."""
    srv = AuthdServer(tmp_path, env={"AUTHD_KEY_ENCRYPTION_KEY": value})
    for command in (["config", "check"], ["serve", "--port", str(srv.port)]):
        result = srv.cli(*command, check=False)
        assert result.returncode == 2
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("config error: key_encryption_key")
        assert "secrets.token_urlsafe(32)" in lines[0]
        assert "Traceback" not in result.stderr
        if value:
            assert value not in result.stderr + result.stdout


@pytest.mark.parametrize("value", [secrets.token_urlsafe(32), secrets.token_hex(32),
                                   "k3Y+" + secrets.token_urlsafe(40)],
                         ids=["urlsafe", "hex", "mixed"])  # stable ids: parallel workers agree
def test_a_strong_root_secret_is_accepted(tmp_path, value: str) -> None:
    """32 random bytes as base64url, hex or base64 (openssl rand -base64 32) are all accepted."""
    srv = AuthdServer(tmp_path, env={"AUTHD_KEY_ENCRYPTION_KEY": value})
    assert srv.cli("config", "check", check=False).returncode == 0


def test_the_data_folder_and_its_files_are_private(tmp_path) -> None:
    """Other local users cannot read the data folder, the SQLite database or the root secret."""
    data = tmp_path / "fresh" / "data"
    srv = AuthdServer(data)
    srv.cli("migrate")
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    assert stat.S_IMODE((data / "authd.db").stat().st_mode) == 0o600
    assert stat.S_IMODE((data / "kek").stat().st_mode) == 0o600


def test_a_damaged_root_secret_file_stops_the_start(tmp_path) -> None:
    """A truncated data_dir/kek is one clear error, never a short key sealing new data."""
    srv = AuthdServer(tmp_path)
    srv.cli("migrate")
    (tmp_path / "kek").write_text("c2hvcnQ\n")
    result = srv.cli("migrate", check=False)
    assert result.returncode != 0
    assert "does not hold a root secret" in result.stderr and "Traceback" not in result.stderr
