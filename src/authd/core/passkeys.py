"""Passkeys: enrolment, passwordless sign-in, and the check behind a second factor or re-login.

A challenge (``core/passkey_challenges.py``) carries its purpose, user and
expiry under a MAC, so issuing one writes nothing; its id is the challenge
itself (base64url). It lives ``challenge_ttl`` seconds and is redeemed at
most once, in the same transaction as the counter update and the audit row
(one durable commit per passkey use):

* ``REGISTER`` for user X: only X's ``POST /v1/passkeys`` redeems it;
* ``SIGN_IN``: a passwordless login; with an email it is bound to that
  account (if it exists), without one any discoverable credential may answer;
* ``USER`` for user X: the second factor or re-login of X.

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

import base64
import binascii
import hashlib
import hmac
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from authd.clock import Clock
from authd.core import audit, webauthn
from authd.core.audit import Auditor
from authd.core.emails import canonical_email
from authd.core.ids import b64url, new_id
from authd.core.models import AuditEvent, ClientInfo, Passkey, PasskeyUse, RefreshFamily, User
from authd.core.passkey_challenges import OpenedChallenge, Purpose, issue, open_challenge
from authd.core.policies import PasskeyPolicy
from authd.core.ports import PasskeyStore, UserStore
from authd.core.ratelimit import BruteForceGuard
from authd.errors import Conflict, InvalidCredentials, InvalidRequest, NotFound

MAX_NAME = 100
DEFAULT_NAME = "Passkey"
MAX_CHALLENGE_ID = 64


@dataclass(frozen=True, slots=True)
class Challenge:
    """What ``POST /v1/passkeys/registration`` and ``/challenge`` answer."""

    challenge_id: str
    options: dict[str, Any]

    def as_response(self) -> dict[str, Any]:
        return {"challenge_id": self.challenge_id, "options": self.options}


@dataclass(frozen=True, slots=True)
class SignedIn:
    """A passkey sign-in: who, and the refresh family stored with the passkey's use (None
    unless the caller asked for one: a cookie session is started by the caller)."""

    user: User
    family: RefreshFamily | None = None


def check_name(raw: object) -> str:
    if raw is None:
        return DEFAULT_NAME
    if not isinstance(raw, str) or len(raw) > MAX_NAME or any(
            unicodedata.category(c) == "Cc" for c in raw):
        raise InvalidRequest(f"name must be a string of at most {MAX_NAME} printable characters")
    return raw.strip() or DEFAULT_NAME


class Passkeys:
    def __init__(self, users: UserStore, passkeys: PasskeyStore, guard: BruteForceGuard,
                 auditor: Auditor, clock: Clock, policy: PasskeyPolicy) -> None:
        self._users = users
        self._store = passkeys
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
        challenge = self._issue(Purpose.REGISTER, user.id)
        return Challenge(b64url(challenge), webauthn.creation_options(
            self._policy, challenge, user.id, user.email, user.name or user.email,
            [(p.credential_id, p.transports) for p in existing]))

    async def register(self, user_id: str, challenge_id: object, credential: object,
                       name: object, client: ClientInfo) -> Passkey:
        """Verify the new credential against the user's registration challenge and store it."""
        label = check_name(name)
        issued = self._open(_decode_id(challenge_id), (user_id,))
        if issued is None or issued.purpose is not Purpose.REGISTER:
            raise InvalidRequest("the registration challenge is unknown, used or expired")
        new = webauthn.verify_registration(self._policy, credential, issued.raw)
        passkey = Passkey(id=new_id(), user_id=user_id, credential_id=new.credential_id,
                          public_key=new.public_key, sign_count=new.sign_count,
                          transports=new.transports, name=label, created_at=self._clock.now())
        event = self._audit.event(audit.PASSKEY_ADDED, user_id=user_id, client=client,
                                  passkey=passkey.id)
        if not await self._store.add_passkey(passkey, issued.redeemed(), event):
            raise InvalidRequest("the registration challenge is unknown, used or expired")
        self._audit.announce(event)
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

    async def export(self, user_id: str) -> list[dict[str, object]]:
        """What a user's data export shows of their passkeys: names and times, no key material."""
        return [{"id": p.id, "name": p.name, "created_at": p.created_at,
                 "last_used_at": p.last_used_at, "transports": list(p.transports)}
                for p in await self._store.list_passkeys(user_id)]

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
        challenge = self._issue(Purpose.SIGN_IN, user_id)
        return Challenge(b64url(challenge), webauthn.request_options(
            self._policy, challenge, allow, require_uv=True))

    async def options_for_user(self, user_id: str) -> Challenge:
        """Options for a second factor or re-login of a known user: their passkeys."""
        passkeys = await self._store.list_passkeys(user_id)
        challenge = self._issue(Purpose.USER, user_id)
        return Challenge(b64url(challenge), webauthn.request_options(
            self._policy, challenge, [(p.credential_id, p.transports) for p in passkeys],
            require_uv=False))

    async def sign_in(self, challenge_id: object, credential: object, client: ClientInfo, *,
                      family_for: Callable[[User], RefreshFamily] | None = None) -> SignedIn:
        """A passwordless login: the user, or InvalidCredentials (InvalidRequest for garbage).

        With ``family_for`` (token mode) the login's refresh family is stored in the passkey
        use's own commit: a passkey sign-in costs one durable write, like a refresh.
        """
        raw_challenge = _decode_id(challenge_id)
        assertion = webauthn.parse_assertion(credential)
        attempt = await self._guard.reserve_ip(client.ip or "unknown")
        try:
            signed_in = await self._check(assertion, raw_challenge, None, client,
                                          require_uv=True, family_for=family_for)
        except InvalidCredentials:
            await self._audit(audit.LOGIN_FAILED, client=client, method="passkey")
            raise
        except BaseException:
            await self._guard.release(attempt)  # a server failure answered no guess
            raise
        await self._guard.release(attempt)
        return signed_in

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
            await self._check(assertion, assertion.challenge, user_id, client, require_uv=False)
        except InvalidCredentials:
            await self._audit(audit.LOGIN_FAILED, user_id=user_id, client=client, method="passkey")
            raise
        except BaseException:
            await self._guard.release_login(attempt)
            raise
        await self._guard.release_login(attempt)

    async def check_for_user(self, user_id: str, credential: object,
                             client: ClientInfo) -> None:
        """``verify_for_user`` without its own attempt counting: for a caller that counts the
        try itself (the second step of a login counts it on the mfa_token and the account)."""
        if not isinstance(credential, str | Mapping):
            raise InvalidRequest("credential must be the assertion as JSON")
        assertion = webauthn.parse_assertion(credential)
        await self._live_user(user_id, InvalidCredentials("the account is gone or disabled"))
        await self._check(assertion, assertion.challenge, user_id, client, require_uv=False)

    # -- the checks -----------------------------------------------------------------------

    async def _check(self, assertion: webauthn.Assertion, raw_challenge: bytes,
                     user_id: str | None, client: ClientInfo, *, require_uv: bool,
                     family_for: Callable[[User], RefreshFamily] | None = None) -> SignedIn:
        """The user whose passkey answered the challenge, its use recorded (a sign-in's with its
        ``login.passkey`` audit row and, with ``family_for``, its refresh family);
        InvalidCredentials for every reason.

        A sign-in (``user_id`` None) takes only a sign-in challenge; the second factor of a
        user takes theirs or a sign-in challenge that is not bound to someone else.
        """
        passkey = await self._store.find_passkey(assertion.credential_id)
        if passkey is None or (user_id is not None and passkey.user_id != user_id):
            raise InvalidCredentials("the passkey could not be verified")
        issued = self._open(raw_challenge, (passkey.user_id, None))
        allowed = (Purpose.SIGN_IN,) if user_id is None else (Purpose.SIGN_IN, Purpose.USER)
        if issued is None or issued.purpose not in allowed:
            raise InvalidCredentials("the challenge is unknown, used or expired")
        if assertion.user_handle is not None and assertion.user_handle != passkey.user_id.encode():
            raise InvalidCredentials("the passkey could not be verified")
        user = await self._live_user(passkey.user_id, InvalidCredentials("the account is disabled"))
        verified = webauthn.verify_assertion(self._policy, assertion, issued.raw,
                                             passkey.public_key, require_uv=require_uv)
        event = (self._audit.event(audit.LOGIN_PASSKEY, user_id=user.id, client=client,
                                   passkey=passkey.id) if user_id is None else None)
        family = family_for(user) if family_for is not None else None
        await self._record_use(passkey, verified.sign_count, issued, event, client, family)
        return SignedIn(user, family)

    async def _record_use(self, passkey: Passkey, new: int, issued: OpenedChallenge,
                          event: AuditEvent | None, client: ClientInfo,
                          family: RefreshFamily | None) -> None:
        """The counter must grow when either side is non-zero; the challenge is redeemed once."""
        stored = passkey.sign_count
        grew = not (new > 0 or stored > 0) or new > stored
        outcome = PasskeyUse.COUNTER_MOVED
        if grew:
            outcome = await self._store.use_passkey(passkey.id, stored, new, self._clock.now(),
                                                    issued.redeemed(), event, family)
        if outcome is PasskeyUse.REPLAYED:
            raise InvalidCredentials("the challenge is unknown, used or expired")
        if outcome is PasskeyUse.COUNTER_MOVED:
            await self._audit(audit.PASSKEY_COUNTER_REGRESSED, user_id=passkey.user_id,
                              client=client, passkey=passkey.id, stored=stored, presented=new)
            raise InvalidCredentials("the passkey's signature counter went backwards")
        if event is not None:
            self._audit.announce(event)

    async def _allowed(self, email: str) -> tuple[str | None, list[tuple[bytes, Sequence[str]]]]:
        user = await self._users.find_user_by_email(email)
        live = user is not None and not user.disabled
        # The same two reads whether or not the account exists: the timing says nothing either.
        passkeys = await self._store.list_passkeys(user.id if user and live else "")
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

    def _issue(self, purpose: Purpose, user_id: str | None) -> bytes:
        return issue(self._policy.challenge_key, purpose, user_id, self._clock.now(),
                     self._policy.challenge_ttl)

    def _open(self, raw: bytes, users: tuple[str | None, ...]) -> OpenedChallenge | None:
        return open_challenge(self._policy.challenge_key, raw, users, self._clock.now())

    async def _live_user(self, user_id: str, error: Exception | None = None) -> User:
        user = await self._users.get_user(user_id)
        if user is None or user.disabled:
            raise error or NotFound("no such account")
        return user


def _decode_id(challenge_id: object) -> bytes:
    """The challenge a ``challenge_id`` names (its base64url); InvalidRequest if it names none."""
    if not isinstance(challenge_id, str) or not 0 < len(challenge_id) <= MAX_CHALLENGE_ID:
        raise InvalidRequest("challenge_id must be the id of a challenge")
    try:
        return base64.urlsafe_b64decode(challenge_id + "=" * (-len(challenge_id) % 4))
    except (binascii.Error, ValueError):
        raise InvalidRequest("challenge_id must be the id of a challenge") from None


class PasskeyFactor:
    """Passkeys as a second factor: the ``PasskeyCounter`` and ``PasskeyAssertions`` that the
    second-factor use cases ask, over ``Passkeys``.

    A passkey that completes a login's second step adds ``hwk`` (RFC 8176): the possession
    of the key. It is not asked for user verification there (the password was the knowledge).
    """

    def __init__(self, passkeys: Passkeys) -> None:
        self._passkeys = passkeys

    async def count_passkeys(self, user_id: str) -> int:
        return await self._passkeys.count(user_id)

    async def verify_for_user(self, user_id: str, credential: object,
                              client: ClientInfo) -> tuple[str, ...] | None:
        try:
            await self._passkeys.check_for_user(user_id, credential, client)
        except InvalidCredentials:
            return None
        return ("hwk",)
