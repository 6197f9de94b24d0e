"""Cookie sessions in Redis: compact records with TTLs, shared by every instance.

Layout (``p`` = key prefix):

* ``p s:<session id>`` → the record, a positional orjson array; TTL = time to
  the earlier of idle and absolute expiry. The session id is the first 128
  bits of the cookie's SHA-256, so a cookie finds its record with one GET;
  the record keeps the other 128 bits, compared in constant time;
* ``p u:<user id>`` → set of the user's session ids (for the session list;
  ids of expired records are dropped when the list is read).

Ending a session publishes its id on the revocation fan-out channel in the
same transaction, so that every instance's session cache drops it (see
``authd.core.session_cache``). The raw cookie value is never stored. Any Redis failure raises
``ServiceUnavailable``: a cookie that cannot be checked is never accepted.
"""

from __future__ import annotations

import base64
import hmac
import math
from collections.abc import Sequence
from dataclasses import replace

import orjson
from redis.asyncio import Redis

from authd.core.ids import b64url
from authd.core.models import CookieSession
from authd.core.sessions import session_id_for
from authd.errors import ServiceUnavailable
from authd.storage.redis.client import UNAVAILABLE
from authd.storage.redis.fanout import channel_for, session_ended_message

MAX_USER_AGENT = 160


class RedisCookieSessions:
    def __init__(self, redis: Redis, prefix: str = "authd:") -> None:
        self._redis = redis
        self._p = prefix

    async def create_session(self, session: CookieSession) -> None:
        async with _fail_closed():
            pipe = self._redis.pipeline(transaction=True)
            pipe.set(f"{self._p}s:{session.id}", _encode(session),
                     px=_ttl(session, session.created_at))
            pipe.sadd(f"{self._p}u:{session.user_id}", session.id)
            await pipe.execute()

    async def get_session_by_hash(self, token_hash: bytes) -> CookieSession | None:
        async with _fail_closed():
            session_id = session_id_for(token_hash)
            raw = await self._redis.get(f"{self._p}s:{session_id}")
        session = _decode(session_id, raw) if raw else None
        if session is None or not hmac.compare_digest(session.token_hash, token_hash):
            return None
        return session

    async def touch_session(self, session_id: str, now: float, idle_expires_at: float) -> None:
        async with _fail_closed():
            raw = await self._redis.get(f"{self._p}s:{session_id}")
            if not raw:
                return
            touched = replace(_decode(session_id, raw), last_used_at=now,
                              idle_expires_at=idle_expires_at)
            ttl = _ttl(touched, now)
            if ttl > 0:
                await self._redis.set(f"{self._p}s:{session_id}", _encode(touched), px=ttl, xx=True)

    async def renew_auth_time(self, session_id: str, auth_time: float,
                              methods: Sequence[str]) -> bool:
        async with _fail_closed():
            key = f"{self._p}s:{session_id}"
            raw = await self._redis.get(key)
            if not raw:
                return False
            renewed = replace(_decode(session_id, raw), auth_time=auth_time, amr=tuple(methods))
            # KEEPTTL: a re-login proves the user again, it does not extend the session.
            stored = await self._redis.set(key, _encode(renewed), keepttl=True, xx=True)
        return bool(stored)

    async def delete_session(self, session_id: str) -> bool:
        async with _fail_closed():
            raw = await self._redis.get(f"{self._p}s:{session_id}")
            if not raw:
                return False
            pipe = self._redis.pipeline(transaction=True)
            pipe.delete(f"{self._p}s:{session_id}")
            pipe.srem(f"{self._p}u:{_decode(session_id, raw).user_id}", session_id)
            pipe.publish(channel_for(self._p), session_ended_message(session_id))
            deleted, _, _ = await pipe.execute()
        return bool(deleted)

    async def list_sessions(self, user_id: str, now: float) -> Sequence[CookieSession]:
        index = f"{self._p}u:{user_id}"
        async with _fail_closed():
            ids = sorted(_text(i) for i in await self._redis.smembers(index))
            raws = await self._redis.mget([f"{self._p}s:{i}" for i in ids]) if ids else []
            stale = [i for i, raw in zip(ids, raws, strict=True) if not raw]
            if stale:
                await self._redis.srem(index, *stale)
        sessions = [_decode(i, raw) for i, raw in zip(ids, raws, strict=True) if raw]
        live = [s for s in sessions if now < s.idle_expires_at and now < s.absolute_expires_at]
        return sorted(live, key=lambda s: s.created_at)

    async def delete_user_sessions(self, user_id: str, except_id: str | None = None
                                   ) -> Sequence[str]:
        ended = [s.id for s in await self.list_sessions(user_id, 0.0) if s.id != except_id]
        for session_id in ended:
            await self.delete_session(session_id)
        return ended


class _fail_closed:  # used like a function: ``async with _fail_closed():``
    """Turns a Redis outage into a 503 for the client, never an unknown-cookie pass."""

    async def __aenter__(self) -> None:
        return None

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        _tb: object) -> bool:
        if exc is not None and isinstance(exc, UNAVAILABLE):
            raise ServiceUnavailable("the session store is unavailable") from None
        return False


def _ttl(session: CookieSession, now: float) -> int:
    return math.ceil((min(session.idle_expires_at, session.absolute_expires_at) - now) * 1000)


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _encode(s: CookieSession) -> bytes:
    # Positional; the id (in the key) holds the first half of the hash, the
    # record the second; times are whole seconds, later ones as offsets from
    # creation. About 200 bytes with a browser's user agent. Two optional
    # last elements: auth_time (as an offset; without it, the session's login
    # is its creation) and the login's amr (a list; without it, none known).
    created = int(s.created_at)
    fields = [b64url(s.token_hash[16:]), s.user_id, created,
              int(s.last_used_at) - created, int(s.idle_expires_at) - created,
              int(s.absolute_expires_at) - created,
              (s.user_agent or "")[:MAX_USER_AGENT], s.ip or ""]
    auth_offset = int(s.auth_time) - created if s.auth_time is not None else 0
    if auth_offset or s.amr:
        fields.append(auth_offset)
    if s.amr:
        fields.append(list(s.amr))
    return orjson.dumps(fields)


def _decode(session_id: str, raw: bytes | str) -> CookieSession:
    tail, user, created, used, idle, absolute, agent, ip, *rest = orjson.loads(raw)
    head = base64.urlsafe_b64decode(session_id + "==")
    return CookieSession(
        id=session_id, token_hash=head + base64.urlsafe_b64decode(tail + "=="), user_id=user,
        created_at=float(created), last_used_at=float(created + used),
        idle_expires_at=float(created + idle), absolute_expires_at=float(created + absolute),
        user_agent=agent or None, ip=ip or None,
        auth_time=float(created + (rest[0] if rest else 0)),
        amr=tuple(str(m) for m in rest[1]) if len(rest) > 1 else ())
