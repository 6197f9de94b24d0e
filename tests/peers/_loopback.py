"""What the stand-in providers share: a threaded HTTP server on a free loopback port."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import orjson


class LoopbackServer:
    """Subclasses answer in ``handle_get``/``handle_post``; ``with`` starts and stops the server."""

    def start_server(self) -> None:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_args: Any) -> None:
                pass

            def do_GET(self) -> None:
                owner.handle_get(self)

            def do_POST(self) -> None:
                owner.handle_post(self)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def stop_server(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def handle_get(self, handler: BaseHTTPRequestHandler) -> None:
        send_json(handler, 404, {"error": "not_found"})

    def handle_post(self, handler: BaseHTTPRequestHandler) -> None:
        send_json(handler, 404, {"error": "not_found"})


def send_json(handler: BaseHTTPRequestHandler, status: int, body: Any) -> None:
    data = orjson.dumps(body)
    handler.send_response(status)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(data)))
    handler.end_headers()
    handler.wfile.write(data)


def redirect(handler: BaseHTTPRequestHandler, location: str) -> None:
    handler.send_response(302)
    handler.send_header("Location", location)
    handler.end_headers()


def read_form(handler: BaseHTTPRequestHandler) -> bytes:
    return handler.rfile.read(int(handler.headers.get("Content-Length", "0")))
