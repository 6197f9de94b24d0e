"""The client_credentials grant as a use case, over SQLite, PostgreSQL and PostgreSQL + Redis.

A registered machine gets a token for itself, limited to its registration;
the public client, a wrong secret, a scope or an audience outside the
registration are refused and audited; wrong secrets are counted like
password guesses.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from authd.clock import FixedClock
from authd.config import Settings
from authd.core import audit
from authd.core.account_access import check_user_token
from authd.core.client_auth import Presented
from authd.core.clients import hash_secret
from authd.core.models import AuditEvent, ClientInfo
from authd.errors import (
    InvalidClient,
    InvalidScope,
    InvalidTarget,
    RateLimited,
    Unauthenticated,
    UnauthorizedClient,
)
from authd.wiring import Services, build_services

ROBOT, SECRET = "billing-robot", "s3cret-of-the-billing-robot-0123456789"
PLAIN = "plain-robot"  # a client with no audiences of its own
WHO = ClientInfo(ip="203.0.113.7", user_agent="cron")
ISSUER = "https://auth.example.com"


def basic(client_id: str | None, secret: str | None) -> Presented:
    """What HTTP Basic (or, with no secret, no authentication) presents."""
    return Presented(client_id, secret, "client_secret_basic" if secret is not None else "none")


@pytest.fixture(params=["sqlite", "postgres", "redis"])
async def services(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Services]:
    """The real services with two registered machines and an account limit of 3 failures."""
    extra: dict[str, Any] = {}
    if request.param in ("postgres", "redis"):
        extra["database_url"] = request.getfixturevalue("fresh_pg_url")
    if request.param == "redis":
        extra.update(redis_url=request.getfixturevalue("redis_url"),
                     redis_key_prefix=request.getfixturevalue("redis_prefix"))
    clients = {
        ROBOT: {"secret_hash": hash_secret(SECRET), "scopes": ["invoices:read", "invoices:write"],
                "audiences": ["https://billing.example.com", "https://ledger.example.com"]},
        PLAIN: {"secret_hash": hash_secret(SECRET), "scopes": ["reports:read"]},
    }
    settings = Settings(data_dir=tmp_path, issuer=ISSUER, clients=clients,
                        rate_limits={"account_failures": 3, "ip_failures": 100}, **extra)
    svc = await build_services(settings, FixedClock())
    try:
        yield svc
    finally:
        await svc.close()


async def _events(svc: Services) -> list[AuditEvent]:
    return list(await svc.store.audit.list_events(user_id=None, event=audit.CLIENT_CREDENTIALS,
                                                  limit=100))


async def test_a_machine_gets_a_token_for_itself_limited_to_its_registration(
        services: Services) -> None:
    """sub and client_id are the client; every configured scope by default; the first
    configured audience by default; no refresh token, no sid, no auth_time."""
    grant = await services.use_cases.client_credentials.issue(basic(ROBOT, SECRET), None, None, WHO)
    body = grant.as_response()
    assert "refresh_token" not in body and body["token_type"] == "Bearer"
    assert body["scope"] == "invoices:read invoices:write"
    claims = services.use_cases.tokens.authenticate(grant.access_token)
    assert claims["sub"] == claims["client_id"] == ROBOT
    assert claims["aud"] == "https://billing.example.com"
    assert "sid" not in claims and "auth_time" not in claims
    [event] = await _events(services)
    assert event.user_id is None and event.ip == WHO.ip
    assert event.detail is not None and event.detail["client_id"] == ROBOT
    assert event.detail["outcome"] == "ok"


async def test_a_narrower_scope_and_another_configured_audience_are_granted(
        services: Services) -> None:
    """A requested subset of the client's scopes and any one of its audiences are honoured."""
    grant = await services.use_cases.client_credentials.issue(
        basic(ROBOT, SECRET), "invoices:read", "https://ledger.example.com", WHO)
    claims = services.use_cases.tokens.authenticate(grant.access_token)
    assert claims["scope"] == "invoices:read" and claims["aud"] == "https://ledger.example.com"


async def test_scope_outside_the_registration_is_invalid_scope_and_audited(
        services: Services) -> None:
    """A machine cannot widen its own rights: a scope it was not given is refused."""
    for scope in ("invoices:read admin", "openid"):
        with pytest.raises(InvalidScope):
            await services.use_cases.client_credentials.issue(basic(ROBOT, SECRET), scope, None, WHO)
    events = await _events(services)
    assert [e.detail["reason"] for e in events if e.detail] == ["invalid_scope"] * 2


async def test_audience_outside_the_registration_is_invalid_target(services: Services) -> None:
    """Another API's audience (even one users may get, even authd's own) is refused."""
    for audience in ("https://payroll.example.com", ISSUER):
        with pytest.raises(InvalidTarget):
            await services.use_cases.client_credentials.issue(basic(ROBOT, SECRET), None, audience, WHO)


async def test_a_client_without_audiences_gets_the_default_audience_only(
        services: Services) -> None:
    """No configured audiences: the server's default audience, and nothing else."""
    grant = await services.use_cases.client_credentials.issue(basic(PLAIN, SECRET), None, None, WHO)
    assert services.use_cases.tokens.authenticate(grant.access_token)["aud"] == ISSUER
    with pytest.raises(InvalidTarget):
        await services.use_cases.client_credentials.issue(
            basic(PLAIN, SECRET), None, "https://billing.example.com", WHO)


async def test_the_public_client_is_unauthorized_for_client_credentials(
        services: Services) -> None:
    """The first-party public client holds no secret, so it can never act as a machine."""
    for client_id in (None, services.settings.default_client_id):
        with pytest.raises(UnauthorizedClient):
            await services.use_cases.client_credentials.issue(basic(client_id, None), None, None, WHO)
    events = await _events(services)
    assert [e.detail["reason"] for e in events if e.detail] == ["public_client"] * 2


async def test_a_wrong_secret_is_invalid_client_and_an_unknown_id_is_not_recorded(
        services: Services) -> None:
    """Wrong or missing secrets and unknown clients get invalid_client; the audit row of an
    unknown id does not store what was typed (it may be a secret in the wrong field)."""
    issue = services.use_cases.client_credentials.issue
    with pytest.raises(InvalidClient):
        await issue(basic(ROBOT, "not-the-secret"), None, None, WHO)
    with pytest.raises(InvalidClient):
        await issue(basic(ROBOT, None), None, None, WHO)
    with pytest.raises(InvalidClient):
        await issue(basic("pasted-secret-by-mistake", SECRET), None, None, WHO)
    details = [e.detail for e in await _events(services)]
    assert {"client_id": ROBOT, "outcome": "failed", "reason": "invalid_client"} in details
    assert {"client_id_unknown": True, "outcome": "failed", "reason": "invalid_client"} in details
    assert "pasted-secret-by-mistake" not in repr(details)


async def test_wrong_secrets_lock_the_client_and_right_ones_never_count(
        services: Services) -> None:
    """Right secrets use up nothing; after 3 wrong ones even the right secret gets 429."""
    issue = services.use_cases.client_credentials.issue
    for _ in range(5):
        await issue(basic(ROBOT, SECRET), None, None, WHO)
    for _ in range(3):
        with pytest.raises(InvalidClient):
            await issue(basic(ROBOT, "guess"), None, None, ClientInfo(ip="198.51.100.1"))
    with pytest.raises(RateLimited) as caught:
        await issue(basic(ROBOT, SECRET), None, None, ClientInfo(ip="198.51.100.2"))
    assert caught.value.retry_after > 0
    await issue(basic(PLAIN, SECRET), None, None, WHO)  # another client is not locked


async def test_the_token_is_introspected_but_never_a_user_token(services: Services) -> None:
    """Introspection shows it active with the client as subject; the account rule refuses it."""
    grant = await services.use_cases.client_credentials.issue(basic(ROBOT, SECRET), None, None, WHO)
    seen = await services.use_cases.tokens.introspect(grant.access_token)
    assert seen["active"] is True and seen["sub"] == ROBOT and seen["client_id"] == ROBOT
    with pytest.raises(Unauthenticated):
        check_user_token(services.use_cases.tokens.authenticate(grant.access_token))


async def test_a_revoked_machine_token_is_refused_and_audited_without_a_user(
        services: Services) -> None:
    """RFC 7009 revocation by jti works for a machine token; its audit row names no user."""
    tokens = services.use_cases.tokens
    grant = await services.use_cases.client_credentials.issue(basic(ROBOT, SECRET), None, None, WHO)
    await tokens.revoke_token(grant.access_token, "access_token", ROBOT, WHO)
    with pytest.raises(Unauthenticated):
        tokens.authenticate(grant.access_token)
    [revoked] = await services.store.audit.list_events(user_id=None, event=audit.REVOKE, limit=10)
    assert revoked.user_id is None
