"""Webhooks: delivery rate, commit-to-delivery latency, and events lost across failures.

    .venv/bin/python -m benchmarks.bench_webhooks [--events 2000] [--outage 10]

In one run, against a real receiver process on loopback (tests/peers/webhook_receiver.py,
which verifies every signature with the ``standardwebhooks`` library):

* deliveries per second from committed outbox rows to 2xx answers, one event per user
  (target >= 500/s), by the same worker and sender the server runs, over SQLite;
* the p99 from an event's commit to its arrival while events are committed at
  100/s (target <= 1 s);
* events lost when authd is killed with SIGKILL mid-delivery and the receiver is
  down for ``--outage`` seconds (target 0). The outage is shorter than a minute by
  default so that one run stays short; authd runs with a retry schedule of
  seconds, and the output says how long the outage was.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import statistics
import tempfile
import time
from pathlib import Path

import orjson
from standardwebhooks import Webhook
from tests.e2e.conftest import serving, sign_up
from tests.peers.webhook_receiver import WebhookReceiver
from tests.webhooks.conftest import SECRET, webhook_env

from authd.clock import SystemClock
from authd.core.audit import Auditor
from authd.core.secrets import ServerSecrets
from authd.core.webhooks import WebhookEvents, WebhookPolicy, WebhookTarget, WebhookWorker
from authd.storage.sql import SqlStore, migrate, open_database
from authd.webhooks import Endpoint, HttpSender


def _verdict(ok: bool) -> str:
    return "MET" if ok else "MISSED"


class Bench:
    """The server's webhook parts over one SQLite database, sending to ``receiver``."""

    def __init__(self, store: SqlStore, receiver: WebhookReceiver) -> None:
        clock = SystemClock()
        self.store = store
        self.events = WebhookEvents([WebhookTarget("main", ("*",))],
                                    ServerSecrets.from_root(b"b" * 32), clock)
        store.audit.attach(self.events)
        self.auditor = Auditor(store.audit, clock)
        self.sender = HttpSender({"main": Endpoint(receiver.url("main"), Webhook(SECRET))},
                                 clock, timeout=5.0)
        self.worker = WebhookWorker(store.webhooks, self.events, self.sender, self.auditor,
                                    clock, WebhookPolicy())

    async def drain(self) -> None:
        while await self.worker.run_once("main"):
            pass


async def rate_and_latency(tmp: Path, receiver: WebhookReceiver, events: int) -> None:
    db = open_database(f"sqlite:///{tmp}/webhooks.db")
    await migrate(db)
    bench = Bench(SqlStore.over(db), receiver)
    try:
        for n in range(events):
            await bench.auditor("user.created", user_id=f"u{n}")
        start = time.perf_counter()
        await bench.drain()
        rate = events / (time.perf_counter() - start)
        arrived = len(receiver.received())
        print(f"deliveries to a local receiver: {rate:.0f}/s over {arrived}/{events} events "
              f"(target >= 500/s) {_verdict(rate >= 500 and arrived == events)}")
        await paced(bench, receiver, seconds=10, per_second=100)
    finally:
        await bench.sender.aclose()
        await db.dispose()


async def paced(bench: Bench, receiver: WebhookReceiver, seconds: int, per_second: int) -> None:
    """Commit ``per_second`` events a second while a woken worker delivers: commit-to-arrival p99."""
    wake = asyncio.Event()
    committed: dict[str, float] = {}

    async def deliver() -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), 1.0)
            wake.clear()
            await bench.drain()

    task = asyncio.create_task(deliver())
    start = time.perf_counter()
    for n in range(seconds * per_second):
        await asyncio.sleep(max(0.0, start + n / per_second - time.perf_counter()))
        await bench.auditor("login.ok", user_id=f"paced{n}")
        committed[f"paced{n}"] = time.time()
        wake.set()
    records = await asyncio.to_thread(receiver.wait_for, lambda rs: sum(
        1 for r in rs if '"paced' in r["body"]) >= len(committed), 30.0)
    task.cancel()
    latencies = sorted(r["at"] - committed[orjson.loads(r["body"])["data"]["user_id"]]
                       for r in records if '"paced' in r["body"])
    p99 = latencies[int(len(latencies) * 0.99) - 1]
    print(f"commit to arrival at {per_second} events/s: p50 {statistics.median(latencies) * 1000:.0f}"
          f" ms, p99 {p99 * 1000:.0f} ms over {len(latencies)} events (target <= 1000 ms) "
          f"{_verdict(p99 <= 1.0)}")


def losses(tmp: Path, receiver: WebhookReceiver, users: int, outage: float) -> None:
    """Sign-ups while authd is killed mid-delivery and the receiver is away: how many never arrive."""
    env = {**webhook_env(receiver, events=("user.created",), retry_delays=[1.0],
                         max_retry_delay=2.0, poll_interval=0.2),
           "AUTHD_LOG_LEVEL": "error"}
    receiver.set_mode(main="slow")
    emails: list[str] = []
    with serving(tmp, "sqlite", env) as srv:
        with srv.client() as http:
            emails += [sign_up(http) for _ in range(users // 2)]
        srv.kill9()  # some rows are in flight at the receiver, some not yet claimed
        before = _emails(receiver.received())  # the receiver's records live as long as it does
        receiver.stop()
        srv.start()
        with srv.client() as http:
            emails += [sign_up(http) for _ in range(users - users // 2)]
        down_since = time.monotonic()
        while time.monotonic() - down_since < outage:  # the receiver stays away this long
            time.sleep(0.1)
        receiver.start()
        receiver.set_mode(main="ok")
        wanted = set(emails)
        try:
            records = receiver.wait_for(lambda rs: wanted <= before | _emails(rs), timeout=60)
        except AssertionError:
            records = receiver.received()
    lost = len(wanted - before - _emails(records))
    short = "" if outage >= 60 else f"; the outage is {outage:.0f} s, not 60 s, to keep the run short"
    print(f"events lost across a kill -9 and a {outage:.0f} s receiver outage: {lost} of {users} "
          f"(target 0{short}) {_verdict(lost == 0)}")


def _emails(records: list[dict[str, object]]) -> set[str]:
    return {orjson.loads(str(r["body"]))["data"].get("email") for r in records}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--users", type=int, default=40)
    parser.add_argument("--outage", type=float, default=10.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        with WebhookReceiver(SECRET) as receiver:
            asyncio.run(rate_and_latency(Path(tmp), receiver, args.events))
        with WebhookReceiver(SECRET) as receiver:
            losses(Path(tmp) / "authd", receiver, args.users, args.outage)


if __name__ == "__main__":
    main()
