"""Per-instance rate-limit counters: the embedded default and the fallback when Redis is down.

A sliding-window log per key: the times of the attempts still in the window,
sorted, as 8-byte doubles. Nothing is added once a key holds ``limit`` attempts, so a log never
grows past its limit and every configured limit is counted exactly, however
large. Memory is bounded by the number of keys (the least recently used are
evicted past ``max_keys``) times the largest limit. The event loop runs each
``reserve`` without a pause, which makes the check and the add one step.
"""

from __future__ import annotations

import bisect
from array import array
from collections import OrderedDict

from authd.core.ratelimit import Reservation

MAX_KEYS = 100_000


class MemoryRateLimitStore:
    """Exact sliding-window logs per key, bounded in keys and (by the limit) in attempts per key."""

    degraded = False

    def __init__(self, max_keys: int = MAX_KEYS) -> None:
        self._events: OrderedDict[str, array[float]] = OrderedDict()
        self._max_keys = max_keys

    async def reserve(self, key: str, limit: int, window: float, now: float) -> Reservation:
        events = self._events.get(key) or array("d")
        del events[:bisect.bisect_right(events, now - window)]
        allowed = len(events) < limit
        if allowed:
            bisect.insort(events, now)
        if events:
            self._events[key] = events
            self._events.move_to_end(key)
            while len(self._events) > self._max_keys:
                self._events.popitem(last=False)
        else:
            self._events.pop(key, None)
        return Reservation(key, allowed, len(events), events[0] + window if events else now,
                           now, "")

    async def release(self, reservation: Reservation) -> None:
        events = self._events.get(reservation.key)
        if not reservation.allowed or events is None:
            return
        at = bisect.bisect_left(events, reservation.at)
        if at < len(events) and events[at] == reservation.at:
            del events[at]  # any attempt at the same instant: they are interchangeable
        if not events:
            del self._events[reservation.key]
