"""Readiness: can this instance serve? One use case behind ``/readyz``.

Each backing service is probed through a callable wiring hands in (the
database, Redis when configured), so the route never talks to a store or a
client itself. A probe that fails makes the instance not ready; the rate-limit
line only informs (a Redis outage degrades counting to this instance, it does
not stop serving).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

from authd.core.ratelimit import BruteForceGuard

log = logging.getLogger("authd.health")
Probe = Callable[[], Awaitable[object]]


@dataclass(frozen=True, slots=True)
class Readiness:
    ready: bool
    checks: dict[str, str]


class Health:
    def __init__(self, probes: Mapping[str, Probe], guard: BruteForceGuard, *,
                 shared_limits: bool) -> None:
        self._probes = dict(probes)
        self._guard = guard
        self._shared_limits = shared_limits

    async def readiness(self) -> Readiness:
        """Probe every backing service; ready only if each answered."""
        checks: dict[str, str] = {}
        for name, probe in self._probes.items():
            try:
                await probe()
                checks[name] = "ok"
            except Exception:  # readiness reports, it does not crash
                log.warning("%s not reachable", name, exc_info=True)
                checks[name] = "unavailable"
        ready = all(v == "ok" for v in checks.values())
        checks["rate_limits"] = "per-instance (degraded)" if self._guard.degraded else (
            "shared" if self._shared_limits else "per-instance")
        return Readiness(ready, checks)
