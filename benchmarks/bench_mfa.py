"""Tokens/s of the mfa grant (TOTP) against the refresh grant, on one server in one run.

    .venv/bin/python -m benchmarks.bench_mfa [--users 1000] [--workers 16]

The second step of a login costs a hashed-token compare-and-set (the try), a
sealed-secret open and three HMACs (the TOTP window), a time-step
compare-and-set, the brute-force reservation and its release, a second
compare-and-set (single use), a new refresh family (the three writes and the
family in one commit) and a signature; a refresh costs a read, a
compare-and-set commit and a signature. Target: the
mfa grant at >= 0.8x the refresh grant's rate. A TOTP code opens one login
per user per 30 s step, so each round completes one prepared login per user
(the first steps, Argon2-bound, are made before the clock starts). Runs a
real `authd serve` process on loopback (SQLite) with the lean keep-alive
client; rounds of ``--chunk`` logins alternate (refresh, mfa, mfa, refresh, ...) over
the same keep-alive connections, connected before the clock starts.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

import httpx
import orjson
import pyotp
from tests.e2e.conftest import PASSWORD, start_server

from authd.bench._lean import LeanConnection

TARGET = 0.8
MFA_GRANT = "urn:authd:params:oauth:grant-type:mfa"


async def _each(items: list[object], workers: int, act: object) -> None:
    """Run ``act(http, item)`` over the items with ``workers`` concurrent httpx calls."""
    queue: asyncio.Queue[object] = asyncio.Queue()
    for item in items:
        queue.put_nowait(item)

    async def worker(http: httpx.AsyncClient) -> None:
        while not queue.empty():
            await act(http, queue.get_nowait())  # type: ignore[operator]

    async with httpx.AsyncClient(base_url=_URL[0], timeout=60) as http:
        await asyncio.gather(*(worker(http) for _ in range(workers)))


_URL: list[str] = []


async def _prepare(users: int, workers: int) -> tuple[list[tuple[str, pyotp.TOTP]], list[str]]:
    """Users with TOTP on and refresh tokens, once the enrolment codes' step is over."""
    enrolled: list[tuple[str, pyotp.TOTP]] = []
    refresh: list[str] = []

    async def enrol(http: httpx.AsyncClient, index: object) -> None:
        email = f"bench{index}@example.com"
        await http.post("/v1/users", json={"email": email, "password": PASSWORD})
        pair = (await http.post("/v1/token", data={"grant_type": "password", "username": email,
                                                   "password": PASSWORD})).json()
        headers = {"Authorization": f"Bearer {pair['access_token']}"}
        phone = pyotp.TOTP((await http.post("/v1/mfa/totp", headers=headers)).json()["secret"])
        confirmed = await http.post("/v1/mfa/totp/confirm", headers=headers,
                                    json={"code": phone.at(time.time())})
        if confirmed.status_code != 200:
            raise RuntimeError(f"confirm answered {confirmed.status_code}: {confirmed.text}")
        enrolled.append((email, phone))
        refresh.append(pair["refresh_token"])

    await _each(list(range(users)), workers, enrol)
    await asyncio.sleep(30 - time.time() % 30 + 0.5)  # the enrolment's step is used up
    return enrolled, refresh


async def _first_steps(enrolled: list[tuple[str, pyotp.TOTP]], workers: int
                       ) -> list[tuple[str, pyotp.TOTP]]:
    """One parked login (mfa_token) per user."""
    parked: list[tuple[str, pyotp.TOTP]] = []

    async def first(http: httpx.AsyncClient, item: object) -> None:
        email, phone = item  # type: ignore[misc]
        body = (await http.post("/v1/token", data={"grant_type": "password", "username": email,
                                                   "password": PASSWORD})).json()
        parked.append((body["mfa_token"], phone))

    await _each(list(enrolled), workers, first)
    return parked


async def _round(conns: list[LeanConnection], forms: list[dict[str, str]], rotates: bool,
                 otp: list[pyotp.TOTP] | None, ahead: float) -> float:
    """Seconds taken by POST /v1/token over ``forms``, one worker per connection; raises on
    any non-200."""
    queue = list(range(len(forms)))
    if otp is not None:  # the phones' codes, read before the clock starts (a round lasts
        # well under a second: a code of the step before still counts after a step boundary)
        now = time.time() + ahead
        forms = [{**form, "otp": phone.at(now)} for form, phone in zip(forms, otp, strict=True)]

    async def worker(conn: LeanConnection) -> None:
        while queue:
            i = queue.pop()
            reply = await conn.request("POST", "/v1/token", form=forms[i])
            if reply.status != 200:
                raise RuntimeError(f"token endpoint answered {reply.status}: {reply.body!r}")
            if rotates:
                forms[i]["refresh_token"] = orjson.loads(reply.body)["refresh_token"]

    started = time.monotonic()
    await asyncio.gather(*(worker(conn) for conn in conns))
    return time.monotonic() - started


async def _measure(url: str, users: int, workers: int, chunk: int) -> tuple[float, float]:
    """Tokens/s of the mfa grant and of the refresh grant, in alternating rounds of ``chunk``
    logins each (so that a slow spell of the machine falls on both)."""
    _URL.append(url)
    enrolled, tokens = await _prepare(users, workers)
    refresh_forms = [{"grant_type": "refresh_token", "refresh_token": t} for t in tokens]
    spent = {"mfa": 0.0, "refresh": 0.0}
    for ahead in (0.0, 30.0):  # the second pass uses the next step's code (one step of drift)
        parked = await _first_steps(enrolled, workers)
        forms = [{"grant_type": MFA_GRANT, "mfa_token": token} for token, _ in parked]
        phones = [phone for _, phone in parked]
        conns = [LeanConnection(url) for _ in range(workers)]  # fresh: idle ones are closed
        try:
            for conn in conns:  # connected before the clock starts
                await conn.request("GET", "/healthz")
            for n, at in enumerate(range(0, users, chunk)):
                part = slice(at, at + chunk)
                rounds = [("refresh", refresh_forms[part], True, None, 0.0),
                          ("mfa", forms[part], False, phones[part], ahead)]
                for kind, batch, rotates, otp, drift in rounds[::1 - 2 * (n % 2)]:
                    # ABBA: neither grant always follows the other
                    spent[kind] += await _round(conns, batch, rotates, otp, drift)
        finally:
            for conn in conns:
                conn.close()
    return 2 * users / spent["mfa"], 2 * users / spent["refresh"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=1000, help="logins completed per round")
    parser.add_argument("--workers", type=int, default=16, help="keep-alive connections")
    parser.add_argument("--chunk", type=int, default=125, help="logins per alternating round")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        server, _ = start_server(Path(tmp), "sqlite", {"AUTHD_LOG_LEVEL": "error"})
        try:
            mfa, refresh = asyncio.run(_measure(server.url, args.users, args.workers,
                                                   args.chunk))
        finally:
            server.stop()
    ratio = mfa / refresh
    print(f"{'grant':20} {'tokens/s':>9}")
    print(f"{'mfa (TOTP)':20} {mfa:9.0f}")
    print(f"{'refresh_token':20} {refresh:9.0f}")
    print(f"mfa / refresh ratio {ratio:.2f}  >= {TARGET} {'MET' if ratio >= TARGET else 'MISSED'}")


if __name__ == "__main__":
    main()
