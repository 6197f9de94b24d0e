"""Revocation fan-out over Redis pub/sub: every instance hears a revocation at once.

The database feed stays the source of truth (each instance also polls it);
pub/sub only cuts the delay. A subscriber that loses its connection
reconnects with backoff and then re-reads the feed, since pub/sub drops
messages sent while nobody listens.

The same channel carries ``["session", <id>, 0]`` when a Redis cookie session
ends (published by ``RedisCookieSessions`` in the deleting transaction), so
that every instance drops it from its session cache. Older instances ignore
the kind. ``connected`` is what the cache trusts: while it is False the cache
does not serve.
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
SESSION_ENDED = "session"


def channel_for(prefix: str) -> str:
    return f"{prefix}revocations"


def session_ended_message(session_id: str) -> bytes:
    return orjson.dumps([SESSION_ENDED, session_id, 0])


class RevocationFanout:
    def __init__(self, redis: Redis, prefix: str = "authd:", subscriber: Redis | None = None
                 ) -> None:
        """``subscriber``: a client without retries (``create_redis(..., retries=0)``), so
        that every lost connection reaches ``listen`` (``connected`` False, then a resync)
        instead of being mended silently by redis-py with the messages in between lost."""
        self._redis = redis
        self._subscriber = subscriber or redis
        self.channel = channel_for(prefix)
        self.connected = False

    async def aclose(self) -> None:
        if self._subscriber is not self._redis:
            await self._subscriber.aclose()

    async def publish(self, revocation: Revocation) -> None:
        message = orjson.dumps([revocation.kind, revocation.value, revocation.expires_at])
        try:
            await self._redis.publish(self.channel, message)
        except UNAVAILABLE:
            log.warning("revocation not fanned out (redis unreachable); instances read the feed")

    async def listen(self, on_revocation: Callable[[Revocation], None],
                     on_reconnect: Callable[[], Awaitable[object]],
                     on_session_ended: Callable[[str], None] | None = None) -> None:
        """Run until cancelled: apply every published revocation and ended session; resync
        after each reconnect (``on_reconnect`` runs before any message is applied)."""
        delay = 0.1
        while True:
            try:
                async with self._subscriber.pubsub() as pubsub:
                    await pubsub.subscribe(self.channel)
                    self.connected = True
                    delay = 0.1
                    await on_reconnect()
                    async for message in pubsub.listen():
                        if message.get("type") == "message":
                            _apply(message["data"], on_revocation, on_session_ended)
            except asyncio.CancelledError:
                raise
            except UNAVAILABLE:
                pass
            except Exception:  # a bad message or a bug must not end the subscription
                log.warning("revocation subscriber failed; reconnecting", exc_info=True)
            self.connected = False
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)


def _apply(data: bytes, on_revocation: Callable[[Revocation], None],
           on_session_ended: Callable[[str], None] | None) -> None:
    try:
        kind, value, expires_at = orjson.loads(data)
    except (orjson.JSONDecodeError, ValueError, TypeError):
        return
    if kind == SESSION_ENDED and isinstance(value, str):
        if on_session_ended is not None:
            on_session_ended(value)
        return
    if kind in ("jti", "sid") and isinstance(value, str) and isinstance(expires_at, int | float):
        on_revocation(Revocation(kind, value, float(expires_at)))
