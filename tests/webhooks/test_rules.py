"""The pure parts of webhooks: the retry schedule, event patterns, payloads, settings, ``--since``."""

from __future__ import annotations

import base64
import itertools
import os
import subprocess
import sys

import pytest
import typer
from standardwebhooks import Webhook

from authd.cli.webhooks import parse_since
from authd.config import ConfigError, load_settings
from authd.core.models import AuditEvent
from authd.core.webhooks import WebhookPolicy, WebhookTarget, payload

GOOD_SECRET = "whsec_" + base64.b64encode(bytes(range(32))).decode()
DAY = 86_400


def test_retries_come_5s_30s_and_2min_after_the_first_try() -> None:
    """The default schedule's first retries, counted from the first try."""
    policy = WebhookPolicy()
    elapsed = [sum(policy.delay(n) for n in range(1, k + 1)) for k in (1, 2, 3)]
    assert elapsed == [5.0, 30.0, 120.0]


def test_later_gaps_grow_and_stop_at_an_hour() -> None:
    """After the first retries gaps double and never exceed one hour, however many failures."""
    policy = WebhookPolicy()
    gaps = [policy.delay(n) for n in range(1, 200)]
    assert all(b >= a for a, b in itertools.pairwise(gaps))
    assert max(gaps) == 3600.0 and gaps[3] == 180.0


def test_an_event_is_retried_for_three_days_then_given_up() -> None:
    """The last try starts within three days of the first; one more would start after."""
    policy = WebhookPolicy()
    tries = policy.max_attempts
    last_start = sum(policy.delay(n) for n in range(1, tries))
    assert last_start <= 3 * DAY < last_start + policy.delay(tries)


def test_the_lease_outlasts_an_attempt() -> None:
    """A claim is held longer than the request timeout, so no second instance starts it meanwhile."""
    assert WebhookPolicy(timeout=5.0).lease > 5.0


@pytest.mark.parametrize(("patterns", "event_type", "wanted"), [
    (("*",), "session.revoked", True), (("user.*",), "user.created", True),
    (("user.*",), "session.created", False), (("user.created",), "user.created", True),
    (("user.created",), "user.deleted", False)])
def test_endpoints_get_the_types_their_patterns_name(patterns: tuple[str, ...], event_type: str,
                                                     wanted: bool) -> None:
    """``events`` patterns select what an endpoint receives."""
    assert WebhookTarget("x", patterns).wants(event_type) is wanted


def test_session_payloads_carry_ids_and_kinds_never_secrets() -> None:
    """Only whitelisted audit details reach a receiver: ids, kinds, counts."""
    event = AuditEvent(0.0, "session.revoked", "u1", "10.0.0.1",
                       {"session": "s1", "kind": "cookie", "token": "SECRET", "ip": "10.0.0.1"})
    body = payload(event, "session.revoked", "a@example.com")
    assert body == (b'{"type":"session.revoked","timestamp":"1970-01-01T00:00:00.000Z",'
                    b'"data":{"user_id":"u1","session_id":"s1","kind":"cookie"}}')


def test_a_good_endpoint_configuration_loads() -> None:
    """An https URL (or loopback http), a whsec_ secret of 32 bytes and patterns are accepted."""
    settings = load_settings(webhooks={"crm": {"url": "https://crm.example/hooks",
                                               "secret": GOOD_SECRET, "events": ["user.*"]}})
    assert settings.webhooks["crm"].events == ("user.*",)
    assert Webhook(settings.webhooks["crm"].secret.get_secret_value())  # its library reads it
    assert GOOD_SECRET not in str(settings.masked())


@pytest.mark.parametrize(("endpoint", "problem"), [
    ({"url": "http://crm.example/hooks"}, "plain http is only allowed to a loopback host"),
    ({"url": "ftp://crm.example/hooks"}, "must be an https URL"),
    ({"secret": "whsec_" + base64.b64encode(os.urandom(16)).decode()}, "at least 24 random bytes"),
    ({"secret": "whsec_" + base64.b64encode(b"a" * 32).decode()}, "at least 24 random bytes"),
    ({"secret": base64.b64encode(os.urandom(32)).decode()}, "must be 'whsec_'"),
    ({"secret": "whsec_not base64!"}, "at least 24 random bytes"),
    ({"events": ["user.*", "everything"]}, "'everything' is not an event type or pattern"),
])
def test_weak_or_wrong_endpoint_settings_are_refused(endpoint: dict[str, object],
                                                     problem: str) -> None:
    """Each bad setting is refused with a sentence that names the fix."""
    config = {"url": "https://crm.example/hooks", "secret": GOOD_SECRET, **endpoint}
    with pytest.raises(ConfigError) as caught:
        load_settings(webhooks={"crm": config})
    assert any(problem in p for p in caught.value.problems), caught.value.problems


def test_a_weak_secret_is_one_line_at_start_without_a_traceback() -> None:
    """``authd config check`` exits 2 with one line for a weak secret, and never prints it."""
    env = {**os.environ, "AUTHD_WEBHOOKS": '{"crm": {"url": "https://crm.example/h", '
                                           '"secret": "whsec_c2hvcnQ="}}'}
    env.pop("AUTHD_CONFIG", None)
    out = subprocess.run([sys.executable, "-m", "authd.cli", "config", "check"], env=env,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 2
    assert "Traceback" not in out.stderr and "c2hvcnQ" not in out.stderr
    assert out.stderr.count("\n") == 1 and "webhooks.crm.secret" in out.stderr


@pytest.mark.parametrize(("value", "seconds_ago"), [
    ("90s", 90), ("30m", 1800), ("2h", 7200), ("3d", 3 * DAY), ("1h30m", 5400)])
def test_since_takes_durations(value: str, seconds_ago: float) -> None:
    """``--since 2h`` means two hours before now."""
    assert parse_since(value, 1_000_000.0) == 1_000_000.0 - seconds_ago


def test_since_takes_iso_times_in_utc() -> None:
    """``--since`` with an ISO time; without an offset it is UTC."""
    assert parse_since("1970-01-02T00:00:00Z", 0) == DAY
    assert parse_since("1970-01-02T00:00:00", 0) == DAY


@pytest.mark.parametrize("value", ["yesterday", "", "5 parsecs", "2026-13-01"])
def test_since_refuses_anything_else(value: str) -> None:
    """A value that is neither is refused with a usage error, not a traceback."""
    with pytest.raises(typer.BadParameter):
        parse_since(value, 0)


def test_replay_with_a_bad_since_is_a_usage_error() -> None:
    """``authd webhooks replay --since yesterday`` exits 2 with one clear message, no traceback."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUTHD_")}
    out = subprocess.run([sys.executable, "-m", "authd.cli", "webhooks", "replay", "--since",
                          "yesterday"], env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 2
    assert "Traceback" not in out.stderr and "neither an ISO time" in out.stderr
