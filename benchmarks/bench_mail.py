"""Mail: answers that do not depend on the address or the mail server, and outbox delivery speed.

    .venv/bin/python -m benchmarks.bench_mail [--requests 1000] [--messages 2000]

In one run, against real processes on loopback (authd on SQLite, an aiosmtpd
SMTP server):

* median answer time of ``POST /v1/password/forgot`` and ``POST /v1/email/sign-in``
  for a known vs an unknown address, over interleaved requests (target: the
  ratio within 0.9-1.1, so timing says nothing about who has an account);
* the same endpoint with the SMTP server stopped vs running (target <= 1.1x:
  mail is off the request path);
* outbox throughput from committed rows to SMTP acceptance (target >= 200
  messages/s), and the p99 from commit to acceptance at 50 messages/s
  (target <= 1 s).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import email
import email.policy
import statistics
import tempfile
import time
from pathlib import Path

import httpx
from tests.e2e.conftest import PASSWORD, start_server
from tests.peers.smtp_sink import SmtpSink

from authd.clock import SystemClock
from authd.core.audit import Auditor
from authd.core.mail import MailRequest, OutboxWorker, OutboxWriter
from authd.core.secrets import ServerSecrets
from authd.mail import SmtpMailer, SmtpTarget, TemplateRenderer
from authd.storage.sql import SqlStore, migrate, open_database

UNLIMITED = {"AUTHD_MAIL__PER_ADDRESS_PER_HOUR": "100000000", "AUTHD_MAIL__REQUESTS_PER_IP": "100000000",
             "AUTHD_LOG_LEVEL": "error", "AUTHD_MAIL__POLL_INTERVAL": "0.2"}


def _median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def _timed(http: httpx.Client, path: str, address: str) -> float:
    start = time.perf_counter()
    answer = http.post(path, json={"email": address})
    elapsed = time.perf_counter() - start
    assert answer.status_code == 202, answer.text
    return elapsed


def known_vs_unknown(http: httpx.Client, path: str, known: str, requests: int) -> tuple[float, float]:
    times: dict[str, list[float]] = {"known": [], "unknown": []}
    for n in range(requests):
        order = ("known", "unknown") if n % 2 else ("unknown", "known")
        for kind in order:
            address = known if kind == "known" else f"nobody-{n}@example.com"
            times[kind].append(_timed(http, path, address))
    return _median_ms(times["known"]), _median_ms(times["unknown"])


def _verdict(ok: bool) -> str:
    return "MET" if ok else "MISSED"


def http_part(tmp: Path, requests: int) -> None:
    with SmtpSink(tmp / "mailbox") as sink:
        server, _ = start_server(tmp / "authd", "sqlite",
                                 {**UNLIMITED, "AUTHD_MAIL__SMTP_URL": sink.url})
        try:
            with server.client() as http:
                known = "ada@example.com"
                http.post("/v1/users", json={"email": known, "password": PASSWORD})
                for _ in range(50):  # warm up
                    _timed(http, "/v1/password/forgot", known)
                for path in ("/v1/password/forgot", "/v1/email/sign-in"):
                    k, u = known_vs_unknown(http, path, known, requests)
                    ratio = k / u
                    print(f"{path}: median known {k:.2f} ms, unknown {u:.2f} ms, ratio {ratio:.3f} "
                          f"(target 0.9-1.1) {_verdict(0.9 <= ratio <= 1.1)}")
                up, down = [], []
                for _block in range(4):  # alternating blocks: drift of the machine hits both
                    for _ in range(requests // 8):
                        up.append(_timed(http, "/v1/password/forgot", known))
                    sink.stop()
                    for _ in range(requests // 8):
                        down.append(_timed(http, "/v1/password/forgot", known))
                    sink.start()
                ratio = _median_ms(down) / _median_ms(up)
                print(f"forgot with the SMTP server stopped vs running: {_median_ms(down):.2f} ms vs "
                      f"{_median_ms(up):.2f} ms, {ratio:.2f}x (target <= 1.1x) {_verdict(ratio <= 1.1)}")
        finally:
            server.stop()


async def outbox_part(tmp: Path, messages: int) -> None:
    with SmtpSink(tmp / "mailbox") as sink:
        db = open_database(f"sqlite:///{tmp}/outbox.db")
        await migrate(db)
        store, clock = SqlStore.over(db), SystemClock()
        writer = OutboxWriter(ServerSecrets.from_root(b"b" * 32), clock)
        mailer = SmtpMailer(SmtpTarget.from_url(sink.url))
        worker = OutboxWorker(store.outbox, writer, TemplateRenderer("authd <a@localhost>"), mailer,
                              Auditor(store.audit, clock), clock, give_up_after=3600)
        try:
            request = MailRequest(to="ada@example.com", template="password_changed",
                                  values={"product": "authd"})
            for _ in range(messages):
                await store.email_tokens.issue(None, writer.item(request))
            start = time.perf_counter()
            while await worker.run_once():
                pass
            rate = messages / (time.perf_counter() - start)
            print(f"outbox throughput to a local SMTP server: {rate:.0f} messages/s "
                  f"(target >= 200) {_verdict(rate >= 200)}")
            await paced(store, writer, worker, sink, seconds=10, per_second=50)
        finally:
            await worker.close()
            await db.dispose()


async def paced(store: SqlStore, writer: OutboxWriter, worker: OutboxWorker, sink: SmtpSink,
                seconds: int, per_second: int) -> None:
    """Commit ``per_second`` messages a second while a woken worker delivers; commit-to-accept p99."""
    wake = asyncio.Event()
    committed: dict[str, float] = {}

    async def deliver() -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), 1.0)
            wake.clear()
            while await worker.run_once():
                pass

    before = {p.name for p in sink.folder.glob("*.eml")}
    task = asyncio.create_task(deliver())
    request = MailRequest(to="paced@example.com", template="password_changed", values={"product": "authd"})
    start = time.perf_counter()
    for n in range(seconds * per_second):
        await asyncio.sleep(max(0.0, start + n / per_second - time.perf_counter()))
        item = writer.item(request)
        await store.email_tokens.issue(None, item)
        committed[item.id] = time.time()
        wake.set()
    for _ in range(600):  # up to 30 s for the last messages
        if len(list(sink.folder.glob("*.eml"))) - len(before) >= len(committed):
            break
        await asyncio.sleep(0.05)
    task.cancel()
    latencies = sorted(_latencies(sink, before, committed))
    p99 = latencies[int(len(latencies) * 0.99) - 1] if latencies else float("inf")
    print(f"commit to SMTP acceptance at {per_second} messages/s: p50 "
          f"{statistics.median(latencies) * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms over "
          f"{len(latencies)}/{len(committed)} messages (target <= 1000 ms) {_verdict(p99 <= 1.0)}")


def _latencies(sink: SmtpSink, before: set[str], committed: dict[str, float]) -> list[float]:
    """Seconds from each commit to the sink's acceptance (its file name is the acceptance time)."""
    found = []
    for path in sink.folder.glob("*.eml"):
        if path.name in before:
            continue
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        accepted = int(path.name.split("-")[0]) / 1e9
        # The Message-ID's left part is <random>.<outbox id>: make_msgid(idstring=id).
        left = str(message["Message-ID"]).strip("<>").split("@")[0]
        at = committed.get(left.rsplit(".", 1)[-1])
        if at is not None:
            found.append(accepted - at)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--messages", type=int, default=2000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        http_part(Path(tmp) / "http", args.requests)
        asyncio.run(outbox_part(Path(tmp) / "outbox", args.messages))


if __name__ == "__main__":
    main()
