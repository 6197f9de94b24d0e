"""Client authentication at the token, introspection and revocation endpoints, in one place.

A confidential client proves itself with its secret (HTTP Basic or the form)
or with a signed assertion (``private_key_jwt``), whichever its registration
names. Every check of a confidential client's credential goes through the
brute-force guard like a password: an attempt is reserved against the client
id and the IP first, kept when the credential is wrong, released when it is
right, so neither a secret nor a replay can be ground out from one address or
many. A credential no confidential client answers for (an assertion naming no
client, credentials for the public client) counts against the address alone.
Failures are audited; an unregistered id is not recorded (it may be a secret
pasted into the wrong field).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, NoReturn

from authd.clock import Clock
from authd.core import audit
from authd.core.audit import Auditor
from authd.core.client_assertions import (
    ASSERTION_TYPE,
    AssertionPolicy,
    ClientKeySets,
    claimed_client,
)
from authd.core.clients import Client, ClientRegistry
from authd.core.models import AuditEvent, ClientInfo
from authd.core.ports import AssertionReplays
from authd.core.ratelimit import BruteForceGuard
from authd.errors import InvalidClient, InvalidRequest

Via = Literal["none", "client_secret_basic", "client_secret_post", "private_key_jwt"]


@dataclass(frozen=True, slots=True)
class Presented:
    """What a request offers as client credentials, and by which method."""

    client_id: str | None
    secret: str | None = None
    via: Via = "none"
    assertion: str | None = None


class ClientAuthenticator:
    """Says which client is calling, counting and auditing every failed attempt."""

    def __init__(self, registry: ClientRegistry, keys: ClientKeySets, replays: AssertionReplays,
                 policy: AssertionPolicy, guard: BruteForceGuard, auditor: Auditor,
                 clock: Clock) -> None:
        self._registry = registry
        self._keys = keys
        self._replays = replays
        self._policy = policy
        self._guard = guard
        self._audit = auditor
        self._clock = clock

    async def authenticate(self, presented: Presented, who: ClientInfo, *,
                           confidential_only: bool = False,
                           event: str = audit.CLIENT_AUTH_FAILED,
                           on_success: Callable[[Client], AuditEvent] | None = None) -> Client:
        """The calling client, or InvalidClient (401); RateLimited once its failures are used up.

        The public client (no credentials) passes without the guard unless
        ``confidential_only``. ``event`` names the audit event of a failure. The event
        ``on_success`` makes for the authenticated client is recorded before this returns:
        with an assertion's jti in one commit. Whatever ``on_success`` raises is raised,
        and is not counted as a failed authentication.
        """
        client_id = presented.client_id
        if presented.assertion is None and self._registry.is_public(client_id):
            return self._registry.authenticate(client_id, presented.secret,
                                               confidential_only=confidential_only)
        if presented.assertion is not None and client_id is None:
            client_id = claimed_client(presented.assertion)
            if client_id is None:  # names no client: only its address to count it against
                refused = InvalidClient("client assertion refused: malformed")
                await self._refuse_unattributed(None, presented, who, event, refused, refused)
        if client_id is None or self._registry.is_public(client_id):
            await self._refuse_unattributed(
                client_id, presented, who, event, "public_client",
                InvalidClient("the public client has no credentials to present"))
        attempt = await self._guard.reserve_client_secret(client_id, who.ip or "unknown")
        try:
            client = await self._check(client_id, presented, on_success)
        except InvalidClient as exc:
            await self._failed(client_id, presented, who, event, exc)
            raise  # the reservation stays counted
        except BaseException:
            await self._guard.release_login(attempt)  # no credential was judged
            raise
        await self._guard.release_login(attempt)
        return client

    async def _check(self, client_id: str, presented: Presented,
                     on_success: Callable[[Client], AuditEvent] | None) -> Client:
        """The credential against the client's registration and its one allowed method."""
        if presented.via not in self._registry.methods_of(client_id):
            if presented.via == "none" or not self._registry.is_registered(client_id):
                raise InvalidClient()  # no credential, or an unknown client: the plain answer
            raise InvalidClient(f"this client does not authenticate with {presented.via}")
        if presented.assertion is None:
            client = self._registry.authenticate(client_id, presented.secret,
                                                 confidential_only=True)
            if on_success is not None:
                await self._audit.record(on_success(client))
            return client
        verified = await self._keys.verify(presented.assertion, client_id, self._policy)
        client = self._registry.registered(client_id)
        success = on_success(client) if on_success is not None else None
        # Kept while the exp check (with its leeway) could still pass the assertion.
        keep_until = verified.expires_at + self._policy.leeway
        if not await self._replays.first_use(verified.replay_key, keep_until,
                                             self._clock.now(), success):
            raise InvalidClient("client assertion refused: its jti was used already")
        if success is not None:
            self._audit.announce(success)
        return client

    async def prune(self) -> int:
        """Forget the jti of expired assertions (they are refused by their exp anyway)."""
        return await self._replays.prune(self._clock.now())

    async def _refuse_unattributed(self, client_id: str | None, presented: Presented,
                                   who: ClientInfo, event: str, failure: InvalidClient | str,
                                   refused: InvalidClient) -> NoReturn:
        """Refuse a credential that no confidential client answers for (garbage naming no
        client, credentials for the public client). It counts against the address's failure
        limit, so that no one can fill the audit trail with them: once the limit is used up
        the answer is RateLimited and nothing is written."""
        await self._guard.reserve_ip(who.ip or "unknown")  # kept: it is a failure
        await self._failed(client_id, presented, who, event, failure)
        raise refused

    async def _failed(self, client_id: str | None, presented: Presented, who: ClientInfo,
                      event: str, failure: InvalidClient | str) -> None:
        reason = failure if isinstance(failure, str) else failure.code
        detail: dict[str, Any] = {"outcome": "failed", "reason": reason}
        if presented.via == "private_key_jwt":
            detail["method"] = presented.via
            if isinstance(failure, InvalidClient):
                detail["why"] = failure.description
        if client_id is not None and (self._registry.is_registered(client_id)
                                      or self._registry.is_public(client_id)):
            detail["client_id"] = client_id
        else:
            detail["client_id_unknown"] = True
        await self._audit(event, client=who, **detail)


def presented_assertion(assertion_type: str | None, assertion: str | None) -> str | None:
    """The assertion of a request's ``client_assertion_type``/``client_assertion`` pair.

    InvalidRequest (400) for half a pair or a type other than RFC 7523's JWT bearer.
    """
    if assertion_type is None and assertion is None:
        return None
    if not assertion_type or not assertion:
        raise InvalidRequest("client_assertion and client_assertion_type go together")
    if assertion_type != ASSERTION_TYPE:
        raise InvalidRequest(f"client_assertion_type must be {ASSERTION_TYPE}")
    return assertion
