"""Revocation: the durable feed in storage and each instance's in-memory denylist.

A revocation is written to storage first (it survives a crash and feeds
``GET /v1/revocations``), then applied to this instance's denylist at once;
other instances pick it up from the feed on their next sync (every
``revocation_poll_interval``, default 0.5 s) or sooner through a fan-out
channel when Redis is configured.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence

from authd.clock import Clock
from authd.core.denylist import Denylist
from authd.core.models import Revocation
from authd.core.ports import RevocationStore

log = logging.getLogger("authd.revocation")
FEED_PAGE = 1000
Publisher = Callable[[Revocation], Awaitable[None]]


class Revocations:
    def __init__(self, store: RevocationStore, clock: Clock) -> None:
        self._store = store
        self._clock = clock
        self.denylist = Denylist()
        self._publishers: list[Publisher] = []

    def add_publisher(self, publisher: Publisher) -> None:
        """Called after each durable revocation (e.g. Redis pub/sub fan-out)."""
        self._publishers.append(publisher)

    async def revoke(self, revocation: Revocation) -> bool:
        """Record durably and deny at once; False if it was in the feed already.

        A repeat is neither fanned out nor worth auditing again: every instance
        has it, or will on its next sync.
        """
        added = await self._store.add_revocation(revocation, self._clock.now()) is not None
        self.denylist.add(revocation)
        if not added:
            return False
        for publish in self._publishers:
            try:
                await publish(revocation)
            except Exception:  # fan-out is best effort; the feed is the truth
                log.warning("revocation fan-out failed; instances will read the feed",
                            exc_info=True)
        return True

    def is_revoked(self, jti: str | None, sid: str | None) -> bool:
        return self.denylist.is_revoked(jti, sid)

    async def sync(self) -> int:
        """Apply every feed entry after this instance's cursor; returns how many."""
        now = self._clock.now()
        applied = 0
        while True:
            entries, cursor = await self._store.revocations_since(
                self.denylist.cursor, now, FEED_PAGE)
            for entry in entries:
                self.denylist.add(entry)
            applied += len(entries)
            moved = cursor != self.denylist.cursor
            self.denylist.cursor = cursor
            if not moved:
                break
        self.denylist.prune(now)
        return applied

    async def prune(self) -> int:
        """Drop feed entries whose tokens have expired anyway (keeps the table small)."""
        return await self._store.prune_revocations(self._clock.now())

    async def feed(self, since: int, limit: int = FEED_PAGE) -> tuple[Sequence[Revocation], int]:
        return await self._store.revocations_since(since, self._clock.now(), limit)
