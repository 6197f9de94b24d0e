"""Validating what the bench may hit: it never loads anything but the URLs it is given."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

SCENARIOS = ("login", "refresh", "bearer", "cookie", "revoke", "mixed", "healthz")


class BenchArgumentError(ValueError):
    """A bad argument, explained in one line."""


def check_url(url: str, *, own_target: bool) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise BenchArgumentError(f"--url {url!r}: give an http(s) URL like http://127.0.0.1:8000")
    if not own_target and not _loopback(parts.hostname):
        raise BenchArgumentError(f"--url {url!r} is not on this machine; add --i-own-this-target "
                                 "only for a deployment you are allowed to load")
    return url.rstrip("/")


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_numbers(duration: float, warmup: float, concurrency: int, rate: float | None) -> None:
    if duration <= 0:
        raise BenchArgumentError("--duration must be more than 0 seconds")
    if warmup < 0:
        raise BenchArgumentError("--warmup must not be negative")
    if not 1 <= concurrency <= 1000:
        raise BenchArgumentError("--concurrency must be between 1 and 1000")
    if rate is not None and rate <= 0:
        raise BenchArgumentError("--rate must be more than 0 requests per second")


def check_scenarios(names: list[str]) -> list[str]:
    unknown = [n for n in names if n not in SCENARIOS]
    if unknown:
        raise BenchArgumentError(f"unknown scenario {unknown[0]!r}; choose from {', '.join(SCENARIOS)}")
    return names or ["login", "refresh", "bearer", "cookie", "revoke"]
