"""The load generator: asyncio + httpx, fixed concurrency or fixed rate, with warm-up.

httpx's async client with a keep-alive pool per target is already a
dependency and measures latency faithfully, but it spends ~1.3-2.5 ms of CPU
per request: on a machine shared with authd it, not authd, sets the rate of
cheap requests such as refreshes (measured in benchmarks/bench_scale.py, which
uses wrk and a lean raw-socket client for throughput targets). Run it from
another host to measure an authd deployment's ceiling.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

Request = Callable[[httpx.AsyncClient, int], Awaitable[httpx.Response]]


@dataclass
class ScenarioResult:
    name: str
    duration: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    errors: int = 0
    request_bytes: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def requests_per_second(self) -> float:
        return len(self.latencies_ms) / self.duration if self.duration else 0.0

    def percentile(self, p: float) -> float:
        if not self.latencies_ms:
            return 0.0
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(len(ordered) * p / 100))]

    def summary(self) -> dict[str, Any]:
        return {"name": self.name, "duration_s": round(self.duration, 3),
                "requests": len(self.latencies_ms), "rps": round(self.requests_per_second, 1),
                "p50_ms": round(self.percentile(50), 3), "p95_ms": round(self.percentile(95), 3),
                "p99_ms": round(self.percentile(99), 3), "errors": self.errors,
                "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
                "bytes_per_request": round(self.request_bytes / max(1, len(self.latencies_ms))),
                "latencies_ms": [round(x, 3) for x in self.latencies_ms], **self.extra}


def progress(name: str, elapsed: float, total: float, done: int) -> None:
    width = 30
    filled = int(width * min(1.0, elapsed / total)) if total else width
    sys.stderr.write(f"\r{name:8} [{'#' * filled}{'.' * (width - filled)}] "
                     f"{elapsed:5.1f}/{total:.0f}s {done:7d} req")
    sys.stderr.flush()


async def run_load(name: str, clients: list[httpx.AsyncClient], request: Request, *,
                   duration: float, warmup: float, concurrency: int, rate: float | None,
                   show_progress: bool = True) -> ScenarioResult:
    """Drive ``request`` for warm-up + duration; only the measured part is recorded."""
    result = ScenarioResult(name)
    start = time.monotonic()
    measure_from = start + warmup
    stop = measure_from + duration
    counter = 0

    async def worker(worker_id: int) -> None:
        nonlocal counter
        while True:
            now = time.monotonic()
            if now >= stop:
                return
            if rate is not None:  # fixed rate: each worker takes the next slot
                slot = start + counter / rate
                counter += 1
                if slot > now:
                    await asyncio.sleep(slot - now)
                    if time.monotonic() >= stop:
                        return
            else:
                counter += 1
            client = clients[counter % len(clients)]
            began = time.monotonic()
            try:
                response = await request(client, worker_id)
            except httpx.HTTPError:
                if began >= measure_from:
                    result.errors += 1
                continue
            if began >= measure_from:
                result.latencies_ms.append((time.monotonic() - began) * 1000)
                result.statuses[response.status_code] += 1
                result.request_bytes += _request_size(response.request)

    async def ticker() -> None:
        while time.monotonic() < stop:
            if show_progress:
                progress(name, max(0.0, time.monotonic() - measure_from), duration,
                         len(result.latencies_ms))
            await asyncio.sleep(0.2)

    tick = asyncio.create_task(ticker())
    await asyncio.gather(*(worker(i) for i in range(concurrency)))
    tick.cancel()
    result.duration = duration
    if show_progress:
        progress(name, duration, duration, len(result.latencies_ms))
        sys.stderr.write("\n")
    return result


def _request_size(request: httpx.Request) -> int:
    head = sum(len(k) + len(v) + 4 for k, v in request.headers.raw)
    return head + len(request.method) + len(request.url.raw_path) + 12 + len(request.content or b"")
