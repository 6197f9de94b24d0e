"""Tokens/s of the client_credentials grant against the refresh grant, on one server in one run.

    .venv/bin/python -m benchmarks.bench_client_credentials [--seconds 6] [--workers 16]

A machine's token costs a SHA-256 secret check, a rate-limit reservation and
its release, a signature and one audit row; a refresh costs a read, a
compare-and-set commit and a signature. The target: a machine's token is at
least as cheap as a refresh (ratio >= 1.0). Runs a real `authd serve` process on
loopback (SQLite) with the lean keep-alive client (authd.bench._lean), so the
generator's own CPU does not set the rate. Phases alternate (refresh, machine,
refresh, machine) so that drift on a shared machine falls on both alike.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import tempfile
import time
from pathlib import Path

import orjson
from tests.e2e.conftest import PASSWORD, start_server

from authd.bench._lean import LeanConnection
from authd.core.clients import hash_secret

TARGET = 1.0
CLIENT_ID, SECRET = "bench-robot", "bench-robot-secret-" + "r" * 24
MAX_REQUESTS = 1_000_000  # a bound on each phase, besides its duration


async def _phase(url: str, workers: int, seconds: float, body_for: list[dict[str, str]],
                 headers: dict[str, str], rotates: bool) -> float:
    """Requests/s of POST /v1/token with each worker's form; raises on any non-200."""
    deadline = time.monotonic() + seconds
    counts = [0] * workers

    async def worker(i: int) -> None:
        conn = LeanConnection(url)
        try:
            while time.monotonic() < deadline and counts[i] < MAX_REQUESTS:
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


async def _measure(url: str, workers: int, seconds: float) -> tuple[float, float]:
    refresh_forms = [{"grant_type": "refresh_token", "refresh_token": t}
                     for t in _refresh_tokens(url, workers)]
    machine_forms = [{"grant_type": "client_credentials"} for _ in range(workers)]
    basic = base64.b64encode(f"{CLIENT_ID}:{SECRET}".encode()).decode()
    refresh_rates, machine_rates = [], []
    for _ in range(2):
        refresh_rates.append(await _phase(url, workers, seconds / 2, refresh_forms, {}, True))
        machine_rates.append(await _phase(url, workers, seconds / 2, machine_forms,
                                          {"Authorization": f"Basic {basic}"}, False))
    return sum(machine_rates) / 2, sum(refresh_rates) / 2


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=6.0, help="per grant, in two halves")
    parser.add_argument("--workers", type=int, default=16, help="keep-alive connections")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        env = {"AUTHD_LOG_LEVEL": "error",
               f"AUTHD_CLIENTS__{CLIENT_ID}__SECRET_HASH": hash_secret(SECRET),
               f"AUTHD_CLIENTS__{CLIENT_ID}__SCOPES": '["reports:read"]'}
        server, _ = start_server(Path(tmp), "sqlite", env)
        try:
            machine, refresh = asyncio.run(_measure(server.url, args.workers, args.seconds))
        finally:
            server.stop()
    ratio = machine / refresh
    print(f"{'grant':20} {'tokens/s':>9}")
    print(f"{'client_credentials':20} {machine:9.0f}")
    print(f"{'refresh_token':20} {refresh:9.0f}")
    print(f"client_credentials / refresh ratio {ratio:.2f}  >= {TARGET} "
          f"{'MET' if ratio >= TARGET else 'MISSED'}")


if __name__ == "__main__":
    main()
