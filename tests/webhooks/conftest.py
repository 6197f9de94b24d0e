"""Webhook fixtures: a receiver process, and authd configured to call it on a short schedule."""

from __future__ import annotations

import base64
import secrets
from collections.abc import Iterator
from typing import Any

import orjson
import pytest

from tests.peers.webhook_receiver import WebhookReceiver

SECRET = "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()
# Seconds, not minutes: the schedule's real values are unit-tested with an injected clock.
FAST_DELIVERY = {"timeout": 1.0, "retry_delays": [0.3], "max_retry_delay": 0.5,
                 "poll_interval": 0.1}


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    """A running receiver that verifies signatures with the standardwebhooks library."""
    with WebhookReceiver(SECRET) as running:
        yield running


def webhook_env(receiver: WebhookReceiver, *names: str, events: tuple[str, ...] = ("*",),
                **delivery: Any) -> dict[str, str]:
    """authd's environment for one endpoint per name, each at ``receiver.url(name)``."""
    hooks = {name: {"url": receiver.url(name), "secret": SECRET, "events": list(events)}
             for name in names or ("main",)}
    return {"AUTHD_WEBHOOKS": orjson.dumps(hooks).decode(),
            "AUTHD_WEBHOOK_DELIVERY": orjson.dumps({**FAST_DELIVERY, **delivery}).decode()}


def bodies(records: list[dict[str, Any]], endpoint: str = "main") -> list[dict[str, Any]]:
    """The JSON bodies an endpoint received, in arrival order."""
    return [orjson.loads(r["body"]) for r in records if r["endpoint"] == endpoint]


def delivered(records: list[dict[str, Any]], endpoint: str = "main") -> list[dict[str, Any]]:
    """Records of attempts the receiver answered with 2xx."""
    return [r for r in records if r["endpoint"] == endpoint and r["mode"] in ("ok", "slow")]


def of_type(records: list[dict[str, Any]], event_type: str) -> list[dict[str, Any]]:
    return [r for r in records if orjson.loads(r["body"])["type"] == event_type]
