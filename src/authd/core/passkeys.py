"""Passkeys: enrolment, passwordless sign-in, and the check behind a second factor or re-login.

A challenge is 32 random bytes, stored under an id derived from it
(``webauthn.challenge_id``), bound to its purpose and user, taken exactly
once (a failed attempt burns it too) and dead after ``challenge_ttl`` seconds:

* ``register`` for user X: only X's ``POST /v1/passkeys`` redeems it;
* ``sign_in``: a passwordless login; with an email it is bound to that
  account (if it exists), without one any discoverable credential may answer;
* ``user`` for user X: the second factor or re-login of X.

An assertion is checked for origin, rp id hash, user presence, signature and
challenge (``core/webauthn.py``); a sign-in also needs user verification. The
signature counter must grow when either side is non-zero: a counter that
does not is refused and audited (``passkey.counter_regressed``: the key may
be cloned), and the store's compare-and-set makes two uses of one counter
value never both pass. Failed sign-ins count against the per-IP login
limit; the second-factor check counts against the account as well.

An address without passkeys (unknown, or known without any) is answered with
stand-in credential ids derived by HMAC from the address: the same every
time, the same shape as real ones, so the answer does not say whether the
account exists.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from authd.clock import Clock
from authd.core import audit, webauthn
from authd.core.audit import Auditor
from authd.core.emails import canonical_email
from authd.core.ids import new_id
from authd.core.models import ClientInfo, Passkey, User
from authd.core.policies import PasskeyPolicy
from authd.core.ports import PasskeyStore, PendingLoginStore, UserStore
from authd.core.ratelimit import BruteForceGuard
from authd.errors import Conflict, InvalidCredentials, InvalidRequest, NotFound

REGISTER, SIGN_IN, USER = "register", "sign_in", "user"
MAX_NAME = 100
DEFAULT_NAME = "Passkey"
_KEY_PREFIX = "webauthn:"


@dataclass(frozen=True, slots=True)
class Challenge:
    """What ``POST /v1/passkeys/registration`` and ``/challenge`` answer."""

    challenge_id: str
    options: dict[str, Any]

    def as_response(self) -> dict[str, Any]:
        return {"challenge_id": self.challenge_id, "options": self.options}


@dataclass(frozen=True, slots=True)
class _Issued:
    purpose: str
    user_id: str | None
    challenge: bytes


def check_name(raw: object) -> str:
    if raw is None:
        return DEFAULT_NAME
    if not isinstance(raw, str) or len(raw) > MAX_NAME or any(
            unicodedata.category(c) == "Cc" for c in raw):
        raise InvalidRequest(f"name must be a string of at most {MAX_NAME} printable characters")
    return raw.strip() or DEFAULT_NAME


class Passkeys:
    def __init__(self, users: UserStore, passkeys: PasskeyStore, challenges: PendingLoginStore,
                 guard: BruteForceGuard, auditor: Auditor, clock: Clock,
                 policy: PasskeyPolicy) -> None:
        self._users = users
        self._store = passkeys
        self._challenges = challenges
        self._guard = guard
        self._audit = auditor
        self._clock = clock
        self._policy = policy

    # -- enrolment ----------------------------------------------------------------------

    async def registration_options(self, user_id: str) -> Challenge:
        """Options for ``navigator.credentials.create()``, the user's passkeys excluded."""
        user = await self._live_user(user_id)
        existing = await self._store.list_passkeys(user.id)
        if len(existing) >= self._policy.max_per_user:
            raise Conflict(f"an account has at most {self._policy.max_per_user} passkeys; "
                           "remove one first")
        challenge = await self._issue(REGISTER, user.id)
        return Challenge(webauthn.challenge_id(challenge), webauthn.creation_options(
            self._policy, challenge, user.id, user.email, user.name or user.email,
            [(p.credential_id, p.transports) for p in existing]))

    async def register(self, user_id: str, challenge_id: object, credential: object,
                       name: object, client: ClientInfo) -> Passkey:
        """Verify the new credential against the user's registration challenge and store it."""
        label = check_name(name)
        issued = await self._take(challenge_id)
        if issued is None or issued.purpose != REGISTER or issued.user_id != user_id:
            raise InvalidRequest("the registration challenge is unknown, used or expired")
        new = webauthn.verify_registration(self._policy, credential, issued.challenge)
        passkey = Passkey(id=new_id(), user_id=user_id, credential_id=new.credential_id,
                          public_key=new.public_key, sign_count=new.sign_count,
                          transports=new.transports, name=label, created_at=self._clock.now())
        await self._store.add_passkey(passkey)
        await self._audit(audit.PASSKEY_ADDED, user_id=user_id, client=client, passkey=passkey.id)
        return passkey

    async def list_passkeys(self, user_id: str) -> Sequence[Passkey]:
        return await self._store.list_passkeys(user_id)

    async def remove(self, user_id: str, passkey_id: str, client: ClientInfo) -> None:
        """Delete one of the user's own passkeys; NotFound for any other id."""
        if not await self._store.remove_passkey(user_id, passkey_id):
            raise NotFound("no such passkey")
        await self._audit(audit.PASSKEY_REMOVED, user_id=user_id, client=client, passkey=passkey_id)

    async def remove_all(self, user_id: str) -> int:
        """Every passkey of the user goes (the operator's second-factor reset); how many."""
        removed = await self._store.remove_passkeys(user_id)
        if removed:
            await self._audit(audit.PASSKEY_REMOVED, user_id=user_id, count=removed, reset=True)
        return removed

    async def count(self, user_id: str) -> int:
        return await self._store.count_passkeys(user_id)

    # -- sign-in ------------------------------------------------------------------------

    async def sign_in_options(self, email: object, client: ClientInfo) -> Challenge:
        """Options for ``navigator.credentials.get()``: the address's passkeys (stand-ins when
        it has none), or none at all for a discoverable credential; user verification required."""
        await self._guard.check_quota("webauthn", client.ip or "unknown",
                                      self._policy.challenges_per_ip)
        user_id: str | None = None
        allow: list[tuple[bytes, Sequence[str]]] = []
        if email is not None:
            if not isinstance(email, str) or not 0 < len(email) <= 320:
                raise InvalidRequest("email must be a string")
            user_id, allow = await self._allowed(canonical_email(email))
        challenge = await self._issue(SIGN_IN, user_id)
        return Challenge(webauthn.challenge_id(challenge), webauthn.request_options(
            self._policy, challenge, allow, require_uv=True))

    async def options_for_user(self, user_id: str) -> Challenge:
        """Options for a second factor or re-login of a known user: their passkeys."""
        passkeys = await self._store.list_passkeys(user_id)
        challenge = await self._issue(USER, user_id)
        return Challenge(webauthn.challenge_id(challenge), webauthn.request_options(
            self._policy, challenge, [(p.credential_id, p.transports) for p in passkeys],
            require_uv=False))

    async def sign_in(self, challenge_id: object, credential: object, client: ClientInfo) -> User:
        """A passwordless login: the user, or InvalidCredentials (InvalidRequest for garbage)."""
        assertion = webauthn.parse_assertion(credential)
        attempt = await self._guard.reserve_ip(client.ip or "unknown")
        try:
            issued = await self._take(challenge_id)
            user = await self._check(assertion, issued, None, client, require_uv=True)
        except InvalidCredentials:
            await self._audit(audit.LOGIN_FAILED, client=client, method="passkey")
            raise
        except BaseException:
            await self._guard.release(attempt)  # a server failure answered no guess
            raise
        await self._guard.release(attempt)
        await self._audit(audit.LOGIN_PASSKEY, user_id=user.id, client=client)
        return user

    async def verify_for_user(self, user_id: str, credential: Mapping[str, Any] | str,
                              client: ClientInfo) -> None:
        """A passkey of ``user_id`` answered a challenge issued for that user or for sign-in
        (the second factor, re-login); raises InvalidCredentials (InvalidRequest for garbage).

        The challenge is found from the assertion itself. Counted against the account and
        the IP like a password: the check is no way around the login limits.
        """
        assertion = webauthn.parse_assertion(credential)
        user = await self._live_user(user_id, InvalidCredentials("the account is gone or disabled"))
        attempt = await self._guard.reserve_login(user.email, client.ip or "unknown")
        try:
            issued = await self._take(webauthn.challenge_id(assertion.challenge))
            await self._check(assertion, issued, user_id, client, require_uv=False)
        except InvalidCredentials:
            await self._audit(audit.LOGIN_FAILED, user_id=user_id, client=client, method="passkey")
            raise
        except BaseException:
            await self._guard.release_login(attempt)
            raise
        await self._guard.release_login(attempt)

    # -- the checks -----------------------------------------------------------------------

    async def _check(self, assertion: webauthn.Assertion, issued: _Issued | None,
                     user_id: str | None, client: ClientInfo, *, require_uv: bool) -> User:
        """The user whose passkey answered ``issued``; InvalidCredentials for every reason."""
        if issued is None or issued.purpose == REGISTER:
            raise InvalidCredentials("the challenge is unknown, used or expired")
        if issued.purpose == USER and user_id is None:
            raise InvalidCredentials("the challenge is unknown, used or expired")
        passkey = await self._store.find_passkey(assertion.credential_id)
        if passkey is None or (user_id is not None and passkey.user_id != user_id):
            raise InvalidCredentials("the passkey could not be verified")
        if issued.user_id is not None and issued.user_id != passkey.user_id:
            raise InvalidCredentials("the passkey could not be verified")
        if assertion.user_handle is not None and assertion.user_handle != passkey.user_id.encode():
            raise InvalidCredentials("the passkey could not be verified")
        user = await self._live_user(passkey.user_id, InvalidCredentials("the account is disabled"))
        verified = webauthn.verify_assertion(self._policy, assertion, issued.challenge,
                                             passkey.public_key, require_uv=require_uv)
        await self._advance_counter(passkey, verified.sign_count, client)
        return user

    async def _advance_counter(self, passkey: Passkey, new: int, client: ClientInfo) -> None:
        stored = passkey.sign_count
        grew = not (new > 0 or stored > 0) or new > stored
        if not grew or not await self._store.record_use(passkey.id, stored, new, self._clock.now()):
            await self._audit(audit.PASSKEY_COUNTER_REGRESSED, user_id=passkey.user_id,
                              client=client, passkey=passkey.id, stored=stored, presented=new)
            raise InvalidCredentials("the passkey's signature counter went backwards")

    async def _allowed(self, email: str) -> tuple[str | None, list[tuple[bytes, Sequence[str]]]]:
        user = await self._users.find_user_by_email(email)
        passkeys = await self._store.list_passkeys(user.id) if user and not user.disabled else []
        if passkeys:
            return user.id if user else None, [(p.credential_id, p.transports) for p in passkeys]
        return (user.id if user else None), self._decoys(email)

    def _decoys(self, email: str) -> list[tuple[bytes, Sequence[str]]]:
        """One or two stand-in credential ids for ``email``: stable, unguessable without the key."""
        seed = hmac.new(self._policy.decoy_key, email.encode(), hashlib.sha256).digest()
        count = 1 + seed[0] % 2
        return [(hashlib.sha256(seed + bytes([i])).digest(), ("internal", "hybrid"))
                for i in range(count)]

    # -- challenges -----------------------------------------------------------------------

    async def _issue(self, purpose: str, user_id: str | None) -> bytes:
        challenge = secrets.token_bytes(32)
        record = orjson.dumps({"p": purpose, "u": user_id, "c": challenge.hex()})
        await self._challenges.put_pending(_KEY_PREFIX + webauthn.challenge_id(challenge), record,
                                           self._clock.now() + self._policy.challenge_ttl)
        return challenge

    async def _take(self, challenge_id: object) -> _Issued | None:
        """The challenge, removed (single use), or None if unknown, used or expired."""
        if not isinstance(challenge_id, str) or not 0 < len(challenge_id) <= 64:
            raise InvalidRequest("challenge_id must be the id of a challenge")
        record = await self._challenges.take_pending(_KEY_PREFIX + challenge_id, self._clock.now())
        if record is None:
            return None
        data = orjson.loads(record)
        return _Issued(data["p"], data["u"], bytes.fromhex(data["c"]))

    async def _live_user(self, user_id: str, error: Exception | None = None) -> User:
        user = await self._users.get_user(user_id)
        if user is None or user.disabled:
            raise error or NotFound("no such account")
        return user
