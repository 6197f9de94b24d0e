"""The load generator: asyncio + a lean keep-alive client, fixed concurrency or fixed rate.

Each worker holds one keep-alive connection per target URL and sends its
requests through ``authd.bench._lean`` (~0.1-0.2 ms of client CPU per request
instead of httpx's ~2.3 ms), so one generator core sustains several thousand
requests per second. The generator still shares the machine with what it
measures; every result therefore records the generator's CPU time over the
measured wall time, and ``generator_limited`` says plainly when the
generator, not the server, was the limit.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from authd.bench._lean import LeanConnection, LeanHttpError, Reply

Request = Callable[[LeanConnection, int], Awaitable[Reply]]

# A generator busy this share of its wall time was saturated: the server may
# have had more to give.
GENERATOR_LIMIT = 0.85


@dataclass
class ScenarioResult:
    name: str
    duration: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    errors: int = 0
    request_bytes: int = 0
    extra: dict[str, Any] = field(default_factory=dict)
    generator_cpu_s: float = 0.0

    @property
    def requests_per_second(self) -> float:
        return len(self.latencies_ms) / self.duration if self.duration else 0.0

    def percentile(self, p: float) -> float:
        if not self.latencies_ms:
            return 0.0
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(len(ordered) * p / 100))]

    @property
    def generator_cpu_share(self) -> float:
        """The generator's CPU seconds over the measured wall seconds (1.0 = one core busy)."""
        return self.generator_cpu_s / self.duration if self.duration else 0.0

    def summary(self) -> dict[str, Any]:
        return {"name": self.name, "duration_s": round(self.duration, 3),
                "requests": len(self.latencies_ms), "rps": round(self.requests_per_second, 1),
                "p50_ms": round(self.percentile(50), 3), "p95_ms": round(self.percentile(95), 3),
                "p99_ms": round(self.percentile(99), 3), "errors": self.errors,
                "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
                "bytes_per_request": round(self.request_bytes / max(1, len(self.latencies_ms))),
                "generator_cpu_share": round(self.generator_cpu_share, 3),
                "generator_limited": self.generator_cpu_share >= GENERATOR_LIMIT,
                "latencies_ms": [round(x, 3) for x in self.latencies_ms], **self.extra}


def progress(name: str, elapsed: float, total: float, done: int) -> None:
    width = 30
    filled = int(width * min(1.0, elapsed / total)) if total else width
    sys.stderr.write(f"\r{name:8} [{'#' * filled}{'.' * (width - filled)}] "
                     f"{elapsed:5.1f}/{total:.0f}s {done:7d} req")
    sys.stderr.flush()


async def run_load(name: str, urls: list[str], request: Request, *,
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
        connections = [LeanConnection(u) for u in urls]
        turn = worker_id
        try:
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
                turn += 1
                began = time.monotonic()
                try:
                    reply = await request(connections[turn % len(connections)], worker_id)
                except LeanHttpError:
                    if began >= measure_from:
                        result.errors += 1
                    continue
                if began >= measure_from:
                    result.latencies_ms.append((time.monotonic() - began) * 1000)
                    result.statuses[reply.status] += 1
                    result.request_bytes += reply.request_bytes
        finally:
            for connection in connections:
                connection.close()

    async def cpu_meter() -> None:
        """The generator's own CPU time over exactly the measured window."""
        await asyncio.sleep(max(0.0, measure_from - time.monotonic()))
        began = time.process_time()
        try:
            await asyncio.sleep(max(0.0, stop - time.monotonic()))
        finally:
            result.generator_cpu_s = time.process_time() - began

    async def ticker() -> None:
        while time.monotonic() < stop:
            if show_progress:
                progress(name, max(0.0, time.monotonic() - measure_from), duration,
                         len(result.latencies_ms))
            await asyncio.sleep(0.2)

    tick = asyncio.create_task(ticker())
    meter = asyncio.create_task(cpu_meter())
    await asyncio.gather(*(worker(i) for i in range(concurrency)))
    tick.cancel()
    await meter
    result.duration = duration
    if show_progress:
        progress(name, duration, duration, len(result.latencies_ms))
        sys.stderr.write("\n")
    return result
