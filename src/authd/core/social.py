"""Social-login use cases: pending logins, who the user is, and token mode's one-time codes.

Account rules (the security model's "social login" section):

* A user is identified by (provider, subject), never by email alone.
* First login through a provider creates a user — only when the provider
  vouches for the email (``email_verified`` true; GitHub: the primary address,
  verified), since the email becomes the account's unique address.
* If that email already belongs to an account, the login joins it only when
  the provider's config says ``link_by_verified_email`` *and* the account's
  own email was proven (it came from a verifying provider) *and* the account
  has no identity at that provider yet (another subject with the same email
  means the provider gave the address to someone else). A password
  sign-up proves nothing about the mailbox, and joining it would hand the
  account to whoever pre-registered the address ("pre-account hijacking").
  Otherwise the login is refused and the app gets ``access_denied``.

Pending logins are sealed at rest (``SealedPendingLogins``): the store keys
them by a digest of the state and holds only AES-256-GCM ciphertext of the
nonce, PKCE verifier and browser binding, so a read of the table (a backup,
a replica, a dump) cannot finish anyone's login in flight.

Token mode: the callback answers with a one-time code (256-bit, SHA-256
stored, 60 s, single use) instead of tokens, so tokens never travel in a URL.
Its refresh family id is fixed when the code is issued: presenting the code a
second time revokes what the first exchange issued (RFC 6749 4.1.2).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag

from authd.clock import Clock
from authd.core import amr, audit
from authd.core.accounts import check_name, normalise_email
from authd.core.audit import Auditor
from authd.core.ids import b64url, digest, new_id, new_secret
from authd.core.models import ClientInfo, Identity, OneTimeCode, User
from authd.core.ports import IdentityStore, OneTimeCodeStore, PendingLoginStore, UserStore
from authd.core.second_step import Binding, SecondStep
from authd.core.secrets import ServerSecrets
from authd.core.social_models import (
    PENDING_TTL,
    Mode,
    PendingLogin,
    Profile,
    new_pending,
    state_key,
)
from authd.core.tokens import TokenPair, TokenService
from authd.errors import Conflict, InvalidGrant, InvalidRequest, LoginRefused

CODE_TTL = 60.0
REPLAY_RETRY_DELAYS = (0.1, 0.2, 0.4, 0.8, 0.0)


@dataclass(frozen=True, slots=True)
class Link:
    """What to do with a provider's profile: the decision of ``decide_link``."""

    action: str  # "existing" | "create" | "join"
    user: User | None = None


def decide_link(email: str | None, email_verified: bool, *, linked: User | None,
                same_email: User | None, link_by_verified_email: bool,
                same_email_has_provider: bool = False) -> Link:
    """The account rules above, as a pure function of what the provider said and the store found.

    ``email`` is the provider's address, normalised (None if it gave no valid one);
    ``same_email_has_provider``: that account already has an identity at this provider.
    """
    if linked is not None:
        if linked.disabled:
            raise LoginRefused("this account is disabled")
        return Link("existing", linked)
    if not email or not email_verified:
        raise LoginRefused("the provider did not confirm an email address for this account")
    if same_email is None:
        return Link("create")
    if same_email_has_provider:
        # Another subject at the same provider with the account's email: the provider gave the
        # address to someone else (a reassigned work mailbox, a recreated account). Never join.
        raise LoginRefused("an account with this email is linked to another account at this "
                           "provider")
    if link_by_verified_email and same_email.email_verified and not same_email.disabled:
        return Link("join", same_email)
    raise LoginRefused("an account with this email already exists; sign in to it the usual way")


class SealedPendingLogins:
    """A ``PendingLoginStore`` that seals each record under the root secret.

    The associated data is the row's key, so a record copied onto another
    row (another state's digest, or a link ticket's) does not open there:
    rows cannot be swapped. A record that does not open (swapped, tampered,
    sealed under another root secret, or written in clear by an older
    version) is treated like an unknown state: the user starts again.
    """

    def __init__(self, store: PendingLoginStore, secrets: ServerSecrets) -> None:
        self._store = store
        self._secrets = secrets

    async def put_pending(self, key: str, record: bytes, expires_at: float) -> None:
        await self._store.put_pending(key, self._secrets.seal(record, _bound_to(key)), expires_at)

    async def take_pending(self, key: str, now: float) -> bytes | None:
        sealed = await self._store.take_pending(key, now)
        if sealed is None:
            return None
        try:
            return self._secrets.open(sealed, _bound_to(key))
        except (InvalidTag, ValueError):
            return None

    async def prune_pending(self, now: float) -> int:
        return await self._store.prune_pending(now)


def _bound_to(key: str) -> bytes:
    """Associated data: the row key, under a label no signing key's kid can take."""
    return b"authd pending login v1|" + key.encode("utf-8")


class SocialLogins:
    def __init__(self, users: UserStore, identities: IdentityStore, codes: OneTimeCodeStore,
                 pending: PendingLoginStore, tokens: TokenService, auditor: Auditor,
                 clock: Clock, *, second_step: SecondStep | None = None) -> None:
        self._users = users
        self._second_step = second_step  # asks users with a second factor for it
        self._identities = identities
        self._codes = codes
        self._pending = pending
        self._tokens = tokens
        self._audit = auditor
        self._clock = clock

    # -- the authorization request and its callback ---------------------------

    async def begin(self, provider: str, redirect_to: str, mode: Mode, *,
                    client_id: str | None = None, app_challenge: str | None = None,
                    user_id: str | None = None) -> PendingLogin:
        now = self._clock.now()
        pending = new_pending(provider, redirect_to, mode, now, client_id=client_id,
                              app_challenge=app_challenge, user_id=user_id)
        await self._pending.put_pending(state_key(pending.state), pending.to_record(),
                                        now + PENDING_TTL)
        return pending

    async def take(self, state: str | None) -> PendingLogin | None:
        """The pending login for this state, once; None for a missing, unknown or used state."""
        if not state or len(state) > 512:
            return None
        record = await self._pending.take_pending(state_key(state), self._clock.now())
        return PendingLogin.from_record(record) if record is not None else None

    # -- who the user is --------------------------------------------------------

    async def sign_in(self, profile: Profile, *, link_by_verified_email: bool,
                      client: ClientInfo) -> User:
        for _attempt in range(2):  # a concurrent first login may win the insert: look again
            try:
                return await self._sign_in_once(profile, link_by_verified_email, client)
            except Conflict:
                continue
        raise LoginRefused("this login is being linked by another request; try again")

    async def _sign_in_once(self, profile: Profile, link_by_verified_email: bool,
                            client: ClientInfo) -> User:
        email = _email_of(profile)
        identity = await self._identities.find_identity(profile.provider, profile.subject)
        same_email = None
        if identity is None and email:
            same_email = await self._users.find_user_by_email(email)
            if same_email is not None:
                # That account may be this identity's own, made by a concurrent first login that
                # committed (user and identity together) between the two reads: look once more.
                identity = await self._identities.find_identity(profile.provider, profile.subject)
        linked = await self._users.get_user(identity.user_id) if identity else None
        has_provider = False
        if linked is None and same_email is not None:
            has_provider = any(i.provider == profile.provider
                               for i in await self._identities.list_identities(same_email.id))
        link = decide_link(email, profile.email_verified, linked=linked, same_email=same_email,
                           link_by_verified_email=link_by_verified_email,
                           same_email_has_provider=has_provider)
        now = self._clock.now()
        if link.action == "existing":
            assert link.user is not None
            user = link.user
        elif link.action == "join":
            assert link.user is not None
            user = link.user
            await self._identities.add_identity(Identity(profile.provider, profile.subject, user.id,
                                                         email, now))
            await self._audit(audit.IDENTITY_LINKED, user_id=user.id, client=client,
                              provider=profile.provider)
        else:
            assert email is not None
            user = User(id=new_id(), email=email, email_verified=True, name=_name_of(profile),
                        password_hash=None, disabled=False, created_at=now)
            await self._identities.create_user_with_identity(
                user, Identity(profile.provider, profile.subject, user.id, email, now))
            await self._audit(audit.SIGNUP, user_id=user.id, client=client, provider=profile.provider)
        await self._audit(audit.LOGIN_OK, user_id=user.id, client=client, provider=profile.provider)
        return user

    async def refused(self, provider: str, error: str, client: ClientInfo) -> None:
        """A social login that failed after its state was valid: in the audit trail like a bad password."""
        await self._audit(audit.LOGIN_FAILED, client=client, provider=provider, error=error)

    # -- token mode --------------------------------------------------------------

    async def issue_code(self, user: User, client_id: str, app_challenge: str | None, *,
                         methods: tuple[str, ...] = (amr.FEDERATED,)) -> str:
        """A one-time code for ``client_id`` that remembers how its login was made (``methods``)."""
        code = new_secret()
        await self._codes.add_code(OneTimeCode(
            code_hash=digest(code), user_id=user.id, client_id=client_id,
            expires_at=self._clock.now() + CODE_TTL, family_id=new_id(),
            code_challenge=app_challenge, amr=methods))
        return code

    async def exchange_code(self, code: str, client_id: str, code_verifier: str | None,
                            scope: str, audience: str, client: ClientInfo) -> TokenPair:
        now = self._clock.now()
        record, first_use = await self._codes.use_code(digest(code), now) if len(code) <= 256 \
            else (None, False)
        if record is None:
            raise InvalidGrant("the code is invalid")
        if not first_use:
            await self._revoke_replayed(record.family_id)
            await self._audit(audit.CODE_REPLAYED, user_id=record.user_id, client=client,
                              sid=record.family_id)
            raise InvalidGrant("the code was already used; the tokens it gave are revoked")
        if now > record.expires_at or not hmac.compare_digest(record.client_id, client_id):
            raise InvalidGrant("the code is invalid, expired or for another client")
        if record.code_challenge is not None and not _pkce_matches(record.code_challenge, code_verifier):
            raise InvalidGrant("code_verifier does not match the code_challenge")
        user = await self._users.get_user(record.user_id)
        if user is None or user.disabled:
            raise InvalidGrant("the code is invalid")
        # A login whose second step is done (the hosted pages' /mfa) is not asked again; any
        # other goes through the gate. The family id stays fixed: a replay still revokes it.
        if self._second_step is not None and amr.MULTI_FACTOR not in record.amr:
            await self._second_step.gate(user, Binding.for_tokens(
                record.amr, client_id, scope, audience, record.family_id))
        return await self._tokens.start_family(user, client_id, scope, audience, client,
                                               amr=record.amr, family_id=record.family_id)

    async def _revoke_replayed(self, family_id: str) -> None:
        """Revoke the family the first exchange created — waiting for it if that exchange is in flight.

        The code is marked used before its family is written, so a replay in
        that instant finds nothing yet to revoke; it looks again for ~2 s.
        """
        for delay in REPLAY_RETRY_DELAYS:
            if await self._tokens.revoke_family(family_id, "code_replayed"):
                return
            if await self._tokens.family_exists(family_id):
                return  # revoked already
            await asyncio.sleep(delay)

    async def prune(self) -> None:
        now = self._clock.now()
        await self._codes.prune_codes(now)
        await self._pending.prune_pending(now)


def check_app_challenge(challenge: str | None, method: str | None) -> str | None:
    """An app's own PKCE challenge for token mode (RFC 7636): S256 only, 43 base64url chars."""
    if challenge is None:
        if method is not None:
            raise InvalidRequest("code_challenge_method without code_challenge")
        return None
    if method != "S256":
        raise InvalidRequest("code_challenge_method must be S256")
    if len(challenge) != 43 or not all(c.isalnum() or c in "-_" for c in challenge):
        raise InvalidRequest("code_challenge must be a base64url SHA-256 digest")
    return challenge


def _pkce_matches(challenge: str, verifier: str | None) -> bool:
    if verifier is None or not 43 <= len(verifier) <= 128:
        return False
    computed = b64url(hashlib.sha256(verifier.encode("ascii", "replace")).digest())
    return hmac.compare_digest(computed, challenge)


def _email_of(profile: Profile) -> str | None:
    if profile.email is None:
        return None
    try:
        return normalise_email(profile.email)
    except InvalidRequest:
        return None


def _name_of(profile: Profile) -> str | None:
    try:
        return check_name(profile.name)
    except InvalidRequest:
        return None
