"""Prometheus metrics: per-route request counts and latency, and security-event counters.

One registry per app (no process-global state), served at /metrics. Route
labels are route templates (``/v1/sessions/{session_id}``), never raw paths,
so label cardinality stays bounded whatever clients send.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterator, Mapping, MutableMapping
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.registry import Collector
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match

from authd.core import audit

Scope = MutableMapping[str, Any]
ASGIApp = Callable[[Scope, Callable[[], Awaitable[Any]], Callable[[Any], Awaitable[None]]],
                   Awaitable[None]]

EVENT_COUNTERS = {
    audit.LOGIN_OK: ("logins", {"result": "ok"}),
    audit.LOGIN_FAILED: ("logins", {"result": "failed"}),
    audit.REFRESH: ("refreshes", {}),
    audit.REUSE_DETECTED: ("reuse_detections", {}),
    audit.REVOKE: ("revocations", {}),
    audit.SESSION_REVOKED: ("revocations", {}),
    audit.LOGOUT_EVERYWHERE: ("revocations", {}),
    audit.KEY_ROTATED: ("key_rotations", {}),
    audit.MAIL_GIVEN_UP: ("mail_given_up", {}),
}


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Counter("authd_requests", "HTTP requests", ["route", "method", "status"],
                                registry=r)
        self.latency = Histogram("authd_request_seconds", "HTTP request latency", ["route"],
                                 registry=r, buckets=(.001, .0025, .005, .01, .025, .05, .1, .25,
                                                      .5, 1, 2.5))
        self.logins = Counter("authd_logins", "Password logins", ["result"], registry=r)
        self.refreshes = Counter("authd_refreshes", "Refresh-token rotations", registry=r)
        self.reuse_detections = Counter("authd_reuse_detections",
                                        "Refresh-token reuse (theft) detections", registry=r)
        self.revocations = Counter("authd_revocations", "Revocations and logouts", registry=r)
        self.rate_limited = Counter("authd_rate_limited", "Requests refused with 429",
                                    registry=r)
        self.key_rotations = Counter("authd_key_rotations", "Signing key rotations", registry=r)
        self.mail_given_up = Counter("authd_mail_given_up",
                                     "Outbox messages that kept failing until mail.give_up_after",
                                     registry=r)

        self.webhooks = Counter("authd_webhook_attempts",
                                "Webhook attempts by endpoint and result (delivered, failed: "
                                "retried later, given_up)", ["endpoint", "result"], registry=r)

    def watch_webhooks(self, pending: Callable[[], Mapping[str, int]]) -> None:
        """Serve ``authd_webhook_pending{endpoint}`` from ``pending`` (counted in the background)."""
        self.registry.register(_PendingWebhooks(pending))

    def on_webhook_outcome(self, endpoint: str, outcome: str) -> None:
        self.webhooks.labels(endpoint, outcome).inc()

    def on_audit_event(self, event: str) -> None:
        counted = EVENT_COUNTERS.get(event)
        if counted is not None:
            name, labels = counted
            metric = getattr(self, name)
            (metric.labels(**labels) if labels else metric).inc()

    def render(self) -> Response:
        return Response(generate_latest(self.registry), media_type=CONTENT_TYPE_LATEST)


class _PendingWebhooks(Collector):
    def __init__(self, pending: Callable[[], Mapping[str, int]]) -> None:
        self._pending = pending

    def collect(self) -> Iterator[GaugeMetricFamily]:
        gauge = GaugeMetricFamily("authd_webhook_pending",
                                  "Webhook events not yet delivered nor given up", labels=["endpoint"])
        for endpoint, count in sorted(self._pending().items()):
            gauge.add_metric([endpoint], count)
        yield gauge


class MetricsMiddleware:
    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def record_status(message: Any) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, record_status)
        finally:
            route = _route_template(scope)
            self.metrics.requests.labels(route, scope["method"], str(status)).inc()
            self.metrics.latency.labels(route).observe(time.perf_counter() - start)
            if status == 429:
                self.metrics.rate_limited.inc()


def _route_template(scope: Scope) -> str:
    app = scope.get("app")
    for route in getattr(getattr(app, "router", None), "routes", []):
        match, _ = route.matches(scope)
        if match is Match.FULL:
            return str(route.path)
    return "unmatched"


async def metrics_endpoint(request: Request) -> Response:
    metrics: Metrics = request.app.state.metrics
    return metrics.render()
