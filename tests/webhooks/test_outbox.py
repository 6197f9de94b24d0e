"""Webhook rows over SQLite and PostgreSQL, with an injected clock: written with the change they
report, claimed in order per user and never by two workers at once, retried on the schedule,
given up visibly, listed page by page and replayed."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text

from authd.clock import FixedClock
from authd.core.audit import Auditor
from authd.core.mail import OutboxWorker, OutboxWriter
from authd.core.models import AuditEvent, User
from authd.core.secrets import ServerSecrets
from authd.core.webhook_log import WebhookLog
from authd.core.webhooks import (
    WEBHOOK_GIVEN_UP,
    SendResult,
    WebhookEvents,
    WebhookPolicy,
    WebhookTarget,
    WebhookWorker,
)
from authd.errors import EmailTaken, InvalidRequest
from authd.mail import TemplateRenderer
from authd.storage.sql import SqlStore
from authd.storage.sql.db import Database

SECRETS = ServerSecrets.from_root(b"w" * 32)
TARGETS = [WebhookTarget("all", ("*",)), WebhookTarget("users", ("user.*",))]


class Receiver:
    """A sender that records what it was handed and answers as told: the receiver's part."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str, bytes]] = []
        self.status = 204

    async def send(self, endpoint: str, webhook_id: str, body: bytes) -> SendResult:
        self.sent.append((endpoint, webhook_id, body))
        return SendResult(self.status)


class Parts:
    """A store with webhooks attached, and the worker and log over it."""

    def __init__(self, store: SqlStore, clock: FixedClock, policy: WebhookPolicy) -> None:
        self.store, self.clock, self.receiver = store, clock, Receiver()
        self.events = WebhookEvents(TARGETS, SECRETS, clock)
        store.audit.attach(self.events)
        self.auditor = Auditor(store.audit, clock)
        self.worker = WebhookWorker(store.webhooks, self.events, self.receiver, self.auditor,
                                    clock, policy)
        self.log = WebhookLog(store.webhooks, clock, ("all", "users"))

    async def sign_up(self, email: str) -> User:
        user = User(id=email.split("@")[0], email=email, email_verified=False, name=None,
                    password_hash=None, disabled=False, created_at=self.clock.now())
        await self.store.users.create_user(user, self.auditor.event("user.created", user_id=user.id))
        self.clock.advance(0.001)
        return user

    async def record(self, event: str, user_id: str, **detail: object) -> None:
        await self.auditor(event, user_id=user_id, **detail)
        self.clock.advance(0.001)


@pytest.fixture
def store(migrated_db: Database) -> SqlStore:
    """The stores over a migrated database on SQLite and on PostgreSQL."""
    return SqlStore.over(migrated_db)


@pytest.fixture
def parts(store: SqlStore) -> Parts:
    """Webhooks wired over ``store`` with a clock that moves only when told."""
    return Parts(store, FixedClock(), WebhookPolicy(give_up_after=3600.0, concurrency=8))


async def _count(store: SqlStore, sql: str) -> int:
    return int(await store.db.read(lambda c: c.execute(text(sql)).scalar_one()))


async def test_sign_up_writes_user_audit_row_and_webhooks_in_one_transaction(parts: Parts) -> None:
    """A created user always has its audit row and one webhook row per subscribed endpoint;
    a refused sign-up leaves none of them."""
    await parts.sign_up("ada@example.com")
    with pytest.raises(EmailTaken):
        await parts.sign_up("ada@example.com")
    assert await _count(parts.store, "SELECT count(*) FROM audit_events") == 1
    rows = await parts.log.deliveries(None, None, None, 10)
    assert sorted(d.endpoint for d in rows.deliveries) == ["all", "users"]
    assert {(d.type, d.user_id, d.status) for d in rows.deliveries} == {
        ("user.created", "ada", "pending")}


async def test_only_subscribed_and_mapped_events_write_rows(parts: Parts) -> None:
    """session events go to ``*`` only; events with no webhook type write no row at all."""
    await parts.sign_up("bo@example.com")
    await parts.record("login.ok", "bo")
    await parts.record("token.refreshed", "bo", sid="f1")
    page = await parts.log.deliveries(None, None, None, 10)
    assert sorted((d.endpoint, d.type) for d in page.deliveries) == [
        ("all", "session.created"), ("all", "user.created"), ("users", "user.created")]


async def test_payload_is_the_sealed_body_with_ids_and_email_only(parts: Parts) -> None:
    """The body holds type, timestamp and data (user id, email); the stored row is sealed."""
    await parts.sign_up("cy@example.com")
    await parts.worker.run_once("users")
    (_, _, body), = parts.receiver.sent
    assert body.startswith(b'{"type":"user.created","timestamp":"2023-11-14T22:13:20.000Z"')
    assert b'"data":{"user_id":"cy","email":"cy@example.com"}' in body
    assert await _count(parts.store,
                        "SELECT count(*) FROM outbox WHERE payload IS NOT NULL") == 2
    raw = await parts.store.db.read(lambda c: c.execute(text("SELECT payload FROM outbox")).all())
    assert all(b"cy@example.com" not in bytes(r[0]) for r in raw)


async def test_rows_of_one_user_are_claimed_one_after_the_other(parts: Parts) -> None:
    """A user's later event is not handed out while an earlier one is undelivered; others are."""
    await parts.sign_up("u@example.com")
    await parts.sign_up("v@example.com")
    await parts.record("login.ok", "u")
    parts.receiver.status = 500
    assert await parts.worker.run_once("all") == 2  # u's and v's user.created, not u's login
    assert sorted(b for _, _, b in parts.receiver.sent)[0].count(b"user.created") == 1
    parts.receiver.status = 204
    parts.clock.advance(5)
    assert await parts.worker.run_once("all") == 2  # both retried; u's login still waits
    assert await parts.worker.run_once("all") == 1  # now u's login
    types = [b.split(b'"')[3].decode() for _, _, b in parts.receiver.sent]
    assert types[-1] == "session.created"


async def test_concurrent_claims_never_share_a_row(parts: Parts) -> None:
    """Workers polling at once take disjoint rows (the lease; SKIP LOCKED on PostgreSQL)."""
    for n in range(20):
        await parts.sign_up(f"user{n}@example.com")
    now = parts.clock.now()
    claims = await asyncio.gather(*(parts.store.webhooks.claim_webhooks(
        "all", now, now + 60, 5, f"worker{k}") for k in range(6)))
    ids = [item.id for batch in claims for item in batch]
    assert len(ids) == len(set(ids)) == 20


async def test_failures_follow_the_schedule_and_then_give_up(store: SqlStore) -> None:
    """Retried 5 s, 30 s, 2 min after the first try, then given up, audited and kept for replay."""
    parts = Parts(store, FixedClock(), WebhookPolicy(give_up_after=120.0))
    await parts.sign_up("dee@example.com")
    parts.receiver.status = 503
    start = parts.clock.now()
    tried_at = []
    while len(tried_at) < 4:
        if await parts.worker.run_once("users"):
            tried_at.append(round(parts.clock.now() - start))
        parts.clock.advance(1)
    assert tried_at == [0, 5, 30, 120]
    page = await parts.log.deliveries("users", "failed", None, 10)
    (given_up,) = page.deliveries
    assert (given_up.attempts, given_up.last_status, given_up.last_error) == (4, 503, "HTTP 503")
    events = await store.audit.list_events(user_id="dee", event=WEBHOOK_GIVEN_UP, limit=5)
    assert events[0].detail is not None and events[0].detail["webhook_id"] == given_up.id
    parts.clock.advance(3600)
    assert await parts.worker.run_once("users") == 0
    assert await parts.log.replay(start - 1, endpoint="users") == 1
    parts.receiver.status = 200
    assert await parts.worker.run_once("users") == 1
    assert parts.receiver.sent[-1][1] == given_up.id  # the same webhook-id


async def test_the_mail_worker_never_takes_webhook_rows(parts: Parts) -> None:
    """Mail and webhooks share the outbox table; each worker claims only its own rows."""
    await parts.sign_up("mo@example.com")
    writer = OutboxWriter(SECRETS, parts.clock)
    mail = OutboxWorker(parts.store.outbox, writer, TemplateRenderer("a <a@localhost>"),
                        _NoMail(), parts.auditor, parts.clock, give_up_after=60)
    assert await mail.run_once() == 0
    assert await parts.store.outbox.pending_count() == 0
    assert await parts.store.webhooks.pending_webhooks() == {"all": 1, "users": 1}


class _NoMail:
    async def send(self, mail: object) -> None:
        raise AssertionError("a webhook row reached the mailer")


async def test_deliveries_are_paged_newest_first_and_filtered(parts: Parts) -> None:
    """The admin log pages with an opaque cursor, filters by endpoint and status."""
    for n in range(5):
        await parts.sign_up(f"p{n}@example.com")
    await parts.worker.run_once("users")
    first = await parts.log.deliveries("users", None, None, 2)
    second = await parts.log.deliveries("users", None, first.next_cursor, 2)
    third = await parts.log.deliveries("users", None, second.next_cursor, 2)
    users = [d.user_id for page in (first, second, third) for d in page.deliveries]
    assert users == ["p4", "p3", "p2", "p1", "p0"]
    assert third.next_cursor is None
    delivered = await parts.log.deliveries(None, "delivered", None, 50)
    assert {d.endpoint for d in delivered.deliveries} == {"users"}
    assert all(d.last_status == 204 for d in delivered.deliveries)
    pending = await parts.log.deliveries("all", "pending", None, 50)
    assert len(pending.deliveries) == 5
    shown = first.as_json()
    assert shown["next_cursor"] == first.next_cursor
    assert isinstance(shown["deliveries"], list) and set(shown["deliveries"][0]) == {
        "id", "endpoint", "type", "user_id", "status", "attempts", "last_status", "last_error",
        "created_at", "next_attempt_at", "delivered_at", "failed_at"}


@pytest.mark.parametrize(("status", "cursor", "limit"), [
    ("lost", None, 10), (None, "not-a-cursor", 10), (None, None, 0), (None, None, 100_000)])
async def test_bad_log_queries_are_client_errors(parts: Parts, status: str | None,
                                                 cursor: str | None, limit: int) -> None:
    """A bad status, cursor or limit is a 400, never a server error."""
    with pytest.raises(InvalidRequest):
        await parts.log.deliveries(None, status, cursor, limit)


async def test_replay_of_an_unknown_endpoint_or_type_is_refused(parts: Parts) -> None:
    """Replay names configured endpoints and documented event types only."""
    with pytest.raises(InvalidRequest):
        await parts.log.replay(0.0, endpoint="nope")
    with pytest.raises(InvalidRequest):
        await parts.log.replay(0.0, event_type="user.exploded")


async def test_pruning_forgets_old_rows_and_keeps_recent_ones(parts: Parts) -> None:
    """Delivered rows are kept for the retention (log and replay), then dropped."""
    await parts.sign_up("old@example.com")
    await parts.worker.run_once("users")
    parts.clock.advance(100)
    assert await parts.worker.prune(retention=200) == 0
    parts.clock.advance(200)
    assert await parts.worker.prune(retention=200) == 1
    assert await parts.store.webhooks.pending_webhooks() == {"all": 1}


async def test_an_event_of_a_deleted_user_still_reports_its_id(parts: Parts) -> None:
    """user.deleted recorded after the row is gone carries the id (and no email)."""
    await parts.record("user.deleted", "ghost")
    await parts.worker.run_once("users")
    (_, _, body), = parts.receiver.sent
    assert b'"type":"user.deleted"' in body and b'"data":{"user_id":"ghost"}' in body


def test_audit_names_map_to_the_documented_types() -> None:
    """Each documented webhook type has at least one audit event behind it."""
    from authd.core.webhooks import EVENT_TYPES
    assert set(EVENT_TYPES) == {
        "user.created", "user.updated", "user.deleted", "user.email_verified",
        "user.password_changed", "user.disabled", "user.mfa_enabled", "user.mfa_disabled",
        "session.created", "session.revoked", "refresh.reuse_detected"}


async def test_evented_audit_of_a_missing_event_type_takes_the_fast_path(parts: Parts) -> None:
    """Events no endpoint wants are written alone (one statement), as before webhooks."""
    await parts.store.audit.record(AuditEvent(parts.clock.now(), "token.refreshed", "x"))
    assert await _count(parts.store, "SELECT count(*) FROM outbox") == 0


async def test_a_password_change_writes_its_webhooks_with_the_new_hash(parts: Parts) -> None:
    """user.password_changed is committed with the hash it reports, carrying the user's email."""
    user = await parts.sign_up("pw@example.com")
    event = parts.auditor.event("password.changed", user_id=user.id)
    await parts.store.users.set_password_hash(user.id, "new-hash", parts.clock.now(), event)
    page = await parts.log.deliveries("users", "pending", None, 10)
    assert [d.type for d in page.deliveries] == ["user.password_changed", "user.created"]
    stored = await parts.store.users.get_user(user.id)
    assert stored is not None and stored.password_hash == "new-hash"
    assert await _count(parts.store, "SELECT count(*) FROM audit_events") == 2


async def test_user_changes_write_their_webhooks_in_their_own_transaction(parts: Parts) -> None:
    """Email verified, password reset, email changed, TOTP on and off, an admin's update and
    disabling: each change commits with its audit rows and webhook rows; a change that does
    not happen writes neither."""
    from authd.core.models import TotpFactor

    store, auditor, now = parts.store, parts.auditor, parts.clock.now()
    user = await parts.sign_up("ev@example.com")
    taken = await parts.sign_up("taken@example.com")

    def event(name: str) -> AuditEvent:
        parts.clock.advance(0.001)
        return auditor.event(name, user_id=user.id)

    assert not await store.email_tokens.mark_verified(user.id, "old@example.com",
                                                      event("email.verified"))
    assert await store.email_tokens.mark_verified(user.id, user.email, event("email.verified"))
    await store.email_tokens.reset_password(user.id, "reset-hash", user.email, now,
                                            event("password.reset"))
    with pytest.raises(EmailTaken):
        await store.email_tokens.set_email(user.id, taken.email, event("email.changed"))
    await store.email_tokens.set_email(user.id, "new@example.com", event("email.changed"))
    assert not await store.second_factors.confirm_totp(user.id, 1, now, [],
                                                       event("mfa.totp_enabled"))
    await store.second_factors.put_pending_totp(TotpFactor(user.id, b"sealed", now))
    assert await store.second_factors.confirm_totp(user.id, 1, now, [], event("mfa.totp_enabled"))
    assert await store.second_factors.delete_totp(user.id, event("mfa.totp_disabled"))
    assert not await store.second_factors.delete_totp(user.id, event("mfa.totp_disabled"))
    assert await store.users.update_user("nobody", {"disabled": True},
                                         [event("user.updated")]) is None
    disabled = await store.users.update_user(user.id, {"disabled": True},
                                             [event("user.updated"), event("user.disabled")])
    assert disabled is not None and disabled.disabled
    page = await parts.log.deliveries("users", "pending", None, 20)
    assert [d.type for d in page.deliveries if d.user_id == user.id] == [
        "user.disabled", "user.updated", "user.mfa_disabled", "user.mfa_enabled",
        "user.updated", "user.password_changed", "user.email_verified", "user.created"]
    assert await _count(store, "SELECT count(*) FROM audit_events") == 9  # 2 sign-ups + 7


async def test_a_change_whose_webhooks_cannot_be_written_does_not_happen(
        parts: Parts, monkeypatch: pytest.MonkeyPatch) -> None:
    """The change and its event are one transaction: if the webhook rows fail to be written,
    the address stays unverified and the password unchanged (no change without its event)."""
    user = await parts.sign_up("atomic@example.com")

    def broken(*_: object, **__: object) -> list[object]:
        raise RuntimeError("the outbox is unwritable")

    monkeypatch.setattr(parts.events, "items", broken)
    with pytest.raises(RuntimeError):
        await parts.store.email_tokens.mark_verified(
            user.id, user.email, parts.auditor.event("email.verified", user_id=user.id))
    with pytest.raises(RuntimeError):
        await parts.store.email_tokens.reset_password(
            user.id, "never-stored", user.email, parts.clock.now(),
            parts.auditor.event("password.reset", user_id=user.id))
    stored = await parts.store.users.get_user(user.id)
    assert stored is not None and not stored.email_verified and stored.password_hash is None
