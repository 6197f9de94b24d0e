"""The scenarios, against one or more instance URLs, with a throwaway account.

The account is ``bench-<random>@bench.invalid`` with a random password. authd
has no account-deletion endpoint, so at the end the bench logs it out
everywhere; the (unusable, random-password) account remains and can be
disabled with ``authd users disable``.
"""

from __future__ import annotations

import platform
import random
import secrets
import sys
import time
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson

import authd
from authd.bench._lean import LeanConnection, Reply
from authd.bench._load import Request, ScenarioResult, run_load


@dataclass
class Account:
    email: str
    password: str
    tokens: list[dict[str, Any]] = field(default_factory=list)
    cookie: str | None = None


@dataclass(frozen=True)
class Plan:
    urls: list[str]
    scenarios: list[str]
    duration: float
    warmup: float
    concurrency: int
    rate: float | None
    show_progress: bool = True


async def _login(client: httpx.AsyncClient, account: Account) -> dict[str, Any]:
    response = await client.post("/v1/token", data={"grant_type": "password",
                                                    "username": account.email,
                                                    "password": account.password})
    response.raise_for_status()
    body: dict[str, Any] = response.json()
    return body


async def setup(clients: list[httpx.AsyncClient], families: int) -> Account:
    account = Account(f"bench-{secrets.token_hex(6)}@bench.invalid", secrets.token_urlsafe(24))
    response = await clients[0].post("/v1/users", json={"email": account.email,
                                                        "password": account.password})
    response.raise_for_status()
    for i in range(families):
        account.tokens.append(await _login(clients[i % len(clients)], account))
    session = await clients[0].post("/v1/session", json={"email": account.email,
                                                         "password": account.password})
    if session.status_code == 200:
        account.cookie = next((v for k, v in session.cookies.items() if k.endswith("authd_session")),
                              None)
    return account


async def teardown(clients: list[httpx.AsyncClient], account: Account) -> None:
    token = (await _login(clients[0], account))["access_token"]
    await clients[0].delete("/v1/sessions", headers={"Authorization": f"Bearer {token}"})


async def run_plan(plan: Plan) -> dict[str, Any]:
    limits = httpx.Limits(max_connections=plan.concurrency, max_keepalive_connections=plan.concurrency)
    clients = [httpx.AsyncClient(base_url=u, timeout=30, limits=limits) for u in plan.urls]
    try:
        account = await setup(clients, plan.concurrency)
        results = [await _scenario(name, clients, account, plan) for name in plan.scenarios]
        await teardown(clients, account)
        discovery = (await clients[0].get("/.well-known/openid-configuration")).json()
    finally:
        for client in clients:
            await client.aclose()
    token = account.tokens[0]["access_token"]
    return {
        "authd_bench_version": authd.__version__,
        "started_at": time.time(),
        "target": plan.urls,
        "config": {"scenarios": plan.scenarios, "duration_s": plan.duration,
                   "warmup_s": plan.warmup, "concurrency": plan.concurrency, "rate": plan.rate},
        "environment": {"python": sys.version.split()[0], "platform": platform.platform(),
                        "cpu_count": __import__("os").cpu_count(),
                        "issuer": discovery.get("issuer"),
                        "signing_algs": discovery.get("access_token_signing_alg_values_supported")},
        "sizes": {"access_token_bytes": len(token),
                  "authorization_header_bytes": len(f"Authorization: Bearer {token}"),
                  "cookie_header_bytes": (len(f"Cookie: authd_session={account.cookie}")
                                          if account.cookie else None),
                  "refresh_token_bytes": len(account.tokens[0]["refresh_token"])},
        "scenarios": [r.summary() for r in results],
    }


async def _scenario(name: str, clients: list[httpx.AsyncClient], account: Account,
                    plan: Plan) -> ScenarioResult:
    families = [dict(t) for t in account.tokens]
    password_form = {"grant_type": "password", "username": account.email,
                     "password": account.password}

    async def login(conn: LeanConnection, _: int) -> Reply:
        return await conn.request("POST", "/v1/token", form=password_form)

    async def refresh(conn: LeanConnection, worker: int) -> Reply:
        family = families[worker % len(families)]
        reply = await conn.request("POST", "/v1/token", form={
            "grant_type": "refresh_token", "refresh_token": family["refresh_token"]})
        if reply.status == 200:
            family.update(orjson.loads(reply.body))
        return reply

    async def bearer(conn: LeanConnection, worker: int) -> Reply:
        token = families[worker % len(families)]["access_token"]
        return await conn.request("GET", "/v1/userinfo", headers={"Authorization": f"Bearer {token}"})

    async def cookie(conn: LeanConnection, _: int) -> Reply:
        return await conn.request("GET", "/v1/userinfo",
                                  headers={"Cookie": f"authd_session={account.cookie}"})

    async def healthz(conn: LeanConnection, _: int) -> Reply:
        return await conn.request("GET", "/healthz")

    async def mixed(conn: LeanConnection, worker: int) -> Reply:
        roll = random.random()
        if roll < 0.01:
            return await login(conn, worker)
        if roll < 0.11:
            return await refresh(conn, worker)
        return await bearer(conn, worker)

    if name == "revoke":
        return await _propagation(clients, account, plan)
    if name == "cookie" and account.cookie is None:
        result = ScenarioResult(name)
        result.extra["note"] = "cookie sessions not available on this server"
        return result
    request: Request = {"login": login, "refresh": refresh, "bearer": bearer, "cookie": cookie,
                        "healthz": healthz, "mixed": mixed}[name]
    return await run_load(name, plan.urls, request, duration=plan.duration, warmup=plan.warmup,
                          concurrency=plan.concurrency, rate=plan.rate,
                          show_progress=plan.show_progress)


async def _propagation(clients: list[httpx.AsyncClient], account: Account,
                       plan: Plan) -> ScenarioResult:
    """Revoke on the first URL; time until every URL refuses the token."""
    result = ScenarioResult("revoke")
    stop = time.monotonic() + plan.duration
    start = time.monotonic()
    while time.monotonic() < stop:
        token = (await _login(clients[0], account))["access_token"]
        began = time.monotonic()
        await clients[0].post("/v1/revoke", data={"token": token})
        for client in clients:
            while (await client.get("/v1/userinfo", headers={"Authorization": f"Bearer {token}"})
                   ).status_code != 401:
                if time.monotonic() - began > 10:
                    result.errors += 1
                    break
        result.latencies_ms.append((time.monotonic() - began) * 1000)
        result.statuses[200] += 1
    result.duration = time.monotonic() - start
    result.extra["measures"] = "revocation propagation latency (revoke -> 401 everywhere)"
    return result
