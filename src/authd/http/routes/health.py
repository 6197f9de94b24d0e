"""Liveness and readiness for load balancers and orchestrators."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from authd.http.auth import services
from authd.http.responses import json_response


async def healthz(_request: Request) -> Response:
    return json_response({"status": "ok"})


async def readyz(request: Request) -> Response:
    readiness = await services(request).health.readiness()
    return json_response({"status": "ok" if readiness.ready else "unavailable",
                          "checks": readiness.checks},
                         status=200 if readiness.ready else 503, headers={"Cache-Control": "no-store"})
