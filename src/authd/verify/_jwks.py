"""The JWKS cache: when to fetch is decided here, without I/O; the verifier does the fetching.

* a fetched set is fresh for the server's ``max-age``, clamped to
  [``min_ttl``, ``max_ttl``] so a misconfigured server can neither make
  every request fetch nor pin keys for days;
* an unknown ``kid`` triggers a refetch at most once per ``min_refresh_interval``
  (a flood of random kids costs one fetch per interval, not one per request);
* a failed fetch keeps the last good set (the JWKS endpoint being down must
  not take valid tokens down with it).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from authd.jose import KeySet


@dataclass
class JwksState:
    min_ttl: float = 60.0
    max_ttl: float = 3600.0
    default_ttl: float = 300.0
    min_refresh_interval: float = 10.0
    keys: KeySet | None = None
    fresh_until: float = 0.0
    last_attempt: float = float("-inf")
    fetches: int = 0
    failures: int = 0
    last_error: str | None = None
    stale_since: float | None = None
    generation: int = 0
    _algorithms: frozenset[str] | None = field(default=None, repr=False)

    def needs_fetch(self, now: float) -> bool:
        """No keys yet, or they are past their freshness (and we may try again)."""
        if self.keys is None:
            return now - self.last_attempt >= 1.0 or self.fetches == 0
        return now >= self.fresh_until and now - self.last_attempt >= self.min_refresh_interval

    def may_refetch_for_unknown_kid(self, now: float) -> bool:
        return now - self.last_attempt >= self.min_refresh_interval

    def started(self, now: float) -> None:
        self.last_attempt = now
        self.fetches += 1

    def succeeded(self, jwks: dict[str, Any], max_age: float | None, now: float,
                  default_alg: str | None) -> None:
        keys = KeySet.from_jwks(jwks, default_alg=default_alg)
        if self._algorithms is not None:
            keys = KeySet(k for k in keys if k.alg in self._algorithms)
        ttl = self.default_ttl if max_age is None else max_age
        self.keys = keys
        self.fresh_until = now + min(max(ttl, self.min_ttl), self.max_ttl)
        self.stale_since = None
        self.last_error = None
        self.generation += 1

    def failed(self, error: str, now: float) -> None:
        self.failures += 1
        self.last_error = error
        if self.stale_since is None and self.keys is not None:
            self.stale_since = now


def monotonic() -> float:
    return time.monotonic()
