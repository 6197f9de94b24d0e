"""Revocation fan-out over Redis pub/sub: every instance hears a revocation at once.

The database feed stays the source of truth (each instance also polls it);
pub/sub only cuts the delay. A subscriber that loses its connection
reconnects with backoff and then re-reads the feed, since pub/sub drops
messages sent while nobody listens.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

import orjson
from redis.asyncio import Redis

from authd.core.models import Revocation
from authd.storage.redis.client import UNAVAILABLE

log = logging.getLogger("authd.fanout")


class RevocationFanout:
    def __init__(self, redis: Redis, prefix: str = "authd:") -> None:
        self._redis = redis
        self.channel = f"{prefix}revocations"
        self.connected = False

    async def publish(self, revocation: Revocation) -> None:
        message = orjson.dumps([revocation.kind, revocation.value, revocation.expires_at])
        try:
            await self._redis.publish(self.channel, message)
        except UNAVAILABLE:
            log.warning("revocation not fanned out (redis unreachable); instances read the feed")

    async def listen(self, on_revocation: Callable[[Revocation], None],
                     on_reconnect: Callable[[], Awaitable[object]]) -> None:
        """Run until cancelled: apply every published revocation; resync after each reconnect."""
        delay = 0.1
        while True:
            try:
                async with self._redis.pubsub() as pubsub:
                    await pubsub.subscribe(self.channel)
                    self.connected = True
                    delay = 0.1
                    await on_reconnect()
                    async for message in pubsub.listen():
                        if message.get("type") == "message":
                            _apply(message["data"], on_revocation)
            except asyncio.CancelledError:
                raise
            except UNAVAILABLE:
                pass
            except Exception:  # a bad message or a bug must not end the subscription
                log.warning("revocation subscriber failed; reconnecting", exc_info=True)
            self.connected = False
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)


def _apply(data: bytes, on_revocation: Callable[[Revocation], None]) -> None:
    try:
        kind, value, expires_at = orjson.loads(data)
    except (orjson.JSONDecodeError, ValueError, TypeError):
        return
    if kind in ("jti", "sid") and isinstance(value, str) and isinstance(expires_at, int | float):
        on_revocation(Revocation(kind, value, float(expires_at)))
