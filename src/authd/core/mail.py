"""Mail as durable outbox messages, and the worker that delivers them.

A use case never talks to a mail server: it writes a ``MailRequest`` (the
template, the locale, the values it shows) as an outbox row, sealed under
the root secret because it holds a link or a code, in the same transaction
as the token it carries. ``OutboxWorker`` claims due rows with a lease,
renders and sends each, and then drops the sealed payload; a failure is
retried with exponential backoff until ``give_up_after``, when the row is
marked failed (a log line, an audit event, a metric) and its payload dropped.
A crashed instance's claims run out with their lease and are retried, so a
message is sent at least once and, while instances are alive, by one at a time.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Protocol

import orjson

from authd.clock import Clock
from authd.core import audit
from authd.core.audit import Auditor
from authd.core.ids import new_id
from authd.core.models import OutboxItem, OutgoingMail
from authd.core.ports import Mailer, OutboxStore
from authd.core.secrets import ServerSecrets
from authd.errors import MailError

log = logging.getLogger("authd.mail")
KIND_MAIL = "mail"
KIND_NOOP = "noop"  # written where no mail is due, so both answers cost the same work
LEASE = 60.0
BATCH = 50
FIRST_RETRY = 5.0
MAX_RETRY = 3600.0
UNREACHABLE = frozenset({"dns", "connect", "tls", "auth"})


@dataclass(frozen=True, slots=True)
class MailRequest:
    """What to send: rendered only by the worker. ``values`` may hold a link or a code."""

    to: str
    template: str
    locale: str | None = None
    values: dict[str, str] = field(default_factory=dict)


class Renderer(Protocol):
    def render(self, request: MailRequest, message_id: str) -> OutgoingMail: ...


class OutboxWriter:
    """Seals requests into outbox rows; a use case hands the row to its store's transaction."""

    def __init__(self, secrets: ServerSecrets, clock: Clock) -> None:
        self._secrets = secrets
        self._clock = clock
        self._listeners: list[Callable[[], None]] = []

    def item(self, request: MailRequest | None) -> OutboxItem:
        """The row for ``request``; a no-op row for None (the same work, nothing sent)."""
        item_id, now = new_id(), self._clock.now()
        kind = KIND_MAIL if request is not None else KIND_NOOP
        plain = orjson.dumps(asdict(request) if request is not None else {})
        return OutboxItem(id=item_id, kind=kind, payload=self._secrets.seal(plain, _bound(item_id)),
                          created_at=now, next_attempt_at=now)

    def on_written(self, listener: Callable[[], None]) -> None:
        """Called after a row was committed: this instance's worker starts at once."""
        self._listeners.append(listener)

    def written(self) -> None:
        for listener in self._listeners:
            listener()

    def open(self, item: OutboxItem) -> MailRequest | None:
        if item.kind != KIND_MAIL or item.payload is None:
            return None
        data = orjson.loads(self._secrets.open(item.payload, _bound(item.id)))
        return MailRequest(to=data["to"], template=data["template"], locale=data["locale"],
                           values=dict(data["values"]))


def _bound(item_id: str) -> bytes:
    return b"authd outbox\x00" + item_id.encode()


def backoff(attempts: int) -> float:
    """Seconds before the next try after ``attempts`` failures: 5 s, 10 s, 20 s ... up to an hour."""
    return float(min(MAX_RETRY, FIRST_RETRY * 2 ** max(0, attempts - 1)))


class OutboxWorker:
    """Delivers due outbox rows; ``run_once`` is one pass (the loop lives in wiring)."""

    def __init__(self, store: OutboxStore, writer: OutboxWriter, renderer: Renderer, mailer: Mailer,
                 auditor: Auditor, clock: Clock, *, give_up_after: float) -> None:
        self._store = store
        self._writer = writer
        self._renderer = renderer
        self._mailer = mailer
        self._audit = auditor
        self._clock = clock
        self._give_up_after = give_up_after
        self._claimer = new_id()
        self._paused_until = 0.0  # the mail server is unreachable: no claims before this

    @property
    def paused_until(self) -> float:
        return self._paused_until

    async def prune(self) -> int:
        """Forget delivered rows after a day and given-up rows after 30 days (operators' window)."""
        now = self._clock.now()
        return await self._store.prune_outbox(now - 86_400, now - 30 * 86_400)

    async def close(self) -> None:
        """Close the mailer's connection (an SMTP session kept open between messages)."""
        closer = getattr(self._mailer, "close", None)
        if closer is not None:
            await asyncio.to_thread(closer)

    async def run_once(self, limit: int = BATCH) -> int:
        """Claim and deliver one batch; how many rows were claimed (0: nothing is due)."""
        now = self._clock.now()
        if now < self._paused_until:
            return 0
        items = await self._store.claim(now, now + LEASE, limit, self._claimer)
        done: list[str] = []
        try:
            for n, item in enumerate(items):
                if self._clock.now() < self._paused_until:  # the server went away mid-batch
                    for rest in items[n:]:
                        await self._store.retry_at(rest.id, self._claimer, self._paused_until,
                                                   "not tried: the mail server is unreachable")
                    break
                if await self._deliver(item):
                    done.append(item.id)
        finally:
            # One commit per batch: a crash before it sends these again (at least once).
            await self._store.delivered(done, self._claimer, self._clock.now())
        return len(items)

    async def _deliver(self, item: OutboxItem) -> bool:
        """True once the mail server accepted it (or there was nothing to send)."""
        try:
            request = self._writer.open(item)
            if request is not None:  # rendered off the event loop: requests are not held up
                mail = await asyncio.to_thread(self._renderer.render, request, item.id)
                await self._mailer.send(mail)
        except MailError as exc:
            if exc.stage in UNREACHABLE:  # every message would fail alike: pause, not hammer
                self._paused_until = self._clock.now() + FIRST_RETRY
            await self._failed(item, f"{exc.stage}: {exc.description}", permanent=exc.permanent)
            return False
        except Exception as exc:  # a template or a root-secret problem: retried like an outage
            log.warning("outbox message %s could not be prepared", item.id, exc_info=True)
            await self._failed(item, type(exc).__name__, permanent=False)
            return False
        return True

    async def _failed(self, item: OutboxItem, error: str, *, permanent: bool) -> None:
        now = self._clock.now()
        attempts = item.attempts + 1
        if permanent or now - item.created_at >= self._give_up_after:
            await self._store.give_up(item.id, self._claimer, now, error[:500])
            log.error("outbox message %s given up after %d attempts: %s", item.id, attempts, error)
            await self._audit(audit.MAIL_GIVEN_UP, outbox_id=item.id, attempts=attempts,
                              error=error[:200])
            return
        log.warning("outbox message %s failed (attempt %d), retrying: %s", item.id, attempts, error)
        await self._store.retry_at(item.id, self._claimer, now + backoff(attempts), error[:500])
