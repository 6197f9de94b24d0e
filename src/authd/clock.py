"""Time as an injected dependency.

Nothing deep inside authd calls ``time.time()``: expiry, grace windows, idle
timeouts and key rotation are decided against a clock that is passed in, so
tests move time exactly instead of sleeping. The same convention holds in
``authd.verify`` (the verifier, its revocation-feed follower and
``LocalIssuer`` take a ``Clock``), which is why this module imports only the
standard library.
"""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    def now(self) -> float:
        """Seconds since the Unix epoch."""
        ...


class SystemClock:
    """The real wall clock: the default wherever a clock is injected."""

    def now(self) -> float:
        return time.time()


class FixedClock:
    """A clock that only moves when told to: the test double for every rule with a deadline."""

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self._now = start

    def now(self) -> float:
        return self._now

    def advance(self, seconds: float) -> None:
        self._now += seconds

    def set(self, when: float) -> None:
        self._now = when
