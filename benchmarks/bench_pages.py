"""The hosted pages' cost: GET /login against /healthz, bytes per page, Chromium's load time.

    .venv/bin/python -m benchmarks.bench_pages [--seconds 6] [--workers 16] [--loads 20]

One real `authd serve` process (one worker, SQLite) on loopback, the lean
keep-alive client (authd.bench._lean) so the generator's CPU does not set
the rate, phases alternating (/healthz, /login, /healthz, /login) so that
drift on a shared machine falls on both alike. /login renders a template,
mints a pre-session cookie and its form token: the target is at least half
the rate of the plainest endpoint. Bytes: the HTML of each page plus the
stylesheets and scripts it loads, uncompressed (/login <= 40 KB). Load
time: the median domContentLoaded of 20 navigations to /login in headless
Chromium (<= 100 ms).
"""

from __future__ import annotations

import argparse
import asyncio
import re
import statistics
import tempfile
import time
from pathlib import Path

import httpx
from tests.e2e.conftest import serving
from tests.pages.browser import chromium

from authd.bench._lean import LeanConnection

RATE_TARGET, BYTES_TARGET, DCL_TARGET = 0.5, 40 * 1024, 100.0
PAGES = ["/", "/login", "/signup", "/sign-in", "/forgot-password", "/mfa"]


async def _phase(url: str, path: str, workers: int, seconds: float) -> float:
    deadline = time.monotonic() + seconds
    counts = [0] * workers

    async def worker(i: int) -> None:
        conn = LeanConnection(url)
        try:
            while time.monotonic() < deadline:
                reply = await conn.request("GET", path)
                if reply.status != 200:
                    raise RuntimeError(f"{path} answered {reply.status}")
                counts[i] += 1
        finally:
            conn.close()

    started = time.monotonic()
    await asyncio.gather(*(worker(i) for i in range(workers)))
    return sum(counts) / (time.monotonic() - started)


async def _rates(url: str, workers: int, seconds: float) -> tuple[float, float]:
    health, login = [], []
    for _ in range(2):
        health.append(await _phase(url, "/healthz", workers, seconds / 2))
        login.append(await _phase(url, "/login", workers, seconds / 2))
    return statistics.mean(login), statistics.mean(health)


def _page_bytes(url: str, path: str) -> int:
    """The page's HTML plus every stylesheet and script it links, uncompressed."""
    with httpx.Client(base_url=url) as http:
        html = http.get(path).content
        assets = re.findall(rb'(?:href|src)="(/ui/[^"]+)"', html)
        return len(html) + sum(len(http.get(a.decode()).content) for a in set(assets))


def _dom_content_loaded(url: str, loads: int) -> float:
    """Median ms from navigation start to DOMContentLoaded for /login."""
    timings = []
    with chromium() as driver:
        driver.get(url + "/login")  # warm: the first start of a renderer is not the page's cost
        for _ in range(loads):
            driver.get(url + "/login")
            timings.append(driver.execute_script(
                "const n = performance.getEntriesByType('navigation')[0];"
                "return n.domContentLoadedEventEnd - n.startTime;"))
    return float(statistics.median(timings))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=6.0, help="per endpoint, in two halves")
    parser.add_argument("--workers", type=int, default=16, help="keep-alive connections")
    parser.add_argument("--loads", type=int, default=20, help="Chromium navigations")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, \
            serving(Path(tmp), "sqlite", {"AUTHD_LOG_LEVEL": "error"}) as server:
        login, health = asyncio.run(_rates(server.url, args.workers, args.seconds))
        sizes = {path: _page_bytes(server.url, path) for path in PAGES}
        dcl = _dom_content_loaded(server.url, args.loads)
    ratio = login / health
    print(f"{'endpoint':12} {'req/s':>8}")
    print(f"{'/healthz':12} {health:8.0f}")
    print(f"{'/login':12} {login:8.0f}")
    print(f"GET /login / GET /healthz ratio {ratio:.2f}  >= {RATE_TARGET} "
          f"{'MET' if ratio >= RATE_TARGET else 'MISSED'}")
    for path, size in sizes.items():
        print(f"bytes {path:18} {size:7,d}")
    print(f"/login HTML+CSS+JS {sizes['/login']:,d} B  <= {BYTES_TARGET:,d} "
          f"{'MET' if sizes['/login'] <= BYTES_TARGET else 'MISSED'}")
    print(f"/login domContentLoaded median of {args.loads} {dcl:.1f} ms  <= {DCL_TARGET:.0f} "
          f"{'MET' if dcl <= DCL_TARGET else 'MISSED'}")


if __name__ == "__main__":
    main()
