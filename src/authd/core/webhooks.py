"""Webhooks: security events as signed notifications, durable in the outbox.

An audit event whose name maps to a webhook type (``WEBHOOK_TYPES``) becomes
one outbox row per endpoint that subscribes to the type, written by the audit
store in the transaction that records the event (``WebhookEvents.items``).
The row's payload is the exact body that will be sent, sealed under the root
secret (it holds an email address). ``WebhookWorker`` claims due rows per
endpoint, at most one per user at a time and only after every earlier row of
that user to that endpoint is done, so receivers see each user's events in
order; a failure is retried on ``WebhookPolicy``'s schedule, and after
``give_up_after`` the row is given up (a log line, an audit event, a metric).
The outbox id is the ``webhook-id``: the same on every retry and replay.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from fnmatch import fnmatchcase
from typing import Any, Protocol

import orjson

from authd.clock import Clock
from authd.core import audit
from authd.core.audit import Auditor
from authd.core.ids import new_id
from authd.core.models import AuditEvent, OutboxItem
from authd.core.ports import WebhookOutbox
from authd.core.secrets import ServerSecrets

log = logging.getLogger("authd.webhooks")
KIND_WEBHOOK = "webhook"
BATCH_ROUNDS = 4
WEBHOOK_GIVEN_UP = "webhook.given_up"

# Audit event name → webhook type. Names other parts of authd audit (admin edits,
# account deletion, second factors) are listed by name: they need no import here.
WEBHOOK_TYPES: Mapping[str, str] = {
    audit.SIGNUP: "user.created",
    "user.updated": "user.updated",
    audit.EMAIL_CHANGED: "user.updated",
    "user.deleted": "user.deleted",
    audit.EMAIL_VERIFIED: "user.email_verified",
    audit.PASSWORD_CHANGED: "user.password_changed",
    audit.PASSWORD_RESET: "user.password_changed",
    audit.USER_DISABLED: "user.disabled",
    "mfa.totp_enabled": "user.mfa_enabled",
    "mfa.totp_disabled": "user.mfa_disabled",
    "mfa.reset": "user.mfa_disabled",
    audit.LOGIN_OK: "session.created",
    audit.LOGIN_BY_EMAIL: "session.created",
    audit.LOGIN_PASSKEY: "session.created",
    audit.LOGOUT: "session.revoked",
    audit.SESSION_REVOKED: "session.revoked",
    audit.LOGOUT_EVERYWHERE: "session.revoked",
    audit.REUSE_DETECTED: "refresh.reuse_detected",
}
EVENT_TYPES = tuple(sorted(set(WEBHOOK_TYPES.values())))
# Audit details a payload may carry: ids, kinds and counts, never a secret.
_SESSION_ID_KEYS = ("session", "sid")
_PLAIN_DETAIL_KEYS = ("kind", "count", "provider", "method")


@dataclass(frozen=True, slots=True)
class WebhookTarget:
    """A configured endpoint as the core sees it: its name and the types it subscribes to."""

    name: str
    events: tuple[str, ...]

    def wants(self, event_type: str) -> bool:
        return any(fnmatchcase(event_type, pattern) for pattern in self.events)


@dataclass(frozen=True, slots=True)
class WebhookPolicy:
    """When to try again: ``delays`` first, then doubling gaps up to ``max_delay``."""

    delays: tuple[float, ...] = (5.0, 25.0, 90.0)
    max_delay: float = 3600.0
    give_up_after: float = 3 * 86_400.0
    timeout: float = 5.0
    concurrency: int = 16

    def delay(self, failures: int) -> float:
        """Seconds before the next try after ``failures`` failed tries (1 = the first)."""
        if failures <= len(self.delays):
            return self.delays[max(0, failures - 1)]
        doublings = min(failures - len(self.delays), 64)  # past the cap long before 2**64
        return float(min(self.max_delay, self.delays[-1] * 2.0 ** doublings))

    @property
    def max_attempts(self) -> int:
        """Tries whose start lies within ``give_up_after`` of the first try (counted from 0 s)."""
        elapsed, attempts = 0.0, 1
        while self.delay(attempts) < self.max_delay:  # the first and the doubling gaps
            if elapsed + self.delay(attempts) > self.give_up_after:
                return attempts
            elapsed += self.delay(attempts)
            attempts += 1
        return attempts + int((self.give_up_after - elapsed) // self.max_delay)

    @property
    def batch(self) -> int:
        """Rows claimed at once: a few rounds of ``concurrency``, so two commits serve many."""
        return self.concurrency * BATCH_ROUNDS

    @property
    def lease(self) -> float:
        """How long a claim is held: every round of a batch and its bookkeeping fit inside."""
        return self.timeout * (BATCH_ROUNDS + 1) + 10.0


@dataclass(frozen=True, slots=True)
class SendResult:
    """What one attempt got: the receiver's status, or why there was none (timeout, refused)."""

    status: int | None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


class WebhookSender(Protocol):
    """Signs and POSTs one body to a configured endpoint (``authd.webhooks``)."""

    async def send(self, endpoint: str, webhook_id: str, body: bytes) -> SendResult: ...


def payload(event: AuditEvent, event_type: str, email: str | None) -> bytes:
    """The body: ``{"type", "timestamp", "data"}`` with ids and non-secret fields only."""
    data: dict[str, Any] = {"user_id": event.user_id}
    detail = event.detail or {}
    if event_type.startswith("user."):
        if email is not None:
            data["email"] = email
    else:
        session_id = next((detail[k] for k in _SESSION_ID_KEYS if detail.get(k)), None)
        if session_id is not None:
            data["session_id"] = str(session_id)
        for key in _PLAIN_DETAIL_KEYS:
            if isinstance(detail.get(key), str | int):
                data[key] = detail[key]
        if "kind" not in data and session_id is not None:
            data["kind"] = "cookie" if "session" in detail else "token"
    stamp = datetime.fromtimestamp(event.at, UTC).isoformat(timespec="milliseconds")
    return orjson.dumps({"type": event_type, "timestamp": stamp.replace("+00:00", "Z"),
                         "data": data})


class WebhookEvents:
    """Turns audit events into sealed outbox rows, one per subscribed endpoint."""

    def __init__(self, targets: Sequence[WebhookTarget], secrets: ServerSecrets,
                 clock: Clock) -> None:
        self._targets = tuple(targets)
        self._secrets = secrets
        self._clock = clock
        self._listeners: list[Callable[[], None]] = []

    @property
    def endpoints(self) -> tuple[str, ...]:
        return tuple(t.name for t in self._targets)

    def wants(self, audit_event: str) -> bool:
        """Whether recording this audit event writes any webhook row (else: the fast path)."""
        event_type = WEBHOOK_TYPES.get(audit_event)
        return event_type is not None and any(t.wants(event_type) for t in self._targets)

    def items(self, event: AuditEvent, email: str | None) -> list[OutboxItem]:
        """The rows for ``event``; ``email`` is the user's address as the transaction reads it."""
        event_type = WEBHOOK_TYPES.get(event.event)
        if event_type is None:
            return []
        body = payload(event, event_type, email)
        now = self._clock.now()
        # Ordered by the event's own time: two events of one change (an admin's update that
        # also disables) are written in one transaction, and keep the order they were made in.
        rows = []
        for target in self._targets:
            if target.wants(event_type):
                item_id = new_id()
                rows.append(OutboxItem(
                    id=item_id, kind=KIND_WEBHOOK, payload=self._secrets.seal(body, _bound(item_id)),
                    created_at=event.at, next_attempt_at=now, endpoint=target.name,
                    subject=event.user_id, event_type=event_type))
        return rows

    def open(self, item: OutboxItem) -> bytes:
        """The body exactly as it was written (and as every retry and replay sends it)."""
        if item.payload is None:
            raise ValueError("the webhook row has no payload")
        return self._secrets.open(item.payload, _bound(item.id))

    def on_written(self, listener: Callable[[], None]) -> None:
        """Called after a row was committed: this instance's workers start at once."""
        self._listeners.append(listener)

    def written(self, audit_event: str) -> None:
        if self.wants(audit_event):
            for listener in self._listeners:
                listener()


def _bound(item_id: str) -> bytes:
    return b"authd webhook\x00" + item_id.encode()


class WebhookWorker:
    """Delivers due webhook rows of one endpoint per ``run_once`` (the loops live in wiring)."""

    def __init__(self, store: WebhookOutbox, events: WebhookEvents, sender: WebhookSender,
                 auditor: Auditor, clock: Clock, policy: WebhookPolicy) -> None:
        self._store = store
        self._events = events
        self._sender = sender
        self._audit = auditor
        self._clock = clock
        self._policy = policy
        self._claimer = new_id()
        self._listeners: list[Callable[[str, str], None]] = []

    def on_outcome(self, listener: Callable[[str, str], None]) -> None:
        """Called with (endpoint, "delivered" | "failed" | "given_up") after each attempt."""
        self._listeners.append(listener)

    async def run_once(self, endpoint: str) -> int:
        """Claim a batch of ``endpoint``'s due rows and try them, at most ``concurrency`` at a
        time; how many were claimed (0: nothing is due)."""
        now = self._clock.now()
        items = await self._store.claim_webhooks(endpoint, now, now + self._policy.lease,
                                                 self._policy.batch, self._claimer)
        done: list[tuple[str, int]] = []
        slots = asyncio.Semaphore(self._policy.concurrency)

        async def deliver(item: OutboxItem) -> tuple[str, int] | None:
            async with slots:
                return await self._deliver(item)
        try:
            for outcome in await asyncio.gather(*(deliver(item) for item in items),
                                                return_exceptions=True):
                if isinstance(outcome, BaseException):  # the row waits for its lease to run out
                    log.warning("webhook delivery failed", exc_info=outcome)
                elif outcome is not None:
                    done.append(outcome)
        finally:
            # One commit for the batch's successes: a crash before it sends them again.
            await self._store.webhooks_delivered(done, self._claimer, self._clock.now())
        for _ in done:
            self._tell(endpoint, "delivered")
        return len(items)

    async def prune(self, retention: float) -> int:
        """Forget rows delivered or given up more than ``retention`` seconds ago."""
        return await self._store.prune_webhooks(self._clock.now() - retention)

    async def _deliver(self, item: OutboxItem) -> tuple[str, int] | None:
        """(id, status) once the receiver accepted it; None after recording a failure."""
        try:
            body = self._events.open(item)
        except Exception:  # a root-secret problem: retried like an outage, never sent unsigned
            log.warning("webhook %s could not be opened", item.id, exc_info=True)
            await self._failed(item, SendResult(None, "the payload could not be opened"))
            return None
        result = await self._sender.send(item.endpoint or "", item.id, body)
        if result.ok:
            return item.id, result.status or 0
        await self._failed(item, result)
        return None

    async def _failed(self, item: OutboxItem, result: SendResult) -> None:
        now, attempts = self._clock.now(), item.attempts + 1
        error = (result.error or f"HTTP {result.status}")[:500]
        endpoint = item.endpoint or ""
        if attempts >= self._policy.max_attempts:
            await self._store.webhook_given_up(item.id, self._claimer, now, result.status, error)
            log.error("webhook %s to %s given up after %d attempts: %s", item.id, endpoint,
                      attempts, error)
            await self._audit(WEBHOOK_GIVEN_UP, user_id=item.subject, webhook_id=item.id,
                              endpoint=endpoint, attempts=attempts, error=error[:200])
            self._tell(endpoint, "given_up")
            return
        log.warning("webhook %s to %s failed (attempt %d), retrying: %s", item.id, endpoint,
                    attempts, error)
        await self._store.webhook_retry(item.id, self._claimer, now + self._policy.delay(attempts),
                                        result.status, error)
        self._tell(endpoint, "failed")

    def _tell(self, endpoint: str, outcome: str) -> None:
        for listener in self._listeners:
            listener(endpoint, outcome)
