"""Where driver errors become the server's own: "the database is unreachable right now".

Every SQL statement goes through ``storage/sql/db.py``; its methods run
inside :func:`unavailable_as_service_error`, so a dropped connection, a
PostgreSQL restart or a locked SQLite file leaves the storage layer as
:class:`authd.errors.ServiceUnavailable` (503 for the client, not 500). The
layers above never look at driver exceptions: an outage is something to wait
out, and the pools reconnect on the next request. (Redis adapters map their
client's errors the same way at their own edge.)
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from typing import Any, ParamSpec, TypeVar

from sqlalchemy.exc import DBAPIError, OperationalError

from authd.errors import ServiceUnavailable

log = logging.getLogger("authd.storage")
P = ParamSpec("P")
T = TypeVar("T")


def is_unavailable(exc: BaseException) -> bool:
    """Whether ``exc`` means the database cannot be reached (rather than a bad statement)."""
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


@contextmanager
def unavailable_as_service_error() -> Iterator[None]:
    """Re-raise an unreachable database as ``ServiceUnavailable`` (the driver error as its cause)."""
    try:
        yield
    except ServiceUnavailable:
        raise
    except Exception as exc:
        if not is_unavailable(exc):
            raise
        log.warning("storage unavailable: %s", type(exc).__name__)  # never the statement
        raise ServiceUnavailable() from exc


def maps_unavailable(method: Callable[P, Coroutine[Any, Any, T]]
                     ) -> Callable[P, Coroutine[Any, Any, T]]:
    """Decorate an async storage method with :func:`unavailable_as_service_error`."""
    @functools.wraps(method)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        with unavailable_as_service_error():
            return await method(*args, **kwargs)
    return wrapper
