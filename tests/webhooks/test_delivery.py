"""Webhooks end to end: a real authd process calls a real receiver process on loopback.

Every signature is checked by the receiver with the ``standardwebhooks`` library,
as a user's receiver would. Retries run on a schedule of fractions of a second
(configured), and every wait is a poll with a deadline, never a fixed sleep.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from tests.e2e.conftest import login, new_email, serving, sign_up
from tests.peers.webhook_receiver import WebhookReceiver
from tests.serverproc import AuthdServer
from tests.webhooks.conftest import bodies, delivered, of_type, webhook_env


def _user_created(records: list[dict[str, Any]], email: str) -> list[dict[str, Any]]:
    return [r for r in of_type(records, "user.created")
            if orjson.loads(r["body"])["data"].get("email") == email]


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_user_created_arrives_signed_after_sign_up(tmp_path: Path, receiver: WebhookReceiver,
                                                   backend: str) -> None:
    """A sign-up reaches the receiver as a signed user.created with the user's id and email."""
    with serving(tmp_path, backend, webhook_env(receiver)) as srv, srv.client() as http:
        email = sign_up(http)
        records = receiver.wait_for(lambda rs: _user_created(rs, email))
    record = _user_created(records, email)[0]
    assert record["verified"] is True
    body = orjson.loads(record["body"])
    assert set(body) == {"type", "timestamp", "data"}
    assert body["timestamp"].endswith("Z")
    assert set(body["data"]) == {"user_id", "email"}
    assert record["signature"].startswith("v1,")
    assert len(record["id"]) >= 16


def test_a_failed_delivery_is_retried_with_the_same_webhook_id(tmp_path: Path,
                                                               receiver: WebhookReceiver) -> None:
    """After a 500 the event comes again, under the same webhook-id, until it is accepted."""
    receiver.set_mode(main="fail")
    with serving(tmp_path, "sqlite", webhook_env(receiver, events=("user.created",))) as srv, \
            srv.client() as http:
        email = sign_up(http)
        failed = receiver.wait_for(lambda rs: len(_user_created(rs, email)) >= 2)
        receiver.set_mode(main="ok")
        records = receiver.wait_for(lambda rs: delivered(_user_created(rs, email)))
    ids = {r["id"] for r in _user_created(records, email)}
    assert len(ids) == 1
    assert ids == {r["id"] for r in _user_created(failed, email)}
    assert all(r["verified"] for r in _user_created(records, email))


def test_a_receiver_that_is_down_then_up_misses_nothing(tmp_path: Path,
                                                        receiver: WebhookReceiver) -> None:
    """Events written while the receiver is unreachable all arrive once it is back."""
    with serving(tmp_path, "sqlite", webhook_env(receiver, events=("user.*",))) as srv, \
            srv.client() as http:
        receiver.stop()
        emails = [sign_up(http) for _ in range(3)]
        receiver.start()
        records = receiver.wait_for(
            lambda rs: all(delivered(_user_created(rs, e)) for e in emails))
    assert all(r["verified"] for r in records)


def test_events_of_one_user_arrive_in_order(tmp_path: Path, receiver: WebhookReceiver) -> None:
    """A later event of a user is not attempted while an earlier one is undelivered."""
    receiver.set_mode(main="fail")
    with serving(tmp_path, "sqlite", webhook_env(receiver)) as srv, srv.client() as http:
        email = sign_up(http)
        tokens = login(http, email)
        ended = http.delete("/v1/sessions",
                            headers={"Authorization": f"Bearer {tokens['access_token']}"})
        assert ended.status_code == 204, ended.text
        receiver.wait_for(lambda rs: len(_user_created(rs, email)) >= 3)
        receiver.set_mode(main="ok")
        records = receiver.wait_for(lambda rs: len(delivered(rs)) >= 3)
    user_id = orjson.loads(_user_created(records, email)[0]["body"])["data"]["user_id"]
    mine = [r for r in records if orjson.loads(r["body"])["data"]["user_id"] == user_id]
    types = [orjson.loads(r["body"])["type"] for r in mine]
    # Only user.created was tried while the receiver failed: nothing overtook it.
    assert set(types[:types.index("session.created")]) == {"user.created"}
    assert [orjson.loads(r["body"])["type"] for r in delivered(mine)][:3] == [
        "user.created", "session.created", "session.revoked"]


def test_a_hanging_endpoint_does_not_delay_another(tmp_path: Path,
                                                   receiver: WebhookReceiver) -> None:
    """One receiver that never answers holds up only its own deliveries."""
    receiver.set_mode(stuck="hang")
    env = webhook_env(receiver, "stuck", "main", events=("user.created",), timeout=30.0)
    with serving(tmp_path, "sqlite", env) as srv, srv.client() as http:
        first = sign_up(http)
        receiver.wait_for(lambda rs: any(r["endpoint"] == "stuck" for r in rs))
        second = sign_up(http)
        records = receiver.wait_for(
            lambda rs: all(delivered(_user_created(rs, e)) for e in (first, second)), timeout=10)
        receiver.set_mode(stuck="ok")
    stuck = [r for r in records if r["endpoint"] == "stuck"]
    assert all(r["mode"] == "hang" for r in stuck)  # still hanging when main had both


def test_a_redirect_is_not_followed(tmp_path: Path, receiver: WebhookReceiver) -> None:
    """A 3xx counts as a failure and authd calls no URL but the configured one."""
    receiver.set_mode(main="redirect")
    with serving(tmp_path, "sqlite", webhook_env(receiver, events=("user.created",))) as srv, \
            srv.client() as http:
        email = sign_up(http)
        records = receiver.wait_for(lambda rs: len(_user_created(rs, email)) >= 2)
    assert {r["endpoint"] for r in records} == {"main"}
    assert len({r["id"] for r in _user_created(records, email)}) == 1


def test_kill_9_mid_delivery_loses_no_event(tmp_path: Path, receiver: WebhookReceiver) -> None:
    """An authd killed while a receiver holds the request delivers the event after a restart."""
    receiver.set_mode(main="hang")
    with serving(tmp_path, "sqlite", webhook_env(receiver, events=("user.created",))) as srv:
        with srv.client() as http:
            email = sign_up(http)
        receiver.wait_for(lambda rs: _user_created(rs, email))
        srv.kill9()
        receiver.set_mode(main="ok")
        srv.start()
        records = receiver.wait_for(lambda rs: delivered(_user_created(rs, email)), timeout=60)
    assert len({r["id"] for r in _user_created(records, email)}) == 1


def test_two_instances_never_deliver_one_event_at_the_same_time(
        tmp_path: Path, receiver: WebhookReceiver) -> None:
    """On PostgreSQL + Redis, two instances share the work and never send one row twice at once."""
    receiver.set_mode(main="slow")
    env = {**webhook_env(receiver, events=("user.created",)),
           "AUTHD_KEY_ENCRYPTION_KEY": secrets.token_urlsafe(32)}  # one root secret for both
    with serving(tmp_path / "a", "redis", env) as first:
        database_url = first.env["AUTHD_DATABASE_URL"]
        second = AuthdServer(tmp_path / "b", database_url=database_url,
                             env={k: v for k, v in first.env.items()
                                  if k.startswith("AUTHD_") and k not in ("AUTHD_ISSUER",
                                                                           "AUTHD_DATA_DIR")})
        second.start()
        try:
            emails = []
            with first.client() as a, second.client() as b:
                for n in range(12):
                    emails.append(sign_up(a if n % 2 else b))
            records = receiver.wait_for(
                lambda rs: all(delivered(_user_created(rs, e)) for e in emails), timeout=60)
        finally:
            second.stop()
    assert max(r["concurrent"] for r in records) == 1
    ids = [r["id"] for r in delivered(records)]
    assert len(ids) == len(set(ids)) == 12


def test_replay_sends_an_event_again_with_its_webhook_id(tmp_path: Path,
                                                         receiver: WebhookReceiver) -> None:
    """``authd webhooks replay --since 1h`` re-sends delivered events under their webhook-id."""
    with serving(tmp_path, "sqlite", webhook_env(receiver, events=("user.created",))) as srv, \
            srv.client() as http:
        email = sign_up(http)
        first = receiver.wait_for(lambda rs: delivered(_user_created(rs, email)))
        out = srv.cli("webhooks", "replay", "--since", "1h", "--event", "user.created")
        assert "1 webhook event will be sent again" in out.stdout
        records = receiver.wait_for(lambda rs: len(delivered(_user_created(rs, email))) >= 2)
        log = srv.cli("webhooks", "deliveries", "--status", "delivered")
        metrics = httpx.get(srv.url + "/metrics").text
    assert {r["id"] for r in _user_created(records, email)} == {_user_created(first, email)[0]["id"]}
    rows = [orjson.loads(line) for line in log.stdout.splitlines()]
    assert [(r["type"], r["status"], r["last_status"]) for r in rows] == [
        ("user.created", "delivered", 204)]
    assert email not in log.stdout
    assert 'authd_webhook_attempts_total{endpoint="main",result="delivered"}' in metrics
    assert "authd_webhook_pending" in metrics


def test_events_of_no_subscribed_type_send_nothing(tmp_path: Path,
                                                   receiver: WebhookReceiver) -> None:
    """An endpoint subscribed to session.* gets no user.created, only session events."""
    env = webhook_env(receiver, events=("session.*",))
    with serving(tmp_path, "sqlite", env) as srv, srv.client() as http:
        email = new_email()
        sign_up(http, email)
        login(http, email)
        records = receiver.wait_for(lambda rs: of_type(rs, "session.created"))
    assert {b["type"] for b in bodies(records)} == {"session.created"}


def test_the_admin_api_lists_deliveries_to_admins_only(tmp_path: Path,
                                                       receiver: WebhookReceiver) -> None:
    """GET /admin/v1/webhooks/deliveries shows a delivered event (never its payload) to a
    token with authd:admin; no token is 401, a bad status or cursor is 400."""
    from authd.core.clients import hash_secret

    admin_secret = secrets.token_urlsafe(32)
    clients = {"ops": {"secret_hash": hash_secret(admin_secret), "scopes": ["authd:admin"]}}
    env = {**webhook_env(receiver, events=("user.created",)),
           "AUTHD_CLIENTS": orjson.dumps(clients).decode()}
    with serving(tmp_path, "sqlite", env) as srv, srv.client() as http:
        email = sign_up(http)
        receiver.wait_for(lambda rs: delivered(_user_created(rs, email)))
        token = http.post("/v1/token", data={"grant_type": "client_credentials"},
                          auth=("ops", admin_secret)).json()["access_token"]
        auth = {"Authorization": f"Bearer {token}"}
        page = http.get("/admin/v1/webhooks/deliveries", params={"status": "delivered"},
                        headers=auth)
        anonymous = http.get("/admin/v1/webhooks/deliveries")
        bad_status = http.get("/admin/v1/webhooks/deliveries", params={"status": "lost"},
                              headers=auth)
        bad_cursor = http.get("/admin/v1/webhooks/deliveries", params={"cursor": "%%garbage"},
                              headers=auth)
    assert page.status_code == 200, page.text
    rows = page.json()["deliveries"]
    assert [(r["type"], r["status"], r["endpoint"]) for r in rows] == [
        ("user.created", "delivered", "main")]
    assert email not in page.text
    assert anonymous.status_code == 401
    assert bad_status.status_code == 400 and bad_cursor.status_code == 400
