"""Where a social login may send the user back: exact origin, path prefix at a segment boundary.

An allow-list entry is an absolute URL, e.g. ``https://app.example.com/auth``.
A ``redirect_to`` matches when it is an absolute http(s) URL with exactly the
entry's scheme, host and port, and its path, after dot segments are removed
the way a browser removes them (RFC 3986 §5.2.4), is the entry's path or
continues it after a ``/``. The URL handed back is the normalised one, so the
user lands exactly on the path that was checked.

Everything that browsers and servers might read differently is refused
outright: userinfo (``user@host``), backslashes, control characters and
whitespace, anything outside printable ASCII (servers that fold Unicode may
turn ``‥`` into ``..``), ``;`` path parameters (``/app/..;/evil`` is
``/evil`` to some servers), empty path segments (``//evil``), encoded dots,
slashes, backslashes, semicolons or percent signs in the path (a server that
decodes once more sees ``../``), and relative or protocol-relative URLs.
No open redirect.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from urllib.parse import SplitResult, urlsplit, urlunsplit

from authd.errors import InvalidRequest

_FORBIDDEN = re.compile(r"[^\x21-\x7e]|\\|%(00|0a|0d)", re.IGNORECASE)
# Only the path: queries may encode what they like.
_AMBIGUOUS_IN_PATH = re.compile(r";|//|%(2e|2f|5c|3b|25|[01][0-9a-f]|7f)", re.IGNORECASE)
MAX_LENGTH = 2048

_Target = tuple[str, str, int | None, str]


def check_redirect_to(url: str, allowlist: Sequence[str]) -> str:
    """The URL to send the user to (dot segments removed) if it is allowed; InvalidRequest otherwise."""
    if not url or len(url) > MAX_LENGTH or _FORBIDDEN.search(url):
        raise InvalidRequest("redirect_to is not allowed")
    parts = _split(url)
    target = _target(parts) if parts is not None else None
    if parts is None or target is None or not any(_matches(target, e) for e in allowlist):
        raise InvalidRequest("redirect_to is not allowed")
    if parts.path == target[3] or (not parts.path and target[3] == "/"):
        return url
    return urlunsplit(parts._replace(path=target[3]))


def remove_dot_segments(path: str) -> str:
    """RFC 3986 §5.2.4: the path a browser actually requests for ``path``."""
    output: list[str] = []
    rest = path
    while rest:
        rest = _consume(rest, output)
    return "".join(output)


def _consume(rest: str, output: list[str]) -> str:
    """One turn of the §5.2.4 loop (steps A to E): what is left of the input."""
    if rest.startswith(("../", "./")):
        return rest.partition("/")[2]
    if rest.startswith("/./") or rest == "/.":
        return "/" + rest[3:]
    if rest.startswith("/../") or rest == "/..":
        if output:
            output.pop()
        return "/" + rest[4:]
    if rest in (".", ".."):
        return ""
    end = rest.find("/", 1)
    end = len(rest) if end == -1 else end
    output.append(rest[:end])
    return rest[end:]


def _split(url: str) -> SplitResult | None:
    try:
        parts = urlsplit(url)
        _ = parts.port  # a bad port raises ValueError
    except ValueError:
        return None
    return parts


def _target(parts: SplitResult) -> _Target | None:
    if parts.scheme not in ("http", "https") or not parts.hostname or "@" in parts.netloc:
        return None
    if _AMBIGUOUS_IN_PATH.search(parts.path):
        return None
    path = remove_dot_segments(parts.path) or "/"
    return parts.scheme, parts.hostname, parts.port, path


def _matches(target: _Target, entry: str) -> bool:
    parts = _split(entry)
    allowed = _target(parts) if parts is not None else None
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
