"""One signed POST per attempt, with httpx, to a configured URL only.

Headers follow Standard Webhooks: ``webhook-id`` (the outbox id, the same on
every retry), ``webhook-timestamp`` (this attempt, Unix seconds) and
``webhook-signature`` (``v1,`` + base64 HMAC-SHA256 over ``id.timestamp.body``,
computed by the ``standardwebhooks`` library). Redirects are not followed: a
3xx is a failed attempt, so a receiver can never point authd somewhere else.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
from standardwebhooks import Webhook

from authd.clock import Clock
from authd.core.webhooks import SendResult

USER_AGENT = "authd-webhooks"


@dataclass(frozen=True)
class Endpoint:
    url: str
    signer: Webhook


class HttpSender:
    """Implements ``authd.core.webhooks.WebhookSender`` for the configured endpoints."""

    def __init__(self, endpoints: Mapping[str, Endpoint], clock: Clock, timeout: float) -> None:
        self._endpoints = dict(endpoints)
        self._clock = clock
        self._http = httpx.AsyncClient(
            timeout=timeout, follow_redirects=False, trust_env=False,
            limits=httpx.Limits(max_connections=None, max_keepalive_connections=64))

    async def send(self, endpoint: str, webhook_id: str, body: bytes) -> SendResult:
        target = self._endpoints.get(endpoint)
        if target is None:  # a row of an endpoint since removed from the configuration
            return SendResult(None, f"no webhook endpoint named {endpoint!r} is configured")
        now = int(self._clock.now())
        headers = {
            "content-type": "application/json",
            "user-agent": USER_AGENT,
            "webhook-id": webhook_id,
            "webhook-timestamp": str(now),
            "webhook-signature": target.signer.sign(webhook_id, datetime.fromtimestamp(now, UTC),
                                                    body),
        }
        try:
            response = await self._http.post(target.url, content=body, headers=headers)
        except httpx.TimeoutException:
            return SendResult(None, "timeout")
        except httpx.HTTPError as exc:
            return SendResult(None, f"{type(exc).__name__}: could not reach the receiver")
        if 300 <= response.status_code < 400:
            return SendResult(response.status_code, f"HTTP {response.status_code}: redirects "
                                                    "are not followed")
        return SendResult(response.status_code)

    async def aclose(self) -> None:
        await self._http.aclose()
