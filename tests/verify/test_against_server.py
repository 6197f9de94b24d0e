"""authd.verify against a real authd process: revocation across processes, key rotation."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from authd import verify
from authd.verify import TokenVerifier
from tests.e2e.conftest import bearer, login, sign_up, start_server
from tests.serverproc import AuthdServer

POLL = 0.5


@pytest.fixture(scope="module")
def authd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AuthdServer]:
    """A real authd process (SQLite) whose tokens and revocation feed the verifiers follow."""
    server, _ = start_server(tmp_path_factory.mktemp("verify-authd"), "sqlite")
    yield server
    server.stop()


def _other_process(server: AuthdServer, token: str) -> subprocess.Popen[str]:
    script = Path(__file__).with_name("verifier_process.py")
    process = subprocess.Popen([sys.executable, str(script), server.url, server.url, token,
                                str(POLL)], stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    assert process.stdout.readline().strip() == "ready"
    return process


def _revoked_at(process: subprocess.Popen[str]) -> float:
    assert process.stdout is not None
    line = process.stdout.readline().split()
    process.wait(timeout=30)
    assert line[0] == "revoked", line
    return float(line[1])


def _assert_seen_in_time(server: AuthdServer, act: Callable[[httpx.Client, dict[str, str]], None]
                         ) -> None:
    with server.client() as http:
        tokens = login(http, sign_up(http))
        process = _other_process(server, tokens["access_token"])
        acted = time.time()
        act(http, tokens)
        seen = _revoked_at(process)
    assert seen - acted <= POLL + 1.0, seen - acted


def test_valid_token_verifies_by_discovery(authd: AuthdServer) -> None:
    """A token from authd's password grant verifies with only the issuer and audience."""
    with authd.client() as http:
        tokens = login(http, sign_up(http))
    with TokenVerifier(issuer=authd.url, audience=authd.url) as v:
        claims = v.verify(tokens["access_token"])
        assert claims["iss"] == authd.url and claims["scope"] == "openid profile email"
        with pytest.raises(verify.InvalidAudience):
            TokenVerifier(issuer=authd.url, audience="other", jwks_url=f"{authd.url}/.well-known"
                          "/jwks.json").verify(tokens["access_token"])


def test_revoked_access_token_is_refused_in_another_process(authd: AuthdServer) -> None:
    """POST /v1/revoke reaches a verifier in another process within the poll interval + 1 s."""
    _assert_seen_in_time(authd, lambda http, t: http.post(
        "/v1/revoke", data={"token": t["access_token"]}).raise_for_status())


def test_logout_everywhere_revokes_by_sid_in_another_process(authd: AuthdServer) -> None:
    """DELETE /v1/sessions (logout everywhere) reaches another process the same way, by sid."""
    _assert_seen_in_time(authd, lambda http, t: http.delete(
        "/v1/sessions", headers=bearer(t["access_token"])).raise_for_status())


def test_verifier_from_a_jwks_url_refuses_a_token_revoked_at_authd(authd: AuthdServer) -> None:
    """A verifier given only a JWKS URL still follows the revocation feed (found by discovery).

    An API built with `jwks_url=` must refuse a token revoked at /v1/revoke within the
    poll interval, not accept it until it expires.
    """
    with authd.client() as http:
        token = login(http, sign_up(http))["access_token"]
        with TokenVerifier(issuer=authd.url, audience=authd.url, poll_interval=POLL,
                           jwks_url=f"{authd.url}/.well-known/jwks.json") as v:
            assert v.verify(token)["iss"] == authd.url
            http.post("/v1/revoke", data={"token": token}).raise_for_status()
            assert _refused_before(v, token, deadline=time.monotonic() + 30)


def _refused_before(v: TokenVerifier, token: str, deadline: float) -> bool:
    """Verify until RevokedToken (True) or the deadline passes (False)."""
    while time.monotonic() < deadline:
        try:
            v.verify(token)
        except verify.RevokedToken:
            return True
        threading.Event().wait(0.05)
    return False


def test_key_rotation_under_load_fails_no_valid_token(tmp_path: Path) -> None:
    """Threads verifying while `authd keys rotate` runs (and the server restarts) see no failure."""
    server, _ = start_server(tmp_path, "sqlite")
    failures: list[Exception] = []
    verified = 0
    stop = threading.Event()
    try:
        with server.client() as http:
            email = sign_up(http)
            tokens = [login(http, email)["access_token"]]
        v = TokenVerifier(issuer=server.url, audience=server.url)

        def hammer() -> None:
            nonlocal verified
            while not stop.is_set():
                for token in list(tokens):
                    try:
                        v.verify(token)
                        verified += 1
                    except verify.InvalidToken as exc:
                        failures.append(exc)

        workers = [threading.Thread(target=hammer) for _ in range(4)]
        for worker in workers:
            worker.start()
        server.cli("keys", "rotate")
        server.restart()  # the server signs with the new key at once
        with server.client() as http:
            for _ in range(5):
                tokens.append(login(http, email)["access_token"])
        time.sleep(0.5)
        stop.set()
        for worker in workers:
            worker.join()
        v.close()
    finally:
        stop.set()
        server.stop()
    assert failures == [] and verified > 100
    assert v.stats()["jwks"]["fetches"] == 1  # the new key was published before it signed
