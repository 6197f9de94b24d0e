"""Rate-limit counters shared by every instance through Redis, with a per-instance fallback.

A sliding-window log per key in a sorted set, trimmed and counted by one Lua
script so concurrent instances never race. When Redis is unreachable,
``FallbackRateLimitStore`` keeps limiting with this instance's own counters
(each instance then allows up to the limit on its own), reports
``degraded`` for /readyz and logs the outage once.
"""

from __future__ import annotations

import logging
import secrets

from redis.asyncio import Redis

from authd.storage.ratelimit_memory import MemoryRateLimitStore
from authd.storage.redis.client import UNAVAILABLE

log = logging.getLogger("authd.ratelimit")

_SCRIPT = """
local key, now, window, add = KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3]
redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
if add == '1' then
  redis.call('ZADD', key, now, ARGV[4])
  redis.call('PEXPIRE', key, math.ceil(window * 1000))
end
local count = redis.call('ZCARD', key)
local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
return {count, oldest[2] or tostring(now)}
"""


class RedisRateLimitStore:
    degraded = False

    def __init__(self, redis: Redis, prefix: str = "authd:") -> None:
        self._redis = redis
        self._prefix = f"{prefix}rl:"
        self._script = redis.register_script(_SCRIPT)

    async def _run(self, key: str, window: float, now: float, add: bool) -> tuple[int, float]:
        member = f"{now}:{secrets.token_hex(4)}"
        count, oldest = await self._script(keys=[self._prefix + key],
                                           args=[now, window, "1" if add else "0", member])
        return int(count), float(oldest) + window

    async def count(self, key: str, window: float, now: float) -> tuple[int, float]:
        return await self._run(key, window, now, add=False)

    async def add(self, key: str, window: float, now: float) -> None:
        await self._run(key, window, now, add=True)


class FallbackRateLimitStore:
    """Shared counting while Redis answers; this instance's own counting while it does not."""

    def __init__(self, primary: RedisRateLimitStore, fallback: MemoryRateLimitStore) -> None:
        self._primary = primary
        self._fallback = fallback
        self.degraded = False

    async def count(self, key: str, window: float, now: float) -> tuple[int, float]:
        try:
            result = await self._primary.count(key, window, now)
        except UNAVAILABLE:
            self._outage()
            return await self._fallback.count(key, window, now)
        self._recovered()
        return result

    async def add(self, key: str, window: float, now: float) -> None:
        await self._fallback.add(key, window, now)  # kept warm for an outage
        try:
            await self._primary.add(key, window, now)
        except UNAVAILABLE:
            self._outage()
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
