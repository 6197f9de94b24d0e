"""The ``client_credentials`` grant (RFC 6749 4.4): a registered client acting for itself.

A machine (a backend job, another service) authenticates with its own secret,
or with an assertion signed by its own private key (``private_key_jwt``), and
receives an access token whose subject is the client. What it may get is
decided by its registration alone: the scopes and audiences configured for it,
never more. The credential check (``ClientAuthenticator``) goes through the
brute-force guard like a password, so a leaked client id cannot be turned into
a secret by guessing, from one address or many. Every outcome is audited with
the client as its actor.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from authd.core import audit
from authd.core.audit import Auditor
from authd.core.client_auth import ClientAuthenticator, Presented
from authd.core.clients import Client, ClientRegistry
from authd.core.models import AuditEvent, ClientInfo
from authd.core.tokens import AccessGrant, TokenService
from authd.errors import InvalidScope, InvalidTarget, UnauthorizedClient


def client_scope(requested: str | None, allowed: Sequence[str]) -> str:
    """The granted scope: the request's (a subset of ``allowed``) or, when none, all of it."""
    if requested is None or not requested.strip():
        return " ".join(dict.fromkeys(allowed))
    scopes = requested.split()
    unknown = [s for s in scopes if s not in allowed]
    if unknown:
        raise InvalidScope(f"scope not allowed for this client: {' '.join(unknown)[:100]}")
    return " ".join(dict.fromkeys(scopes))


def client_audience(requested: str | None, allowed: Sequence[str], default: str) -> str:
    """The token's audience: one of the client's own (the first by default), else ``default``."""
    choices = tuple(allowed) or (default,)
    if requested is None or requested == "":
        return choices[0]
    if requested not in choices:
        raise InvalidTarget("this audience is not allowed for this client")
    return requested


class ClientCredentials:
    """Issues a registered client's own access tokens, through the guard and the audit trail."""

    def __init__(self, registry: ClientRegistry, authenticator: ClientAuthenticator,
                 tokens: TokenService, auditor: Auditor, default_audience: str) -> None:
        self._registry = registry
        self._authenticator = authenticator
        self._tokens = tokens
        self._audit = auditor
        self._default_audience = default_audience

    async def issue(self, presented: Presented, scope: str | None, audience: str | None,
                    who: ClientInfo) -> AccessGrant:
        """An access token for the client itself; the request's errors are audited too.

        UnauthorizedClient for the public client (it holds no credential), InvalidClient for
        wrong credentials (a secret or a signed assertion), RateLimited once the client id or
        the IP used up its failures, InvalidScope / InvalidTarget for a scope or audience
        outside the registration.
        """
        client_id = presented.client_id
        if presented.assertion is None and (client_id is None or self._registry.is_public(client_id)):
            await self._failed(client_id, who, "public_client")
            raise UnauthorizedClient("the public client cannot use client_credentials: "
                                     "authenticate as a registered confidential client")
        authenticated: list[str] = []
        granted: list[tuple[str, str]] = []

        def success(client: Client) -> AuditEvent:
            """The token's scope and audience, decided before the success is recorded."""
            authenticated.append(client.id)
            scope_, target_ = (client_scope(scope, client.scopes),
                               client_audience(audience, client.audiences, self._default_audience))
            granted.append((scope_, target_))
            return self._audit.event(audit.CLIENT_CREDENTIALS, client=who, client_id=client.id,
                                     scope=scope_, aud=target_, outcome="ok")
        try:
            client = await self._authenticator.authenticate(
                presented, who, confidential_only=True, event=audit.CLIENT_CREDENTIALS,
                on_success=success)
        except (InvalidScope, InvalidTarget) as exc:
            await self._failed(authenticated[0], who, exc.code)
            raise
        [(scope_, target_)] = granted
        return self._tokens.issue_client_access(client.id, scope_, target_)

    async def _failed(self, client_id: str | None, who: ClientInfo, reason: str) -> None:
        """A refused request, audited; an unregistered id is not recorded (it may be a secret
        pasted in the wrong field)."""
        detail: dict[str, Any] = {"outcome": "failed", "reason": reason}
        if self._registry.is_registered(client_id) or self._registry.is_public(client_id):
            detail["client_id"] = client_id or self._registry.default_id
        else:
            detail["client_id_unknown"] = True
        await self._audit(audit.CLIENT_CREDENTIALS, client=who, **detail)
