"""Liveness and readiness for load balancers and orchestrators."""

from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.responses import Response

from authd.http.auth import services
from authd.http.responses import json_response

log = logging.getLogger("authd.health")


async def healthz(_request: Request) -> Response:
    return json_response({"status": "ok"})


async def readyz(request: Request) -> Response:
    svc = services(request)
    checks: dict[str, str] = {}
    try:
        await svc.store.ping()
        checks["database"] = "ok"
    except Exception:  # readiness reports, it does not crash
        log.warning("database not reachable", exc_info=True)
        checks["database"] = "unavailable"
    if svc.redis is not None:
        try:
            await svc.redis.ping()
            checks["redis"] = "ok"
        except Exception:
            log.warning("redis not reachable", exc_info=True)
            checks["redis"] = "unavailable"
    ready = all(v == "ok" for v in checks.values())
    checks["rate_limits"] = "per-instance (degraded)" if svc.guard.degraded else (
        "shared" if svc.redis is not None else "per-instance")
    return json_response({"status": "ok" if ready else "unavailable", "checks": checks},
                         status=200 if ready else 503, headers={"Cache-Control": "no-store"})
