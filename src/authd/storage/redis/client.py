"""A redis-py asyncio client with timeouts and reconnection suited to a request path."""

from __future__ import annotations

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

UNAVAILABLE = (RedisConnectionError, RedisTimeoutError, OSError)
MAX_CONNECTIONS = 64


def create_redis(url: str, *, name: str = "authd", retries: int = 2) -> Redis:
    """Short timeouts (a down Redis must answer 503 fast), retries after a reconnect, and a
    bounded pool that makes callers wait for a connection rather than fail when it is busy.

    ``retries=0`` is for the pub/sub subscriber: redis-py would otherwise reconnect and
    resubscribe silently, and the messages published in between would be lost unnoticed.
    """
    pool = BlockingConnectionPool.from_url(
        url, max_connections=MAX_CONNECTIONS, timeout=2.0, socket_timeout=2.0,
        socket_connect_timeout=1.0, health_check_interval=15, client_name=name,
        retry=Retry(ExponentialBackoff(cap=0.5, base=0.05), retries),
        retry_on_error=[RedisConnectionError, RedisTimeoutError])
    return Redis.from_pool(pool)  # the client owns the pool: aclose() closes its connections
