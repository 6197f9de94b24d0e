"""Per-instance rate-limit counters: the embedded default and the fallback when Redis is down."""

from __future__ import annotations

import bisect
from collections import OrderedDict

MAX_KEYS = 100_000


class MemoryRateLimitStore:
    """Sliding-window event logs per key, bounded in keys and in events per key."""

    degraded = False

    def __init__(self, max_keys: int = MAX_KEYS, max_events: int = 1000) -> None:
        self._events: OrderedDict[str, list[float]] = OrderedDict()
        self._max_keys = max_keys
        self._max_events = max_events

    async def count(self, key: str, window: float, now: float) -> tuple[int, float]:
        events = self._live(key, window, now)
        return len(events), (events[0] + window if events else now)

    async def add(self, key: str, window: float, now: float) -> None:
        events = self._live(key, window, now)
        bisect.insort(events, now)
        if len(events) > self._max_events:
            del events[: len(events) - self._max_events]
        self._events[key] = events
        self._events.move_to_end(key)
        while len(self._events) > self._max_keys:
            self._events.popitem(last=False)

    def _live(self, key: str, window: float, now: float) -> list[float]:
        events = self._events.get(key, [])
        start = bisect.bisect_right(events, now - window)
        return events[start:]
