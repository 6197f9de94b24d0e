"""Passkey sign-ins against the refresh grant on one server, and one assertion check against the raw
signature check, in one run.

    .venv/bin/python -m benchmarks.bench_passkeys [--seconds 6] [--workers 16] [--checks 3000]

A passkey login is two requests (``POST /v1/passkeys/challenge``, then the
passkey grant): a MAC'd challenge (nothing written), then a credential and a
user read, the assertion check, and one commit for the challenge's single use,
the counter's compare-and-set, the audit row and the new family, and a
signature. A refresh is one request and one commit. Target: logins/s at least half of refreshes/s (ratio
>= 0.5). Real `authd serve` on loopback (SQLite, or PostgreSQL), the lean keep-alive client,
phases alternating (refresh, passkey, refresh, passkey) so drift falls on both.

The raw part times py_webauthn's ``verify_authentication_response`` (parsing
the JSON credential included, as the server does) against a bare ES256
``verify`` of the same signature with ``cryptography``. Target: <= 2x.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import secrets
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import orjson
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from tests.conftest import drop_pg_database
from tests.e2e.conftest import PASSWORD, start_server
from tests.webauthn_authenticator import SoftAuthenticator, SoftCredential, b64url, unb64url
from webauthn import verify_authentication_response

from authd.bench._lean import LeanConnection

HTTP_TARGET, RAW_TARGET = 0.5, 2.0
PASSKEY_GRANT = "urn:authd:params:oauth:grant-type:passkey"
MAX_REQUESTS = 1_000_000


# -- the raw cost ------------------------------------------------------------------------------


def _raw(checks: int) -> tuple[float, float]:
    """Microseconds per py_webauthn assertion check and per bare ES256 verification."""
    device = SoftAuthenticator("https://id.example")
    options = {"rp": {"id": "id.example", "name": "bench"}, "user": {"id": b64url(b"u1")},
               "challenge": b64url(secrets.token_bytes(32))}
    device.create(options)
    credential = device.credentials[0]
    assertion = device.get(options, counter_step=0)
    challenge, public_key = unb64url(options["challenge"]), credential.cose_key()
    response = assertion["response"]
    signed = unb64url(response["authenticatorData"]) + hashlib.sha256(
        unb64url(response["clientDataJSON"])).digest()
    signature = unb64url(response["signature"])
    assert isinstance(credential.key, ec.EllipticCurvePrivateKey)
    key = credential.key.public_key()

    def library() -> None:
        verify_authentication_response(
            credential=assertion, expected_challenge=challenge, expected_rp_id="id.example",
            expected_origin=["https://id.example"], credential_public_key=public_key,
            credential_current_sign_count=0, require_user_verification=True)

    def bare() -> None:
        key.verify(signature, signed, ec.ECDSA(hashes.SHA256()))

    lib_times, raw_times = [], []
    for _ in range(3):  # alternate, keep the best of three: noise on a shared machine only adds
        lib_times.append(_time(library, checks))
        raw_times.append(_time(bare, checks))
    return min(lib_times), min(raw_times)


def _time(call: Any, n: int) -> float:
    started = time.perf_counter()
    for _ in range(n):
        call()
    return (time.perf_counter() - started) / n * 1e6


# -- over HTTP ---------------------------------------------------------------------------------


def _enrol(url: str, workers: int) -> tuple[list[SoftCredential], SoftAuthenticator, list[str]]:
    """One user with one passkey per worker (each worker's counter grows on its own), and one
    refresh family per worker."""
    device = SoftAuthenticator(url)
    with httpx.Client(base_url=url) as http:
        http.post("/v1/users", json={"email": "bench@example.com", "password": PASSWORD})
        logins = [http.post("/v1/token", data={"grant_type": "password",
                                               "username": "bench@example.com",
                                               "password": PASSWORD}).json()
                  for _ in range(workers)]
        auth = {"Authorization": f"Bearer {logins[0]['access_token']}"}
        for _ in range(workers):
            challenge = http.post("/v1/passkeys/registration", headers=auth).json()
            created = http.post("/v1/passkeys", headers=auth, json={
                "challenge_id": challenge["challenge_id"],
                "credential": device.create(challenge["options"])})
            created.raise_for_status()
    return list(device.credentials), device, [login["refresh_token"] for login in logins]


async def _phase(url: str, workers: int, seconds: float, step: Any) -> float:
    """Operations/s of ``step(conn, i)`` run by ``workers`` keep-alive connections."""
    deadline = time.monotonic() + seconds
    counts = [0] * workers

    async def worker(i: int) -> None:
        conn = LeanConnection(url)
        try:
            while time.monotonic() < deadline and counts[i] < MAX_REQUESTS:
                await step(conn, i)
                counts[i] += 1
        finally:
            conn.close()

    started = time.monotonic()
    await asyncio.gather(*(worker(i) for i in range(workers)))
    return sum(counts) / (time.monotonic() - started)


async def _measure(url: str, workers: int, seconds: float) -> tuple[float, float]:
    credentials, device, refresh_tokens = _enrol(url, workers)

    async def refresh(conn: LeanConnection, i: int) -> None:
        reply = await conn.request("POST", "/v1/token", form={
            "grant_type": "refresh_token", "refresh_token": refresh_tokens[i]})
        if reply.status != 200:
            raise RuntimeError(f"refresh answered {reply.status}: {reply.body!r}")
        refresh_tokens[i] = orjson.loads(reply.body)["refresh_token"]

    async def passkey(conn: LeanConnection, i: int) -> None:
        reply = await conn.request("POST", "/v1/passkeys/challenge", body=b"{}")
        challenge = orjson.loads(reply.body)
        assertion = device.get(challenge["options"], credential=credentials[i])
        reply = await conn.request("POST", "/v1/token", form={
            "grant_type": PASSKEY_GRANT, "challenge_id": challenge["challenge_id"],
            "credential": orjson.dumps(assertion).decode()})
        if reply.status != 200:
            raise RuntimeError(f"passkey grant answered {reply.status}: {reply.body!r}")

    refresh_rates, passkey_rates = [], []
    for _ in range(2):
        refresh_rates.append(await _phase(url, workers, seconds / 2, refresh))
        passkey_rates.append(await _phase(url, workers, seconds / 2, passkey))
    return sum(passkey_rates) / 2, sum(refresh_rates) / 2


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=6.0, help="per grant, in two halves")
    parser.add_argument("--workers", type=int, default=16, help="keep-alive connections (<= 20)")
    parser.add_argument("--checks", type=int, default=3000, help="assertion checks per timing")
    parser.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    args = parser.parse_args()
    library, bare = _raw(args.checks)
    with tempfile.TemporaryDirectory() as tmp:
        env = {"AUTHD_LOG_LEVEL": "error", "AUTHD_WEBAUTHN__CHALLENGES_PER_IP": "100000000"}
        server, pg_url = start_server(Path(tmp), args.backend, env)
        try:
            logins, refreshes = asyncio.run(_measure(server.url, args.workers, args.seconds))
        finally:
            server.stop()
            if pg_url:
                drop_pg_database(pg_url)
    raw_ratio, http_ratio = library / bare, logins / refreshes
    print(f"{'assertion check':28} {library:8.1f} µs")
    print(f"{'bare ES256 verify':28} {bare:8.1f} µs")
    print(f"{'passkey logins/s':28} {logins:8.0f}  (2 requests each)")
    print(f"{'refreshes/s':28} {refreshes:8.0f}")
    print(f"assertion check / bare ES256 ratio {raw_ratio:.2f}  <= {RAW_TARGET} "
          f"{'MET' if raw_ratio <= RAW_TARGET else 'MISSED'}")
    print(f"passkey login / refresh ratio {http_ratio:.2f}  >= {HTTP_TARGET} "
          f"{'MET' if http_ratio >= HTTP_TARGET else 'MISSED'}")


if __name__ == "__main__":
    main()
