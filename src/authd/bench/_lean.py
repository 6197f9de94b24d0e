"""A lean HTTP/1.1 keep-alive client: the load generator's one way of sending requests.

httpx costs ~2.3 ms of client CPU per request; on a machine shared with
authd the generator, not authd, then sets the rate. This client writes the
request bytes itself and reads ``Content-Length`` (or chunked) bodies from an
asyncio stream: ~0.1-0.2 ms of CPU per request, so one generator core
sustains several thousand requests per second. It speaks only what authd
answers (HTTP/1.1 with keep-alive, over TCP or TLS), which is all a benchmark
needs.
"""

from __future__ import annotations

import asyncio
import ssl
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit


class LeanHttpError(Exception):
    """The connection failed or the server's answer was not HTTP/1.1 as expected."""


@dataclass(frozen=True)
class Reply:
    status: int
    head: bytes  # status line and headers, lower-cased
    body: bytes
    request_bytes: int


class LeanConnection:
    """One keep-alive connection to ``url`` (http only); reconnects after a failure."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise LeanHttpError(f"the lean client needs an http(s) URL, not {url!r}")
        self.host = parts.hostname
        self.port = parts.port or (443 if parts.scheme == "https" else 80)
        self._tls = ssl.create_default_context() if parts.scheme == "https" else None
        self._host_header = parts.netloc.encode()
        self._streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    async def request(self, method: str, path: str, *, headers: dict[str, str] | None = None,
                      form: dict[str, str] | None = None, body: bytes = b"",
                      content_type: str = "application/json") -> Reply:
        if form is not None:
            body, content_type = urlencode(form).encode(), "application/x-www-form-urlencoded"
        lines = [f"{method} {path} HTTP/1.1".encode(), b"Host: " + self._host_header]
        lines += [f"{k}: {v}".encode() for k, v in (headers or {}).items()]
        if body or method in ("POST", "PUT", "PATCH"):
            lines += [f"Content-Type: {content_type}".encode(), b"Content-Length: %d" % len(body)]
        raw = b"\r\n".join(lines) + b"\r\n\r\n" + body
        try:
            return await self._exchange(raw)
        except (OSError, asyncio.IncompleteReadError, ValueError, IndexError) as exc:
            self.close()
            raise LeanHttpError(f"{method} {path}: {exc!r}") from None

    async def _exchange(self, raw: bytes) -> Reply:
        if self._streams is None:
            self._streams = await asyncio.open_connection(self.host, self.port, ssl=self._tls)
        reader, writer = self._streams
        writer.write(raw)
        head = (await reader.readuntil(b"\r\n\r\n")).lower()
        status = int(head[9:12])
        if b"\r\ncontent-length:" in head:
            length = int(head.split(b"\r\ncontent-length:", 1)[1].split(b"\r\n", 1)[0])
            body = await reader.readexactly(length)
        elif b"\r\ntransfer-encoding: chunked" in head:
            body = await _read_chunked(reader)
        else:
            body = b""
        if b"\r\nconnection: close" in head:
            self.close()
        return Reply(status, head, body, len(raw))

    def close(self) -> None:
        if self._streams is not None:
            self._streams[1].close()
            self._streams = None


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    parts: list[bytes] = []
    while True:
        size = int((await reader.readuntil(b"\r\n")).split(b";", 1)[0], 16)
        chunk = await reader.readexactly(size + 2)
        if size == 0:
            return b"".join(parts)
        parts.append(chunk[:-2])
