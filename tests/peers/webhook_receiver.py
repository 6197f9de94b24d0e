"""A real webhook receiver in its own process on loopback: answers as told, records what it got.

``POST /hook/<name>`` is a receiver endpoint. What it answers is set per name
with ``POST /control`` ``{"<name>": mode}``: ``ok`` (204), ``fail`` (500),
``slow`` (204 after 0.2 s), ``hang`` (no answer until the mode changes, at
most 60 s) or ``redirect`` (302 to ``/hook/<name>-moved``). Every request is
recorded with its headers, body, the mode it met, whether its signature
verifies with the ``standardwebhooks`` library, and how many requests of the
same ``webhook-id`` were in flight at once; ``GET /received`` lists them.
The process can be stopped (an outage) and started again on the same port.
Run as ``python -m tests.peers.webhook_receiver PORT SECRET``.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import orjson
from standardwebhooks import Webhook, WebhookVerificationError

from tests.serverproc import free_port

HANG_LIMIT = 60.0


class WebhookReceiver:
    """``with WebhookReceiver(secret) as r``: a running receiver; ``r.url(name)`` for authd."""

    def __init__(self, secret: str, port: int | None = None) -> None:
        self.secret = secret
        self.port = port or free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None

    def url(self, name: str) -> str:
        return f"{self.base}/hook/{name}"

    def start(self) -> WebhookReceiver:
        self.process = subprocess.Popen([sys.executable, "-m", "tests.peers.webhook_receiver",
                                         str(self.port), self.secret])
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("the webhook receiver exited")
            try:
                httpx.get(self.base + "/received", timeout=1)
                return self
            except httpx.HTTPError:
                time.sleep(0.02)
        raise RuntimeError("the webhook receiver did not start")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(timeout=15)
        self.process = None

    def __enter__(self) -> WebhookReceiver:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def set_mode(self, **modes: str) -> None:
        httpx.post(self.base + "/control", json=modes, timeout=10).raise_for_status()

    def received(self) -> list[dict[str, Any]]:
        records: list[dict[str, Any]] = httpx.get(self.base + "/received", timeout=10).json()
        return records

    def wait_for(self, predicate: Any, timeout: float = 30.0) -> list[dict[str, Any]]:
        """Poll ``received()`` until ``predicate(records)`` holds; the records, or AssertionError."""
        deadline = time.monotonic() + timeout
        records = self.received()
        while not predicate(records):
            if time.monotonic() > deadline:
                raise AssertionError(f"the receiver never saw what was expected: {records}")
            time.sleep(0.05)
            records = self.received()
        return records


class _State:
    def __init__(self, secret: str) -> None:
        self.verifier = Webhook(secret)
        self.lock = threading.Lock()
        self.changed = threading.Condition(self.lock)
        self.modes: dict[str, str] = {}
        self.records: list[dict[str, Any]] = []
        self.in_flight: Counter[str] = Counter()

    def record(self, handler: BaseHTTPRequestHandler, name: str) -> dict[str, Any]:
        body = handler.rfile.read(int(handler.headers.get("Content-Length", "0")))
        headers = {k.lower(): v for k, v in handler.headers.items()}
        try:
            self.verifier.verify(body, headers)
            verified = True
        except WebhookVerificationError:
            verified = False
        webhook_id = headers.get("webhook-id", "")
        with self.lock:
            self.in_flight[webhook_id] += 1
            entry = {"endpoint": name, "id": webhook_id, "timestamp": headers.get("webhook-timestamp"),
                     "signature": headers.get("webhook-signature"), "verified": verified,
                     "body": body.decode(errors="replace"), "mode": self.modes.get(name, "ok"),
                     "concurrent": self.in_flight[webhook_id], "at": time.time()}
            self.records.append(entry)
        return entry

    def wait_while_hanging(self, name: str) -> None:
        deadline = time.monotonic() + HANG_LIMIT
        with self.changed:
            while self.modes.get(name) == "hang" and time.monotonic() < deadline:
                self.changed.wait(0.1)

    def done(self, webhook_id: str) -> None:
        with self.lock:
            self.in_flight[webhook_id] -= 1


def _send(handler: BaseHTTPRequestHandler, status: int, body: bytes = b"",
          location: str | None = None) -> None:
    handler.send_response(status)
    if location:
        handler.send_header("Location", location)
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


def _serve(port: int, secret: str) -> None:
    state = _State(secret)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body are separate writes: no 40 ms stalls

        def log_message(self, *_args: Any) -> None:
            pass

        def do_GET(self) -> None:
            with state.lock:
                data = orjson.dumps(state.records)
            _send(self, 200, data)

        def do_POST(self) -> None:
            if self.path == "/control":
                modes = orjson.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))))
                with state.changed:
                    state.modes.update(modes)
                    state.changed.notify_all()
                _send(self, 204)
                return
            name = self.path.removeprefix("/hook/")
            entry = state.record(self, name)
            try:
                mode = entry["mode"]
                if mode == "hang":
                    state.wait_while_hanging(name)
                if mode == "slow":
                    time.sleep(0.2)
                if mode == "fail":
                    _send(self, 500, b"down for maintenance")
                elif mode == "redirect":
                    _send(self, 302, location=f"/hook/{name}-moved")
                else:
                    _send(self, 204)
            except OSError:  # authd gave up waiting and closed the connection
                pass
            finally:
                state.done(entry["id"])

    class Server(ThreadingHTTPServer):
        request_queue_size = 256  # the default 5 drops bursts of connections (SYN retried in 1 s)
        daemon_threads = True

    server = Server(("127.0.0.1", port), Handler)
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    server.serve_forever()
    server.server_close()


if __name__ == "__main__":
    _serve(int(sys.argv[1]), sys.argv[2])
