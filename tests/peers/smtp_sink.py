"""A real SMTP server (aiosmtpd) in its own process on loopback, storing what it accepts.

Each accepted message becomes one file in the sink's folder (written whole,
then renamed), so tests read mail as a user's mailbox would show it. The
process can be stopped mid-test (an outage) and started again on the same
port. Run as ``python -m tests.peers.smtp_sink PORT FOLDER``.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import os
import re
import secrets
import signal
import subprocess
import sys
import time
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from tests.serverproc import free_port


class SmtpSink:
    """``with SmtpSink(tmp) as sink``: a running SMTP server; ``sink.url`` for authd's smtp_url."""

    def __init__(self, folder: Path, port: int | None = None) -> None:
        self.folder = folder
        self.folder.mkdir(parents=True, exist_ok=True)
        self.port = port or free_port()
        self.url = f"smtp://127.0.0.1:{self.port}?tls=none"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> SmtpSink:
        self.process = subprocess.Popen([sys.executable, "-m", "tests.peers.smtp_sink",
                                         str(self.port), str(self.folder)])
        deadline = time.monotonic() + 90  # generous: a loaded machine starts slowly
        while time.monotonic() < deadline:
            if (self.folder / f".ready-{self.process.pid}").exists():
                return self
            if self.process.poll() is not None:
                raise RuntimeError("the SMTP sink exited")
            time.sleep(0.02)
        raise RuntimeError("the SMTP sink did not start")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(timeout=15)
        self.process = None

    def __enter__(self) -> SmtpSink:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def messages(self, to: str | None = None) -> list[EmailMessage]:
        found = []
        for path in sorted(self.folder.glob("*.eml")):
            message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            assert isinstance(message, EmailMessage)
            if to is None or message["To"] == to:
                found.append(message)
        return found

    def wait_for(self, to: str, count: int = 1, timeout: float = 60.0) -> list[EmailMessage]:
        """The first ``count`` messages to ``to``, polling with a generous deadline."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.messages(to)
            if len(found) >= count:
                return found
            time.sleep(0.05)
        raise AssertionError(f"{count} message(s) to {to} did not arrive in {timeout} s")


def text_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


def html_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("html",))
    assert part is not None
    return str(part.get_content())


def token_in(message: EmailMessage) -> str:
    """The token of the message's link."""
    match = re.search(r"token=([A-Za-z0-9_%-]+)", text_of(message))
    assert match, text_of(message)
    return match.group(1)


def code_in(message: EmailMessage) -> str:
    match = re.search(r"\b(\d{6})\b", text_of(message))
    assert match, text_of(message)
    return match.group(1)


class _Handler:
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:
        name = f"{time.time_ns()}-{secrets.token_hex(4)}"
        temp = self.folder / f"{name}.tmp"
        temp.write_bytes(envelope.original_content or envelope.content)
        os.replace(temp, self.folder / f"{name}.eml")
        return "250 OK"


def main(port: int, folder: Path) -> None:
    from aiosmtpd.controller import Controller

    controller = Controller(_Handler(folder), hostname="127.0.0.1", port=port)
    controller.start()
    (folder / f".ready-{os.getpid()}").touch()
    stop = asyncio.Event()
    loop = asyncio.new_event_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    loop.run_until_complete(stop.wait())
    controller.stop()


if __name__ == "__main__":
    main(int(sys.argv[1]), Path(sys.argv[2]))
