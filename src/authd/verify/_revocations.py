"""Follows authd's revocation feed so that ``verify`` can refuse revoked tokens locally.

The request path does a set lookup only; a background thread polls
``GET /v1/revocations?since=<cursor>`` every ``poll_interval`` seconds. The
entries go into the same ``Denylist`` structure the server uses: kept until
the ``exp`` the feed gives (after which the token they name is refused as
expired anyway), and bounded: past ``max_entries`` the entries closest to
expiry are dropped first. Time comes from the injected clock. During a feed outage the last
known set stays in force and ``stats()`` says since when it is stale.

A verifier built from a JWKS URL alone does not know the feed's address: it
gives the follower a ``locate`` function (the issuer's discovery document).
Until that answers, the follower logs a warning and retries with backoff; it
never quietly stops following.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

import httpx

from authd.clock import Clock, SystemClock
from authd.jose import Denylist
from authd.verify._fetch import FetchError, get_json

log = logging.getLogger("authd.verify")
MIN_LOCATE_BACKOFF = 1.0
MAX_LOCATE_BACKOFF = 60.0


class FeedNotFound(Exception):
    """The feed's address could not be found (discovery unreachable or silent about it)."""


class RevocationFollower:
    def __init__(self, url: str | None, *, poll_interval: float = 2.0, max_entries: int = 1_000_000,
                 client: httpx.Client | None = None, clock: Clock | None = None,
                 locate: Callable[[], str] | None = None) -> None:
        if url is None and locate is None:
            raise ValueError("a revocation follower needs the feed's URL or a way to find it")
        self.url = url
        self._locate = locate
        self._locate_failures = 0
        self.poll_interval = poll_interval
        self._clock = clock or SystemClock()
        self._client = client or httpx.Client()
        self._owns_client = client is None
        self.denylist = Denylist(max_entries)
        self.cursor: str | None = None
        self.polls = 0
        self.failures = 0
        self.last_ok: float | None = None
        self.stale_since: float | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def is_revoked(self, jti: object, sid: object) -> bool:
        return self.denylist.is_revoked(jti, sid)

    def start(self) -> None:
        """Poll once now (so the first verification already knows the set), then in the background."""
        with self._lock:
            if self._thread is not None:
                return
            if self._found():
                self.poll_once()
            self._thread = threading.Thread(target=self._run, name="authd-revocations",
                                            daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self._next_wait()):
            if self._found():
                self.poll_once()

    def _next_wait(self) -> float:
        return self.poll_interval if self.url is not None else self._locate_backoff()

    def _locate_backoff(self) -> float:
        """Seconds until the next try at finding the feed: doubling from the poll interval to a minute."""
        base = max(self.poll_interval, MIN_LOCATE_BACKOFF)
        doublings = max(self._locate_failures - 1, 0)
        return float(min(base * 2.0 ** doublings, MAX_LOCATE_BACKOFF))

    def _found(self) -> bool:
        """Whether the feed's URL is known, asking ``locate`` if not (warns and backs off)."""
        if self.url is not None:
            return True
        assert self._locate is not None
        try:
            self.url = self._locate()
        except (FetchError, FeedNotFound) as exc:
            self.failures += 1
            self._locate_failures += 1
            if self.stale_since is None:
                self.stale_since = self._clock.now()
            log.warning("cannot find the revocation feed through discovery (%s); revoked tokens are "
                        "accepted until it is found; retrying in %.1f s", exc, self._locate_backoff())
            return False
        log.info("following the revocation feed at %s", self.url)
        return True

    def poll_once(self) -> None:
        if self.url is None:
            return
        params = {"since": self.cursor} if self.cursor else None
        try:
            page = get_json(self._client, self.url, params).body
            entries, cursor = page["revoked"], page["cursor"]
            if not isinstance(entries, list) or not isinstance(cursor, str):
                raise FetchError("unexpected feed shape")
        except (FetchError, KeyError) as exc:
            self.failures += 1
            if self.stale_since is None:
                self.stale_since = self._clock.now()
                log.warning("revocation feed unavailable; keeping the last known set: %s", exc)
            return
        self._apply(entries)
        self.cursor = cursor
        self.polls += 1
        self.last_ok = self._clock.now()
        self.stale_since = None

    def _apply(self, entries: list[Any]) -> None:
        """Add the feed's entries; malformed ones are skipped (the feed is not trusted blindly)."""
        for entry in entries:
            if not isinstance(entry, dict) or not isinstance(entry.get("exp"), int | float):
                continue
            if isinstance(entry.get("jti"), str):
                self.denylist.revoke("jti", entry["jti"], float(entry["exp"]))
            elif isinstance(entry.get("sid"), str):
                self.denylist.revoke("sid", entry["sid"], float(entry["exp"]))
        self.denylist.prune(self._clock.now())

    def stats(self) -> dict[str, Any]:
        return {"url": self.url, "cursor": self.cursor, "entries": len(self.denylist),
                "polls": self.polls, "failures": self.failures, "last_ok": self.last_ok,
                "stale_since": self.stale_since}

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        if self._owns_client:
            self._client.close()
