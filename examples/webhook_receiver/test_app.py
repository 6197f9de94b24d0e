"""The example receiver, served by uvicorn, against a real authd process."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import orjson
import pytest
import uvicorn
from tests.e2e.conftest import serving, sign_up
from tests.serverproc import free_port
from tests.webhooks.conftest import SECRET

from examples.webhook_receiver.app import create_app


class Served:
    """The example app on a loopback port, and the events it handled."""

    def __init__(self) -> None:
        self.handled: list[tuple[str, dict[str, Any]]] = []
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/webhooks"
        app = create_app(SECRET, lambda i, e: self.handled.append((i, e)))
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port,
                                                    log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def wait_for(self, predicate: Any, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            assert time.monotonic() < deadline, self.handled
            time.sleep(0.05)


@pytest.fixture
def receiver() -> Iterator[Served]:
    """The example receiver running under uvicorn."""
    served = Served()
    served.thread.start()
    served.wait_for(lambda: served.server.started)
    yield served
    served.server.should_exit = True
    served.thread.join(timeout=15)


def test_the_example_receives_a_sign_up_once(tmp_path: Any, receiver: Served) -> None:
    """authd's signed user.created is verified and handled; a repeat of its id is not handled."""
    env = {"AUTHD_WEBHOOKS": orjson.dumps({"app": {"url": receiver.url, "secret": SECRET,
                                                   "events": ["user.created"]}}).decode(),
           "AUTHD_WEBHOOK_DELIVERY__POLL_INTERVAL": "0.1"}
    with serving(tmp_path, "sqlite", env) as srv:
        with srv.client() as http:
            email = sign_up(http)
        receiver.wait_for(lambda: receiver.handled)
        srv.cli("webhooks", "replay", "--since", "1h")
        receiver.wait_for(lambda: srv.cli("webhooks", "deliveries", "--status", "delivered")
                          .stdout.count('"attempts":1') == 1)
    ((_, event),) = receiver.handled
    assert event["type"] == "user.created" and event["data"]["email"] == email


def test_the_example_refuses_an_unsigned_request(receiver: Served) -> None:
    """A request without a valid signature gets 400 and is not handled."""
    forged = httpx.post(receiver.url, content=b'{"type":"user.deleted"}',
                        headers={"webhook-id": "x", "webhook-timestamp": str(int(time.time())),
                                 "webhook-signature": "v1,AAAA"})
    assert forged.status_code == 400
    assert receiver.handled == []
