"""Which storage exceptions mean "the database or Redis is unreachable right now".

Those become 503 (``ServiceUnavailable``) for the client, not 500: a
PostgreSQL restart or a dropped connection is an outage to wait out, and the
pools reconnect on the next request.
"""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError, OperationalError


def is_unavailable(exc: BaseException) -> bool:
    if isinstance(exc, OperationalError):
        return True
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    if isinstance(exc, ConnectionError | TimeoutError):
        return True
    module = type(exc).__module__
    if module.startswith("asyncpg"):
        import asyncpg

        return isinstance(exc, asyncpg.PostgresConnectionError | asyncpg.InterfaceError
                          | asyncpg.CannotConnectNowError)
    return False
