"""A redis-py asyncio client with timeouts and reconnection suited to a request path."""

from __future__ import annotations

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

UNAVAILABLE = (RedisConnectionError, RedisTimeoutError, OSError)


def create_redis(url: str, *, name: str = "authd") -> Redis:
    """Short timeouts (a down Redis must answer 503 fast) and one retry after a reconnect."""
    return Redis.from_url(
        url, socket_timeout=2.0, socket_connect_timeout=1.0, health_check_interval=15,
        retry=Retry(ExponentialBackoff(cap=0.5, base=0.05), 2),
        retry_on_error=[RedisConnectionError, RedisTimeoutError], client_name=name,
        decode_responses=False,
    )
