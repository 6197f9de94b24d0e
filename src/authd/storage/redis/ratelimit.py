"""Rate-limit counters shared by every instance through Redis, with a per-instance fallback.

A sliding-window log per key in a sorted set. One Lua script trims the
window, counts, and adds the attempt only below the limit: Redis runs it as
one atomic step, so concurrent requests on any number of instances never
count past the limit. A right password removes its own member (``ZREM``).
When Redis is unreachable, ``FallbackRateLimitStore`` keeps limiting with
this instance's own counters (each instance then allows up to the limit on
its own), reports ``degraded`` for /readyz and logs the outage once.
"""

from __future__ import annotations

import logging
import secrets

from redis.asyncio import Redis

from authd.core.ratelimit import Reservation
from authd.storage.ratelimit_memory import MemoryRateLimitStore
from authd.storage.redis.client import UNAVAILABLE

log = logging.getLogger("authd.ratelimit")

_RESERVE = """
local key, now, window, limit = KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
local count = redis.call('ZCARD', key)
local allowed = 0
if count < limit then
  redis.call('ZADD', key, now, ARGV[4])
  redis.call('PEXPIRE', key, math.ceil(window * 1000))
  count = count + 1
  allowed = 1
end
local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
return {allowed, count, oldest[2] or tostring(now)}
"""


class RedisRateLimitStore:
    degraded = False

    def __init__(self, redis: Redis, prefix: str = "authd:") -> None:
        self._redis = redis
        self._prefix = f"{prefix}rl:"
        self._reserve = redis.register_script(_RESERVE)

    async def reserve(self, key: str, limit: int, window: float, now: float) -> Reservation:
        member = f"{now!r}:{secrets.token_hex(8)}"
        allowed, count, oldest = await self._reserve(keys=[self._prefix + key],
                                                     args=[repr(now), window, limit, member])
        return Reservation(key, allowed == 1, int(count), float(oldest) + window, now,
                           member if allowed == 1 else "")

    async def release(self, reservation: Reservation) -> None:
        if reservation.allowed and reservation.token:
            await self._redis.zrem(self._prefix + reservation.key, reservation.token)


class FallbackRateLimitStore:
    """Shared counting while Redis answers; this instance's own counting while it does not.

    Attempts Redis allowed are mirrored into the local counters, so that an
    outage starts from this instance's recent history rather than from zero.
    """

    def __init__(self, primary: RedisRateLimitStore, fallback: MemoryRateLimitStore) -> None:
        self._primary = primary
        self._fallback = fallback
        self.degraded = False

    async def reserve(self, key: str, limit: int, window: float, now: float) -> Reservation:
        try:
            shared = await self._primary.reserve(key, limit, window, now)
        except UNAVAILABLE:
            self._outage()
            return await self._fallback.reserve(key, limit, window, now)
        self._recovered()
        if shared.allowed:
            await self._fallback.reserve(key, limit, window, now)  # kept warm for an outage
        return shared

    async def release(self, reservation: Reservation) -> None:
        await self._fallback.release(reservation)  # the same instant identifies the local mirror
        try:
            await self._primary.release(reservation)
        except UNAVAILABLE:
            self._outage()  # the attempt stays counted there until the window expires it
            return
        self._recovered()

    def _outage(self) -> None:
        if not self.degraded:
            log.warning("redis unreachable: rate limits are counted per instance until it returns")
        self.degraded = True

    def _recovered(self) -> None:
        if self.degraded:
            log.warning("redis reachable again: rate limits are shared across instances")
        self.degraded = False
