"""Where a social login may send the user back: exact origin, path prefix at a segment boundary.

An allow-list entry is an absolute URL, e.g. ``https://app.example.com/auth``.
A ``redirect_to`` matches when it is an absolute http(s) URL with exactly the
entry's scheme, host and port, and its path is the entry's path or continues
it after a ``/``. Everything that browsers or servers might read differently
is refused outright: userinfo (``user@host``), backslashes, control
characters and whitespace, encoded slashes, backslashes or dots in the path,
and relative or protocol-relative URLs. No open redirect.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from urllib.parse import urlsplit

from authd.errors import InvalidRequest

_FORBIDDEN = re.compile(r"[\x00-\x20\x7f\\]|%(00|0a|0d)", re.IGNORECASE)
_ENCODED_IN_PATH = re.compile(r"%(2f|5c|2e)", re.IGNORECASE)  # only the path: queries may encode
MAX_LENGTH = 2048


def check_redirect_to(url: str, allowlist: Sequence[str]) -> str:
    """``url`` if it is allowed; InvalidRequest otherwise."""
    if not url or len(url) > MAX_LENGTH or _FORBIDDEN.search(url):
        raise InvalidRequest("redirect_to is not allowed")
    target = _parse(url)
    if target is None or not any(_matches(target, entry) for entry in allowlist):
        raise InvalidRequest("redirect_to is not allowed")
    return url


def _parse(url: str) -> tuple[str, str, int | None, str] | None:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname or "@" in parts.netloc:
        return None
    if _ENCODED_IN_PATH.search(parts.path):
        return None
    return parts.scheme, parts.hostname, port, parts.path or "/"


def _matches(target: tuple[str, str, int | None, str], entry: str) -> bool:
    allowed = _parse(entry)
    if allowed is None:
        return False
    scheme, host, port, path = target
    a_scheme, a_host, a_port, a_path = allowed
    if (scheme, host, _port(scheme, port)) != (a_scheme, a_host, _port(a_scheme, a_port)):
        return False
    prefix = a_path.rstrip("/")
    return path in (a_path, prefix) or path.startswith(prefix + "/")


def _port(scheme: str, port: int | None) -> int:
    return port if port is not None else (443 if scheme == "https" else 80)
