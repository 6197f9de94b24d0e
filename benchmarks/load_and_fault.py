"""Mixed traffic on two instances, kill -9 of one in the middle, then proof that nothing was lost.

    .venv/bin/python -m benchmarks.load_and_fault [--seconds 120] [--rate 150]

Traffic at a held rate, round-robin over instances A and B (no sticky
routing): 1% password logins, 10% refreshes, 89% Bearer API calls
(GET /v1/userinfo), plus a sign-up and a revocation every second. Halfway
through, B is killed with SIGKILL and restarted 3 s later; requests sent to
B meanwhile fail at the connection and are reported apart (a load balancer
would have routed them to A). Afterwards it checks that:

* every sign-up answered 201 can log in;
* every logout/revocation answered 2xx holds: the token is refused by both
  instances, and no instance accepted a revoked token later than 1 s after
  the revocation was acknowledged (checked continuously during the run).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import secrets
import statistics
import time
from collections import defaultdict
from typing import Any

import httpx
from tests.e2e.conftest import PASSWORD

from benchmarks._cluster import cluster


class Run:
    def __init__(self, urls: list[str]) -> None:
        self.urls = urls
        self.latency: dict[str, list[float]] = defaultdict(list)
        self.status: dict[str, dict[int, int]] = defaultdict(lambda: defaultdict(int))
        self.conn_errors: dict[str, int] = defaultdict(int)
        self.signed_up: list[str] = []
        self.revoked: list[tuple[str, float]] = []
        self.violations = 0
        self.turn = 0

    def next_url(self) -> str:
        self.turn += 1
        return self.urls[self.turn % len(self.urls)]

    async def call(self, client: httpx.AsyncClient, name: str, method: str, path: str,
                   **kwargs: Any) -> httpx.Response | None:
        url = self.next_url()
        start = time.monotonic()
        try:
            response = await client.request(method, url + path, **kwargs)
        except httpx.TransportError:
            self.conn_errors[name] += 1
            return None
        self.latency[name].append(time.monotonic() - start)
        self.status[name][response.status_code] += 1
        return response


async def drive(run: Run, seconds: float, rate: float, families: list[dict[str, Any]],
                email: str, kill: Any) -> None:
    locks = [asyncio.Lock() for _ in families]
    async with httpx.AsyncClient(timeout=10) as client:

        async def one(kind: str) -> None:
            if kind == "login":
                await run.call(client, "login", "POST", "/v1/token", data={
                    "grant_type": "password", "username": email, "password": PASSWORD})
            elif kind == "refresh":
                i = random.randrange(len(families))
                async with locks[i]:
                    r = await run.call(client, "refresh", "POST", "/v1/token", data={
                        "grant_type": "refresh_token",
                        "refresh_token": families[i]["refresh_token"]})
                    if r is not None and r.status_code == 200:
                        families[i].update(r.json())
            else:
                token = families[random.randrange(len(families))]["access_token"]
                await run.call(client, "bearer", "GET", "/v1/userinfo",
                               headers={"Authorization": f"Bearer {token}"})

        async def every_second() -> None:
            while True:
                await asyncio.sleep(1)
                address = f"load-{secrets.token_hex(5)}@example.com"
                r = await run.call(client, "signup", "POST", "/v1/users",
                                   json={"email": address, "password": PASSWORD})
                if r is not None and r.status_code == 201:
                    run.signed_up.append(address)
                r = await run.call(client, "login", "POST", "/v1/token", data={
                    "grant_type": "password", "username": email, "password": PASSWORD})
                if r is not None and r.status_code == 200:
                    victim = r.json()["access_token"]
                    done = await run.call(client, "revoke", "POST", "/v1/revoke",
                                          data={"token": victim})
                    if done is not None and done.status_code == 200:
                        run.revoked.append((victim, time.monotonic()))

        async def watch_revocations() -> None:
            while True:
                await asyncio.sleep(0.25)
                now = time.monotonic()
                for token, at in list(run.revoked):
                    if now - at > 1.0:
                        for url in run.urls:
                            try:
                                r = await client.get(url + "/v1/userinfo",
                                                     headers={"Authorization": f"Bearer {token}"})
                            except httpx.TransportError:
                                continue
                            if r.status_code == 200:
                                run.violations += 1

        background = [asyncio.create_task(every_second()), asyncio.create_task(watch_revocations())]
        tasks: set[asyncio.Task[None]] = set()
        start = time.monotonic()
        killed = False
        sent = 0
        while (elapsed := time.monotonic() - start) < seconds:
            if not killed and elapsed > seconds / 2:
                killed = True
                asyncio.get_running_loop().run_in_executor(None, kill)
            while sent < elapsed * rate:
                sent += 1
                roll = random.random()
                kind = "login" if roll < 0.01 else "refresh" if roll < 0.11 else "bearer"
                task = asyncio.create_task(one(kind))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
            await asyncio.sleep(0.005)
        await asyncio.gather(*tasks)
        for task in background:
            task.cancel()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=120)
    parser.add_argument("--rate", type=float, default=150, help="requests per second")
    args = parser.parse_args()
    with cluster(2) as (a, b):
        email = "load@example.com"
        with httpx.Client(base_url=a.url, timeout=30) as http:
            http.post("/v1/users", json={"email": email, "password": PASSWORD}).raise_for_status()
            families = [http.post("/v1/token", data={"grant_type": "password", "username": email,
                                                     "password": PASSWORD}).json()
                        for _ in range(20)]

        def kill_and_restart() -> None:
            b.kill9()
            time.sleep(3)
            b.start()

        run = Run([a.url, b.url])
        started = time.monotonic()
        asyncio.run(drive(run, args.seconds, args.rate, families, email, kill_and_restart))
        elapsed = time.monotonic() - started
        total = sum(len(v) for v in run.latency.values())
        print(f"{total} answered requests in {elapsed:.0f} s ({total / elapsed:.0f}/s); "
              f"instance B killed with SIGKILL at {args.seconds / 2:.0f} s and restarted")
        print(f"{'endpoint':8} {'count':>7} {'p50 ms':>8} {'p99 ms':>8}  statuses  conn errors")
        for name, values in sorted(run.latency.items()):
            values.sort()
            p99 = values[max(0, int(len(values) * 0.99) - 1)]
            print(f"{name:8} {len(values):7} {statistics.median(values) * 1000:8.1f} "
                  f"{p99 * 1000:8.1f}  {dict(run.status[name])}  {run.conn_errors[name]}")
        with httpx.Client(timeout=30) as http:
            lost = [e for e in run.signed_up if http.post(a.url + "/v1/token", data={
                "grant_type": "password", "username": e, "password": PASSWORD}).status_code != 200]
            unrevoked = [t for t, _ in run.revoked for url in (a.url, b.url)
                         if http.get(url + "/v1/userinfo",
                                     headers={"Authorization": f"Bearer {t}"}).status_code != 401]
        print(f"acknowledged sign-ups: {len(run.signed_up)}, lost: {len(lost)}")
        print(f"acknowledged revocations: {len(run.revoked)}, not holding afterwards: "
              f"{len(unrevoked)}, revoked tokens accepted > 1 s after revocation: {run.violations}")
        if lost or unrevoked or run.violations:
            raise SystemExit(1)


if __name__ == "__main__":
    main()
