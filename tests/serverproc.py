"""A real ``authd serve`` process on a loopback port, for end-to-end tests.

Tests talk to it over HTTP exactly as users do; it can be restarted, or
killed with SIGKILL to prove that acknowledged writes survive a crash.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

AUTHD = [sys.executable, "-m", "authd.cli"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PortTaken(Exception):
    """Another process bound the port between ``free_port`` and authd's start."""


class AuthdServer:
    def __init__(self, data_dir: Path, *, database_url: str | None = None,
                 env: dict[str, str] | None = None, port: int | None = None) -> None:
        self.data_dir = data_dir
        self.port = port or free_port()
        # a port picked here may be taken by another process before authd binds it (tests run
        # in parallel): start() then moves to another one, unless the test chose the port
        self._port_chosen = port is not None or "AUTHD_ISSUER" in (env or {})
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "AUTHD_ISSUER": self.url,
            "AUTHD_DATA_DIR": str(data_dir),
            "AUTHD_LOG_LEVEL": "warning",
            **({"AUTHD_DATABASE_URL": database_url} if database_url else {}),
            **(env or {}),
        }
        self.env.pop("AUTHD_CONFIG", None) if "AUTHD_CONFIG" not in (env or {}) else None
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path = data_dir / f"server-{self.port}.log"

    def cli(self, *args: str, input: str | None = None, check: bool = True
            ) -> subprocess.CompletedProcess[str]:
        """Run an ``authd`` command against this server's configuration."""
        return subprocess.run([*AUTHD, *args], env=self.env, capture_output=True, text=True,
                              input=input, check=check, timeout=60)

    def start(self, timeout: float = 90.0) -> AuthdServer:  # generous: a loaded machine starts slowly
        for _ in range(5):
            try:
                return self._start(timeout)
            except PortTaken:
                self._move_to(free_port())
        raise RuntimeError("authd found no free port in five tries")

    def _move_to(self, port: int) -> None:
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.env["AUTHD_ISSUER"] = self.url
        self.log_path = self.data_dir / f"server-{port}.log"

    def _start(self, timeout: float) -> AuthdServer:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [*AUTHD, "serve", "--host", "127.0.0.1", "--port", str(self.port)],
            env=self.env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self.process = None
                if not self._port_chosen and "address already in use" in self.log_path.read_text():
                    raise PortTaken(self.port)
                raise RuntimeError(f"authd exited: {self.log_path.read_text()[-3000:]}")
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"authd did not start: {self.log_path.read_text()[-3000:]}")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def kill9(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()
        self.process = None

    def restart(self) -> AuthdServer:
        self.stop()
        return self.start()

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=30)
