"""Tokens/s of client_credentials (by secret and by private_key_jwt) against the refresh grant.

    .venv/bin/python -m benchmarks.bench_client_credentials [--seconds 6] [--workers 16]

A machine's token by secret costs a SHA-256 secret check, a rate-limit
reservation and its release, a signature and one audit row; by private_key_jwt
it also costs an ES256 verification, and its jti (single use) is inserted in
the audit row's commit; a refresh costs a read, a compare-and-set commit and a
signature. Each makes one durable commit. Targets: a machine's token by secret
is at least as cheap as a refresh (ratio >= 1.0); by private_key_jwt at least
0.8 of a refresh (the ES256 verification and a conflict-checked insert). Runs a real `authd serve` process on
loopback (SQLite) with the lean keep-alive client (authd.bench._lean), so the
generator's own CPU does not set the rate; assertions are signed before each
phase. Phases alternate (refresh, secret, key, twice) so that drift on a shared
machine falls on all alike.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import tempfile
import time
from pathlib import Path

import orjson
from cryptography.hazmat.primitives.asymmetric import ec
from examples.machine_client.client import generate_key, public_jwk, sign_assertion
from tests.e2e.conftest import PASSWORD, start_server

from authd.bench._lean import LeanConnection
from authd.core.clients import hash_secret

TARGET = 1.0
KEY_TARGET = 0.8
CLIENT_ID, SECRET = "bench-robot", "bench-robot-secret-" + "r" * 24
KEY_CLIENT = "bench-key-robot"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
MAX_REQUESTS = 1_000_000  # a bound on each phase, besides its duration


async def _phase(url: str, workers: int, seconds: float, body_for: list[dict[str, str]],
                 headers: dict[str, str], rotates: bool,
                 assertions: list[list[str]] | None = None) -> float:
    """Requests/s of POST /v1/token with each worker's form; raises on any non-200.

    With ``assertions``, each request of worker i presents the next of ``assertions[i]``.
    """
    deadline = time.monotonic() + seconds
    counts = [0] * workers

    async def worker(i: int) -> None:
        conn = LeanConnection(url)
        try:
            while time.monotonic() < deadline and counts[i] < MAX_REQUESTS:
                if assertions is not None:
                    if not assertions[i]:
                        break
                    body_for[i]["client_assertion"] = assertions[i].pop()
                reply = await conn.request("POST", "/v1/token", headers=headers, form=body_for[i])
                if reply.status != 200:
                    raise RuntimeError(f"token endpoint answered {reply.status}: {reply.body!r}")
                if rotates:  # a refresh: the next request presents the new token
                    body_for[i]["refresh_token"] = orjson.loads(reply.body)["refresh_token"]
                counts[i] += 1
        finally:
            conn.close()

    started = time.monotonic()
    await asyncio.gather(*(worker(i) for i in range(workers)))
    return sum(counts) / (time.monotonic() - started)


def _refresh_tokens(server_url: str, workers: int) -> list[str]:
    """One login (one refresh family) per worker."""
    import httpx
    with httpx.Client(base_url=server_url) as http:
        http.post("/v1/users", json={"email": "bench@example.com", "password": PASSWORD})
        return [http.post("/v1/token", data={"grant_type": "password",
                                             "username": "bench@example.com",
                                             "password": PASSWORD}).json()["refresh_token"]
                for _ in range(workers)]


def _signed(key: ec.EllipticCurvePrivateKey, url: str, workers: int, count: int) -> list[list[str]]:
    """``count`` fresh assertions per worker, signed ahead so signing costs the phase nothing."""
    return [[sign_assertion(key, KEY_CLIENT, f"{url}/v1/token", lifetime=120)
             for _ in range(count)] for _ in range(workers)]


async def _measure(url: str, workers: int, seconds: float, key: ec.EllipticCurvePrivateKey
                   ) -> tuple[float, float, float]:
    refresh_forms = [{"grant_type": "refresh_token", "refresh_token": t}
                     for t in _refresh_tokens(url, workers)]
    machine_forms = [{"grant_type": "client_credentials"} for _ in range(workers)]
    key_forms = [{"grant_type": "client_credentials", "client_assertion_type": ASSERTION_TYPE}
                 for _ in range(workers)]
    basic = base64.b64encode(f"{CLIENT_ID}:{SECRET}".encode()).decode()
    refresh_rates, machine_rates, key_rates = [], [], []
    for _ in range(2):
        refresh_rates.append(await _phase(url, workers, seconds / 2, refresh_forms, {}, True))
        machine_rates.append(await _phase(url, workers, seconds / 2, machine_forms,
                                          {"Authorization": f"Basic {basic}"}, False))
        # Enough for 3x the secret phase's rate: a phase never runs out of assertions.
        per_worker = int(machine_rates[-1] * seconds / 2 * 3 / workers) + 10
        key_rates.append(await _phase(url, workers, seconds / 2, key_forms, {}, False,
                                      _signed(key, url, workers, per_worker)))
    return sum(machine_rates) / 2, sum(key_rates) / 2, sum(refresh_rates) / 2


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=6.0, help="per grant, in two halves")
    parser.add_argument("--workers", type=int, default=16, help="keep-alive connections")
    args = parser.parse_args()
    key = generate_key()
    with tempfile.TemporaryDirectory() as tmp:
        env = {"AUTHD_LOG_LEVEL": "error",
               f"AUTHD_CLIENTS__{CLIENT_ID}__SECRET_HASH": hash_secret(SECRET),
               f"AUTHD_CLIENTS__{CLIENT_ID}__SCOPES": '["reports:read"]',
               f"AUTHD_CLIENTS__{KEY_CLIENT}__JWKS": orjson.dumps(
                   {"keys": [public_jwk(key)]}).decode(),
               f"AUTHD_CLIENTS__{KEY_CLIENT}__SCOPES": '["reports:read"]'}
        server, _ = start_server(Path(tmp), "sqlite", env)
        try:
            machine, by_key, refresh = asyncio.run(
                _measure(server.url, args.workers, args.seconds, key))
        finally:
            server.stop()
    ratio, key_ratio = machine / refresh, by_key / refresh
    print(f"{'grant':34} {'tokens/s':>9}")
    print(f"{'client_credentials (secret)':34} {machine:9.0f}")
    print(f"{'client_credentials (private_key_jwt)':34} {by_key:9.0f}")
    print(f"{'refresh_token':34} {refresh:9.0f}")
    print(f"client_credentials / refresh ratio {ratio:.2f}  >= {TARGET} "
          f"{'MET' if ratio >= TARGET else 'MISSED'}")
    print(f"private_key_jwt / refresh ratio {key_ratio:.2f}  >= {KEY_TARGET} "
          f"{'MET' if key_ratio >= KEY_TARGET else 'MISSED'}")


if __name__ == "__main__":
    main()
