"""Scale-out figures on PostgreSQL + Redis: one vs two instances, refresh rate, propagation.

    .venv/bin/python -m benchmarks.bench_scale [--seconds 8] [--revocations 1000]

* Bearer req/s (`GET /v1/userinfo`, wrk) against one instance, then against
  two at once (two wrk processes), as a ratio;
* refresh_token grants per second (closed loop, 32 families in flight) on
  one instance and spread over two, from `authd bench`'s lean keep-alive
  HTTP/1.1 client (authd.bench._lean); then once more from httpx for
  comparison. httpx spends ~2.5 ms of CPU per request here, three times what
  authd spends on a refresh, and it shares the VM's two cores with authd and PostgreSQL: with it, the figure
  measures the load generator;
* revocation propagation: revoke an access token on A, poll B until it
  answers 401; p50/p99 over N revocations.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import time
from typing import Any

import httpx
import orjson
from tests.e2e.conftest import PASSWORD

from authd.bench._lean import LeanConnection
from benchmarks._cluster import cluster


def _rps(output: str) -> float:
    for line in output.splitlines():
        if line.startswith("Requests/sec:"):
            return float(line.split()[1])
    raise RuntimeError(output)


def bearer_rps(urls: list[str], token: str, seconds: int) -> float:
    procs = [subprocess.Popen(["wrk", "-t1", "-c32", f"-d{seconds}s", "-H",
                               f"Authorization: Bearer {token}", f"{u}/v1/userinfo"],
                              stdout=subprocess.PIPE, text=True) for u in urls]
    return sum(_rps(p.communicate()[0]) for p in procs)


async def refresh_rate(urls: list[str], pairs: list[dict[str, Any]], seconds: float) -> float:
    done = 0
    stop = time.monotonic() + seconds
    clients = [httpx.AsyncClient(base_url=u, timeout=30) for u in urls]

    async def family(index: int, pair: dict[str, Any]) -> None:
        nonlocal done
        token = pair["refresh_token"]
        turn = index
        while time.monotonic() < stop:
            client = clients[turn % len(clients)]
            turn += 1
            response = await client.post("/v1/token", data={"grant_type": "refresh_token",
                                                            "refresh_token": token})
            response.raise_for_status()
            token = response.json()["refresh_token"]
            done += 1
        pair["refresh_token"] = token

    start = time.monotonic()
    await asyncio.gather(*(family(i, p) for i, p in enumerate(pairs)))
    elapsed = time.monotonic() - start
    for client in clients:
        await client.aclose()
    return done / elapsed


async def lean_refresh_rate(urls: list[str], pairs: list[dict[str, Any]], seconds: float
                            ) -> float:
    """``refresh_rate`` over authd bench's lean keep-alive client: ~0.1 ms of client CPU each."""
    done = 0
    stop = time.monotonic() + seconds

    async def family(index: int, pair: dict[str, Any]) -> None:
        nonlocal done
        connections = [LeanConnection(u) for u in urls]
        token = pair["refresh_token"]
        turn = index
        while time.monotonic() < stop:
            reply = await connections[turn % len(connections)].request(
                "POST", "/v1/token", form={"grant_type": "refresh_token", "refresh_token": token})
            turn += 1
            if reply.status != 200:
                raise RuntimeError(f"refresh failed: {reply.status} {reply.body[:200]!r}")
            token = orjson.loads(reply.body)["refresh_token"]
            done += 1
        pair["refresh_token"] = token
        for connection in connections:
            connection.close()

    start = time.monotonic()
    await asyncio.gather(*(family(i, p) for i, p in enumerate(pairs)))
    return done / (time.monotonic() - start)


def propagation(a: str, b: str, tokens: list[str]) -> list[float]:
    latencies = []
    with httpx.Client(base_url=a, timeout=10) as on_a, httpx.Client(base_url=b, timeout=10) as on_b:
        for token in tokens:
            on_a.post("/v1/revoke", data={"token": token}).raise_for_status()
            revoked_at = time.monotonic()
            while on_b.get("/v1/userinfo", headers={"Authorization": f"Bearer {token}"}
                           ).status_code != 401:
                if time.monotonic() - revoked_at > 5:
                    raise RuntimeError("revocation did not propagate within 5 s")
            latencies.append(time.monotonic() - revoked_at)
    return latencies


def logins(url: str, count: int) -> list[dict[str, Any]]:
    with httpx.Client(base_url=url, timeout=30) as http:
        http.post("/v1/users", json={"email": "scale@example.com", "password": PASSWORD})
        return [http.post("/v1/token", data={"grant_type": "password",
                                             "username": "scale@example.com",
                                             "password": PASSWORD}).json() for _ in range(count)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--revocations", type=int, default=1000)
    args = parser.parse_args()
    with cluster(2) as (a, b):
        pairs = logins(a.url, 32 + args.revocations)
        token = pairs[0]["access_token"]
        one = bearer_rps([a.url], token, args.seconds)
        two = bearer_rps([a.url, b.url], token, args.seconds)
        print(f"bearer req/s: one instance {one:.0f}, two instances {two:.0f} "
              f"(ratio {two / one:.2f})")
        families = pairs[:32]
        r1 = asyncio.run(lean_refresh_rate([a.url], families, args.seconds))
        r2 = asyncio.run(lean_refresh_rate([a.url, b.url], families, args.seconds))
        print(f"refresh/s on PostgreSQL: one instance {r1:.0f} (target >= 500: "
              f"{'MET' if r1 >= 500 else 'MISSED'}), two instances {r2:.0f} "
              f"(ratio {r2 / r1:.2f})")
        cpu = time.process_time()
        h1 = asyncio.run(refresh_rate([a.url], families, args.seconds))
        cpu = (time.process_time() - cpu) / (h1 * args.seconds) * 1000
        print(f"refresh/s with httpx as the client: one instance {h1:.0f} "
              f"(httpx: {cpu:.1f} ms of CPU per refresh)")
        lat = sorted(propagation(a.url, b.url, [p["access_token"] for p in pairs[32:]]))
        p50, p99 = statistics.median(lat), lat[int(len(lat) * 0.99) - 1]
        print(f"revocation propagation A->B over {len(lat)}: p50 {p50 * 1000:.0f} ms, "
              f"p99 {p99 * 1000:.0f} ms, max {lat[-1] * 1000:.0f} ms "
              f"(target p99 <= 1 s: {'MET' if p99 <= 1 else 'MISSED'})")


if __name__ == "__main__":
    main()
