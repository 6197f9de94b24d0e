"""When to fetch a JWKS, decided without I/O: the one cache policy of the server and the verifier.

The server (for a social-login provider's keys) and ``authd.verify`` (for
authd's keys) fetch; this module only says when, with time passed in:

* a fetched set is fresh for the publisher's ``max-age`` (``default_ttl``
  without one), clamped to [``min_ttl``, ``max_ttl``], so a misconfigured
  publisher can neither make every request fetch nor pin keys for days;
* an unknown ``kid`` allows a refetch at most once per ``min_refresh_interval``
  (a flood of forged kids costs one fetch per interval, not one per request);
* with no keys yet, a failed fetch is retried at most once per ``retry_interval``;
* a failed fetch keeps the last good set (the JWKS endpoint being down must
  not take valid tokens down with it);
* a clock that moves backwards never blocks a fetch.
"""

from __future__ import annotations

from dataclasses import dataclass

from authd.jose._keys._jwk import KeySet


@dataclass
class JwksCache:
    """The cached key set and the bookkeeping that decides the next fetch."""

    min_ttl: float = 60.0
    max_ttl: float = 3600.0
    default_ttl: float = 300.0
    min_refresh_interval: float = 10.0
    retry_interval: float = 1.0
    keys: KeySet | None = None
    fresh_until: float = float("-inf")
    last_attempt: float | None = None
    fetches: int = 0
    failures: int = 0
    last_error: str | None = None
    stale_since: float | None = None
    generation: int = 0

    def needs_fetch(self, now: float) -> bool:
        """No keys yet, or they are past their freshness, and the last attempt is not too recent."""
        if self.keys is None:
            return self._waited(now, self.retry_interval)
        return now >= self.fresh_until and self._waited(now, self.min_refresh_interval)

    def may_refetch_for_unknown_kid(self, now: float) -> bool:
        """Whether a token naming an unknown kid may cause a fetch now."""
        return self._waited(now, self.min_refresh_interval)

    def _waited(self, now: float, interval: float) -> bool:
        last = self.last_attempt
        return last is None or now < last or now - last >= interval

    def started(self, now: float) -> None:
        """Record that a fetch starts now (callers call this before fetching)."""
        self.last_attempt = now
        self.fetches += 1

    def succeeded(self, keys: KeySet, max_age: float | None, now: float) -> None:
        """Install a fetched set, fresh for ``max_age`` clamped to the bounds."""
        ttl = self.default_ttl if max_age is None else max_age
        self.keys = keys
        self.fresh_until = now + min(max(ttl, self.min_ttl), self.max_ttl)
        self.stale_since = None
        self.last_error = None
        self.generation += 1

    def pin(self, keys: KeySet) -> None:
        """Install a set that never goes stale (keys given by the application, not fetched)."""
        self.keys = keys
        self.fresh_until = float("inf")
        self.generation += 1

    def failed(self, error: str, now: float) -> None:
        """Record a failed fetch; the last good set stays in use."""
        self.failures += 1
        self.last_error = error
        if self.stale_since is None and self.keys is not None:
            self.stale_since = now
