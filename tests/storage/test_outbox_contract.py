"""The outbox over SQLite and PostgreSQL: claims with leases, no message handed to two workers at
once, backoff, giving up visibly, and payloads dropped once done."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest
from cryptography.exceptions import InvalidTag
from sqlalchemy import text

from authd.clock import FixedClock
from authd.core.audit import Auditor
from authd.core.mail import LEASE, MailRequest, OutboxWorker, OutboxWriter, backoff
from authd.core.models import OutgoingMail
from authd.core.secrets import ServerSecrets
from authd.errors import MailError
from authd.mail import TemplateRenderer
from authd.storage.sql import SqlStore
from authd.storage.sql.db import Database

SECRETS = ServerSecrets.from_root(b"r" * 32)


class Recorder:
    """A mailer that records what it was handed, or fails as told: the mail server's part."""

    def __init__(self) -> None:
        self.sent: list[OutgoingMail] = []
        self.failure: MailError | None = None

    async def send(self, mail: OutgoingMail) -> None:
        if self.failure is not None:
            raise self.failure
        self.sent.append(mail)


@pytest.fixture
def store(migrated_db: Database) -> SqlStore:
    """The stores over a migrated database on SQLite and on PostgreSQL."""
    return SqlStore.over(migrated_db)


def _parts(store: SqlStore, clock: FixedClock, mailer: Recorder, give_up_after: float = 3600.0
           ) -> tuple[OutboxWriter, OutboxWorker]:
    writer = OutboxWriter(SECRETS, clock)
    worker = OutboxWorker(store.outbox, writer, TemplateRenderer("authd <a@localhost>"), mailer,
                          Auditor(store.audit, clock), clock, give_up_after=give_up_after)
    return writer, worker


def _request(to: str = "ada@example.com") -> MailRequest:
    return MailRequest(to=to, template="password_changed", values={"product": "authd"})


async def test_a_written_message_is_sent_once_and_its_payload_dropped(store: SqlStore) -> None:
    """A message is delivered by the next pass, never again, and its sealed payload is deleted."""
    clock, mailer = FixedClock(), Recorder()
    writer, worker = _parts(store, clock, mailer)
    await store.email_tokens.issue(None, writer.item(_request()))
    assert await worker.run_once() == 1
    assert await worker.run_once() == 0
    assert [m.to for m in mailer.sent] == ["ada@example.com"]
    rows = await store.db.read(lambda c: c.execute(text("SELECT payload, delivered_at FROM outbox")).all())
    assert rows[0].payload is None and rows[0].delivered_at is not None


async def test_noop_rows_send_nothing(store: SqlStore) -> None:
    """The no-op row written for an unknown address is completed without any mail."""
    clock, mailer = FixedClock(), Recorder()
    writer, worker = _parts(store, clock, mailer)
    await store.email_tokens.issue(None, writer.item(None))
    assert await worker.run_once() == 1 and mailer.sent == []


async def test_the_payload_is_sealed_to_its_row(store: SqlStore) -> None:
    """The stored payload reveals nothing and opens only under the root secret, for its own row."""
    clock = FixedClock()
    writer = OutboxWriter(SECRETS, clock)
    item = writer.item(MailRequest(to="ada@example.com", template="sign_in",
                                   values={"code": "123456", "link": "https://x/?token=SECRET"}))
    assert item.payload is not None and b"SECRET" not in item.payload and b"123456" not in item.payload
    assert writer.open(item) is not None
    with pytest.raises(InvalidTag):
        writer.open(dataclasses.replace(item, id="another-row"))
    with pytest.raises(InvalidTag):
        OutboxWriter(ServerSecrets.from_root(b"s" * 32), clock).open(item)


async def test_failures_back_off_exponentially(store: SqlStore) -> None:
    """A failed delivery is retried later, with a growing delay, and not before."""
    clock, mailer = FixedClock(), Recorder()
    writer, worker = _parts(store, clock, mailer)
    await store.email_tokens.issue(None, writer.item(_request()))
    mailer.failure = MailError("connect", "down")
    assert await worker.run_once() == 1
    clock.advance(backoff(1) - 1)
    assert await worker.run_once() == 0
    clock.advance(1)
    assert await worker.run_once() == 1
    assert backoff(2) == 2 * backoff(1)
    mailer.failure = None
    clock.advance(backoff(2))
    assert await worker.run_once() == 1 and len(mailer.sent) == 1


async def test_a_message_that_keeps_failing_is_given_up_visibly(store: SqlStore) -> None:
    """Past give_up_after the row stops, keeps its error for operators, drops its payload, and an
    audit event is recorded."""
    clock, mailer = FixedClock(), Recorder()
    writer, worker = _parts(store, clock, mailer, give_up_after=60)
    await store.email_tokens.issue(None, writer.item(_request()))
    mailer.failure = MailError("connect", "down")
    await worker.run_once()
    clock.advance(3600)
    await worker.run_once()
    row = (await store.db.read(lambda c: c.execute(text("SELECT * FROM outbox")).all()))[0]
    assert row.failed_at is not None and row.payload is None and "connect" in row.last_error
    events = await store.audit.list_events(user_id=None, event="mail.given_up", limit=10)
    assert len(events) == 1
    clock.advance(10 * 3600)
    assert await worker.run_once() == 0


async def test_a_refused_recipient_is_not_retried(store: SqlStore) -> None:
    """A permanent refusal (5xx) stops at once instead of retrying for days."""
    clock, mailer = FixedClock(), Recorder()
    writer, worker = _parts(store, clock, mailer)
    await store.email_tokens.issue(None, writer.item(_request()))
    mailer.failure = MailError("refused", "no such user", permanent=True)
    await worker.run_once()
    assert await store.outbox.pending_count() == 0


async def test_a_crashed_workers_claim_is_retried_after_its_lease(store: SqlStore) -> None:
    """Rows claimed by a worker that died are claimed again once the lease runs out, not before."""
    clock = FixedClock()
    writer = OutboxWriter(SECRETS, clock)
    await store.email_tokens.issue(None, writer.item(_request()))
    assert len(await store.outbox.claim(clock.now(), clock.now() + LEASE, 10, "dead")) == 1
    assert await store.outbox.claim(clock.now(), clock.now() + LEASE, 10, "alive") == []
    clock.advance(LEASE + 1)
    assert len(await store.outbox.claim(clock.now(), clock.now() + LEASE, 10, "alive")) == 1


async def test_concurrent_claims_never_share_a_message(store: SqlStore) -> None:
    """Many workers claiming at once (several instances) each get disjoint messages."""
    clock = FixedClock()
    writer = OutboxWriter(SECRETS, clock)
    for n in range(60):
        await store.email_tokens.issue(None, writer.item(_request(f"u{n}@example.com")))
    claims = await asyncio.gather(*(store.outbox.claim(clock.now(), clock.now() + LEASE, 7, f"w{i}")
                                    for i in range(12)))
    ids = [item.id for batch in claims for item in batch]
    assert len(ids) == len(set(ids)) == 60


async def test_an_unreachable_server_pauses_delivery_instead_of_hammering_it(store: SqlStore) -> None:
    """When the mail server cannot be reached, the rest of the batch is not tried and no new claims
    are made until the pause ends; then everything is delivered."""
    clock, mailer = FixedClock(), Recorder()
    writer, worker = _parts(store, clock, mailer)
    for n in range(5):
        await store.email_tokens.issue(None, writer.item(_request(f"u{n}@example.com")))
    mailer.failure = MailError("connect", "refused")
    tries = 0
    original = mailer.send

    async def counting(mail: OutgoingMail) -> None:
        nonlocal tries
        tries += 1
        await original(mail)
    mailer.send = counting  # type: ignore[method-assign]
    await worker.run_once()
    assert tries == 1
    assert await worker.run_once() == 0
    mailer.failure = None
    clock.advance(3600)
    while await worker.run_once():
        pass
    assert len(mailer.sent) == 5


async def test_old_rows_and_tokens_are_pruned(store: SqlStore) -> None:
    """Delivered rows go after a day, expired email tokens a day after expiry; pending rows stay."""
    clock, mailer = FixedClock(), Recorder()
    writer, worker = _parts(store, clock, mailer)
    await store.email_tokens.issue(None, writer.item(_request()))
    await worker.run_once()
    await store.email_tokens.issue(None, writer.item(_request()))
    mailer.failure = MailError("connect", "down")
    await worker.run_once()
    clock.advance(2 * 86_400)
    assert await worker.prune() == 1
    assert await store.outbox.pending_count() == 1
