"""The client's address behind trusted proxies (X-Forwarded-For, RFC 7239 Forwarded).

Behind a load balancer every connection comes from the balancer, so per-IP
limits, session addresses and the audit trail would all name it. The
operator lists the proxies whose forwarding headers are believed
(``trusted_proxies``). Only when the connection itself comes from one of them
are the headers read at all; the chain is then walked from the right,
skipping trusted hops, and the right-most hop that is not trusted is the
client: everything to its left was written by the client and may be forged.

Pure functions over strings (no web framework), so that every rule here is
tested directly.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from functools import lru_cache
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address, ip_network

Address = IPv4Address | IPv6Address
Network = IPv4Network | IPv6Network

MAX_NODE = 64  # longer than any address with a port, quoted and bracketed
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
# A quoted string (to the end if unterminated), a run of plain characters, or the separator.
_PIECES = {sep: re.compile(rf'"(?:[^"\\]|\\.)*"?|[^"{sep}]+|{sep}') for sep in ",;"}


@lru_cache(maxsize=8)
def trusted_networks(entries: tuple[str, ...]) -> tuple[Network, ...]:
    """The ``trusted_proxies`` setting as networks, parsed once (validated at start-up)."""
    return tuple(ip_network(entry) for entry in entries)


def client_address(peer: str | None, trusted: Sequence[Network], *,
                   forwarded_for: Sequence[str] = (), forwarded: Sequence[str] = ()) -> str | None:
    """The client's address for a connection from ``peer`` carrying these header values.

    ``forwarded_for`` and ``forwarded`` are every ``X-Forwarded-For`` and
    ``Forwarded`` header line, in order. Without a trusted peer the headers
    are ignored. When both headers are present, a client may have written
    either of them whole, so they must name the same client; otherwise the
    peer is the answer (the request is counted against the proxy).
    """
    last = _address(peer) if peer is not None else None
    if last is None or not _is_trusted(last, trusted):
        return peer
    answers = {_walk(items, parse, last, trusted)
               for items, parse in _chains(forwarded_for, forwarded)}
    return answers.pop() if len(answers) == 1 else str(last)


_Parse = Callable[[str], Address | None]


def _chains(forwarded_for: Sequence[str], forwarded: Sequence[str]) -> Iterator[tuple[list[str], _Parse]]:
    """Each header's hops (left to right, still text) with the parser of one hop."""
    if forwarded_for:
        yield ",".join(forwarded_for).split(","), _node
    if forwarded:
        yield _split(",".join(forwarded), ","), _forwarded_for


def _walk(items: list[str], parse: _Parse, last: Address, trusted: Sequence[Network]) -> str:
    """Right to left: the first untrusted hop. A hop that is not an address stops the walk at
    the trusted proxy that wrote it (nothing to its left can be believed). Hops are parsed
    only as far as the walk goes."""
    for item in reversed(items):
        hop = parse(item)
        if hop is None:
            return str(last)
        if not _is_trusted(hop, trusted):
            return str(hop)
        last = hop
    return str(last)


def _is_trusted(address: Address, trusted: Sequence[Network]) -> bool:
    return any(address in network for network in trusted)


def _address(text: str) -> Address | None:
    """An IP address, IPv4-mapped IPv6 as IPv4 (one client, one key); None if it is not one."""
    try:
        address = ip_address(text)
    except ValueError:
        return None
    if isinstance(address, IPv6Address):
        if address.scope_id is not None:
            return None
        if address.ipv4_mapped is not None:
            return address.ipv4_mapped
    return address


def _node(text: str) -> Address | None:
    """One hop: ``192.0.2.1``, ``192.0.2.1:4711``, ``2001:db8::1``, ``[2001:db8::1]:4711``."""
    node = text.strip()
    if len(node) > MAX_NODE:
        return None
    if node.startswith("["):
        host, bracket, port = node[1:].partition("]")
        return _address(host) if bracket and _is_port(port) else None
    if node.count(":") == 1:
        host, _, port = node.partition(":")
        return _address(host) if _is_port(":" + port) else None
    return _address(node)


def _is_port(text: str) -> bool:
    return text == "" or (text.startswith(":") and text[1:].isdigit() and len(text) <= 6)


def _forwarded_for(element: str) -> Address | None:
    """The ``for`` of one RFC 7239 forwarded-element; None if absent, repeated or malformed."""
    found: list[str] = []
    for pair in _split(element, ";"):
        if not pair.strip():
            continue
        name, equals, value = pair.partition("=")
        name, value = name.strip(), value.strip()
        if not equals or not _TOKEN.fullmatch(name):
            return None
        if name.lower() == "for":
            found.append(value)
    if len(found) != 1:
        return None
    value = found[0]
    if value.startswith('"'):
        if len(value) < 2 or not value.endswith('"'):
            return None
        value = value[1:-1].replace("\\", "")
    return _node(value)


def _split(text: str, separator: str) -> list[str]:
    """``text`` split at ``separator`` outside quoted strings (RFC 7230 quoted-string)."""
    parts: list[str] = []
    current: list[str] = []
    for match in _PIECES[separator].finditer(text):
        piece = match.group()
        if piece == separator:
            parts.append("".join(current))
            current = []
        else:
            current.append(piece)
    parts.append("".join(current))
    return parts
