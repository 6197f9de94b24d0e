"""Ports: the small Protocols the core needs, implemented by ``authd.storage`` (and, for
social-login providers, by ``authd.oauth.driver``).

Each method is one atomic operation, so that the SQL and Redis adapters can
give the same guarantees (e.g. ``rotate`` is a compare-and-set).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from authd.clock import Clock
from authd.core.email_tokens import EmailToken
from authd.core.models import (
    AuditEvent,
    ClientInfo,
    CookieSession,
    Identity,
    KeyRecord,
    MfaChallenge,
    OneTimeCode,
    OutboxItem,
    OutgoingMail,
    Passkey,
    PasskeyUse,
    RefreshFamily,
    Revocation,
    Rotated,
    TotpFactor,
    UsedChallenge,
    User,
)
from authd.core.social_models import PendingLogin, Profile


class UserStore(Protocol):
    async def create_user(self, user: User, event: AuditEvent | None = None) -> None:
        """Insert; raise ``authd.errors.EmailTaken`` if the email is in use.

        ``event`` (the sign-up's audit event) is recorded in the same transaction, with
        the webhook rows it causes: a user is never created without them.
        """
        ...

    async def get_user(self, user_id: str) -> User | None: ...

    async def find_user_by_email(self, email: str) -> User | None: ...

    async def set_password_hash(self, user_id: str, password_hash: str, changed_at: float | None,
                                event: AuditEvent | None = None) -> None:
        """Store the hash; ``event`` (a password change's) is recorded in the same transaction."""
        ...

    async def set_disabled(self, user_id: str, disabled: bool) -> bool: ...

    async def list_users(self, limit: int, offset: int) -> Sequence[User]: ...

    async def search_users(self, prefix: str | None, after: tuple[float, str] | None,
                           limit: int) -> Sequence[User]:
        """Users whose email or lower-cased name starts with ``prefix`` (every user for None),
        in (created_at, id) order, starting after the position ``after``."""
        ...

    async def update_user(self, user_id: str, changes: Mapping[str, object],
                          events: Sequence[AuditEvent] = ()) -> User | None:
        """Set the given columns, recording ``events`` in the same transaction, and answer the
        user as stored; None (nothing written) if there is no such user,
        ``authd.errors.EmailTaken`` if a new email is in use."""
        ...


class AccountEraser(Protocol):
    async def erase_user(self, user_id: str, pseudonym: str, now: float) -> Sequence[str] | None:
        """Delete the user and everything tied to it, in one transaction: identities, sessions,
        refresh families, one-time codes, email tokens (by user and by address), and any row a
        foreign key cascades from ``users``; the user's audit rows are kept under ``pseudonym``.

        Answers the ids of the families that were still live (their tokens must be denied),
        or None if there was no such user.
        """
        ...


class KeyStore(Protocol):
    async def list_keys(self) -> Sequence[KeyRecord]: ...

    async def add_key(self, key: KeyRecord) -> None: ...

    async def save_key_states(self, keys: Sequence[KeyRecord]) -> None:
        """Persist new states of existing keys in one transaction."""
        ...

    async def delete_keys(self, kids: Sequence[str]) -> None: ...


class FamilyStore(Protocol):
    async def create_family(self, family: RefreshFamily) -> None: ...

    async def get_family(self, family_id: str) -> RefreshFamily | None: ...

    async def rotate(self, family_id: str, expected: int, now: float, idle_expires_at: float,
                     event: AuditEvent) -> Rotated | None:
        """Move an unrevoked family from ``expected`` to ``expected + 1``; None if someone else did.

        The family's user is read, and ``event`` recorded if that user exists and is not
        disabled, in the same transaction: a refresh costs one durable commit, and an
        acknowledged rotation never lacks its audit row.
        """
        ...

    async def revoke_family(self, family_id: str, now: float, reason: str) -> bool:
        """Mark revoked; False if it already was (or does not exist)."""
        ...

    async def list_families(self, user_id: str, now: float) -> Sequence[RefreshFamily]:
        """The user's live (unrevoked, unexpired) families."""
        ...

    async def renew_auth_time(self, family_id: str, auth_time: float,
                              methods: Sequence[str]) -> bool:
        """Record a re-login (its time and ``amr``) on an unrevoked family; False if it is
        revoked or gone."""
        ...


class CookieSessionStore(Protocol):
    async def create_session(self, session: CookieSession) -> None: ...

    async def get_session_by_hash(self, token_hash: bytes) -> CookieSession | None: ...

    async def touch_session(self, session_id: str, now: float, idle_expires_at: float) -> None: ...

    async def delete_session(self, session_id: str) -> bool: ...

    async def list_sessions(self, user_id: str, now: float) -> Sequence[CookieSession]: ...

    async def delete_user_sessions(self, user_id: str, except_id: str | None = None) -> Sequence[str]: ...

    async def renew_auth_time(self, session_id: str, auth_time: float,
                              methods: Sequence[str]) -> bool:
        """Record a re-login (its time and ``amr``) on a live session; False if it is gone."""
        ...


class RevocationStore(Protocol):
    async def add_revocation(self, revocation: Revocation, now: float) -> int | None:
        """Append to the feed; its sequence number, or None if (kind, value) is there already.

        Numbers only grow and become visible in order: a reader never sees a number
        while a lower one can still be committed, so a cursor never skips an entry.
        """
        ...

    async def revocations_since(self, after: int, now: float, limit: int
                                ) -> tuple[Sequence[Revocation], int]:
        """Unexpired entries after sequence ``after``, and the new cursor."""
        ...

    async def prune_revocations(self, now: float) -> int: ...


class AuditStore(Protocol):
    async def record(self, event: AuditEvent) -> None: ...

    async def list_events(self, *, user_id: str | None, event: str | None, limit: int
                          ) -> Sequence[AuditEvent]: ...

    async def page_events(self, *, user_id: str | None, event: str | None, since: float | None,
                          before_seq: int | None, limit: int) -> Sequence[tuple[int, AuditEvent]]:
        """Newest first, with each event's sequence number (the cursor of the next page):
        events of ``user_id`` / named ``event`` / at or after ``since``, numbered below
        ``before_seq``."""
        ...

    async def prune_events(self, before: float, limit: int) -> int:
        """Delete at most ``limit`` events recorded before ``before``; how many were deleted."""
        ...



class IdentityStore(Protocol):
    async def find_identity(self, provider: str, subject: str) -> Identity | None: ...

    async def create_user_with_identity(self, user: User, identity: Identity) -> None:
        """Both or neither; ``authd.errors.Conflict`` (EmailTaken for the email) if either exists."""
        ...

    async def add_identity(self, identity: Identity) -> None:
        """Link to an existing user; ``authd.errors.Conflict`` if the identity is linked already."""
        ...

    async def list_identities(self, user_id: str) -> list[Identity]: ...

    async def remove_identity(self, user_id: str, provider: str) -> bool:
        """Unlink the user's identity at ``provider``; False if there is none.

        ``authd.errors.Conflict`` if it is the account's last way to sign in (no
        password, no other identity) — checked in the same transaction as the delete.
        """
        ...


class OneTimeCodeStore(Protocol):
    async def add_code(self, code: OneTimeCode) -> None: ...

    async def use_code(self, code_hash: bytes, now: float) -> tuple[OneTimeCode | None, bool]:
        """Mark used; the record (None if unknown) and whether this was its first use, atomically."""
        ...

    async def prune_codes(self, now: float) -> int: ...


class PendingLoginStore(Protocol):
    async def put_pending(self, key: str, record: bytes, expires_at: float) -> None: ...

    async def take_pending(self, key: str, now: float) -> bytes | None:
        """Remove and return: each pending login is handed out at most once."""
        ...

    async def prune_pending(self, now: float) -> int: ...


class EmailTokenStore(Protocol):
    """Email tokens, each written in one transaction with the outbox message that carries it."""

    async def issue(self, token: EmailToken | None, message: OutboxItem) -> None:
        """Insert the token (if any) and the message: both or neither."""
        ...

    async def find(self, token_hash: bytes) -> EmailToken | None:
        """The token as stored, used or not (a read: nothing changes)."""
        ...

    async def consume(self, token_hash: bytes, purpose: str, now: float) -> EmailToken | None:
        """Mark an unused, unexpired token of ``purpose`` used and return it; None if there is
        none (single use; a token presented for another purpose stays as it was).

        Every other unused token of the same user and purpose is voided in the same transaction.
        """
        ...

    async def try_code(self, email: str, code_hash: bytes, now: float, max_attempts: int
                       ) -> EmailToken | None:
        """Redeem the newest live sign-in code of ``email``: the token if ``code_hash`` matches
        (now used), else None after counting the miss (void at ``max_attempts``)."""
        ...

    async def set_email(self, user_id: str, email: str, event: AuditEvent | None = None) -> None:
        """Give the user this (verified) address, recording ``event`` (and its webhooks) in the
        same transaction; ``authd.errors.EmailTaken`` if it is in use."""
        ...

    async def mark_verified(self, user_id: str, email: str, event: AuditEvent | None = None
                            ) -> bool:
        """Mark verified if the user's address is still ``email``, recording ``event`` in the
        same transaction; False (nothing written) otherwise."""
        ...

    async def prune_tokens(self, expired_before: float) -> int: ...

    async def reset_password(self, user_id: str, password_hash: str, email: str, now: float,
                             event: AuditEvent | None = None) -> None:
        """Set the password (changed at ``now``), verify ``email`` if it is still the user's, void
        every unused reset token of the user, and record ``event``: one transaction."""
        ...


class PasskeyStore(Protocol):
    """Users' WebAuthn credentials; a credential id belongs to at most one passkey."""

    async def add_passkey(self, passkey: Passkey, challenge: UsedChallenge, event: AuditEvent
                          ) -> bool:
        """Insert the passkey and redeem its registration challenge, with ``event``, in one
        transaction; False (nothing written) if the challenge was redeemed already.
        ``authd.errors.Conflict`` if the credential id is registered already."""
        ...

    async def find_passkey(self, credential_id: bytes) -> Passkey | None: ...

    async def list_passkeys(self, user_id: str) -> Sequence[Passkey]:
        """The user's passkeys, oldest first."""
        ...

    async def remove_passkey(self, user_id: str, passkey_id: str) -> bool:
        """Delete the user's passkey; False if the user has none with that id."""
        ...

    async def remove_passkeys(self, user_id: str) -> int:
        """Delete every passkey of the user; how many there were."""
        ...

    async def count_passkeys(self, user_id: str) -> int: ...

    async def use_passkey(self, passkey_id: str, expected_count: int, new_count: int, now: float,
                          challenge: UsedChallenge, event: AuditEvent | None,
                          family: RefreshFamily | None = None) -> PasskeyUse:
        """In one transaction: redeem ``challenge`` (REPLAYED if it was, nothing written),
        compare-and-set the signature counter from ``expected_count`` to ``new_count`` with
        ``last_used_at`` (COUNTER_MOVED if it moved meanwhile or the passkey is gone: two uses
        of one counter value never both succeed), record ``event`` and, if given, create the
        sign-in's refresh ``family`` (only when the counter moved). One durable commit."""
        ...


class OutboxStore(Protocol):
    """Durable outgoing messages, claimed with a lease so that one instance sends each at a time."""

    async def claim(self, now: float, lease_until: float, limit: int, claimer: str
                    ) -> Sequence[OutboxItem]:
        """Up to ``limit`` due, undelivered messages not claimed by a live lease, now leased."""
        ...

    async def delivered(self, item_ids: Sequence[str], claimer: str, now: float) -> None:
        """Done, in one transaction: the sealed payloads are dropped."""
        ...

    async def retry_at(self, item_id: str, claimer: str, at: float, error: str) -> None: ...

    async def give_up(self, item_id: str, claimer: str, now: float, error: str) -> None:
        """Stop retrying; the payload is dropped, the row stays for operators."""
        ...

    async def pending_count(self) -> int: ...

    async def prune_outbox(self, delivered_before: float, failed_before: float) -> int:
        """Drop rows delivered before ``delivered_before`` and given up before ``failed_before``."""
        ...


class WebhookOutbox(Protocol):
    """Webhook rows of the outbox: claimed per endpoint, in order per user, kept for replay."""

    async def claim_webhooks(self, endpoint: str, now: float, lease_until: float, limit: int,
                             claimer: str) -> Sequence[OutboxItem]:
        """Up to ``limit`` due rows of ``endpoint``, now leased: never two of one user, and never
        one while an earlier row of its user to that endpoint is neither delivered nor given up."""
        ...

    async def webhooks_delivered(self, done: Sequence[tuple[str, int]], claimer: str,
                                 now: float) -> None:
        """Mark (id, status) pairs delivered, in one transaction; the payloads are kept."""
        ...

    async def webhook_retry(self, item_id: str, claimer: str, at: float, status: int | None,
                            error: str) -> None: ...

    async def webhook_given_up(self, item_id: str, claimer: str, now: float, status: int | None,
                               error: str) -> None: ...

    async def list_webhooks(self, endpoint: str | None, status: str | None,
                            before: tuple[float, str] | None, limit: int) -> Sequence[OutboxItem]:
        """Rows newest first (``created_at``, ``id``), strictly before the ``before`` key."""
        ...

    async def replay_webhooks(self, since: float, now: float, endpoint: str | None,
                              event_type: str | None) -> int:
        """Make rows created at or after ``since`` due again (attempts from 0); how many."""
        ...

    async def pending_webhooks(self) -> Mapping[str, int]:
        """Undelivered, not given-up rows per endpoint."""
        ...

    async def prune_webhooks(self, done_before: float) -> int: ...
class SecondFactorStore(Protocol):
    """TOTP factors, recovery codes and waiting second steps; every check-and-use is atomic."""

    async def put_pending_totp(self, factor: TotpFactor) -> bool:
        """Store an unconfirmed factor (replacing an unconfirmed one); False if one is confirmed."""
        ...

    async def get_totp(self, user_id: str) -> TotpFactor | None: ...

    async def confirm_totp(self, user_id: str, step: int, now: float,
                           recovery_hashes: Sequence[bytes], event: AuditEvent | None = None
                           ) -> bool:
        """Confirm a pending factor at ``step``, replace the recovery codes and record ``event``,
        in one transaction; False (nothing written) if there is no pending factor."""
        ...

    async def accept_step(self, user_id: str, step: int) -> bool:
        """Compare-and-set: record ``step`` as the last accepted one if it is later than the
        last; False if it is not (a replay) or the factor is gone or unconfirmed."""
        ...

    async def delete_totp(self, user_id: str, event: AuditEvent | None = None) -> bool:
        """Remove the factor and the recovery codes, recording ``event`` if there was a factor
        (one transaction); False if there was none."""
        ...

    async def replace_recovery_codes(self, user_id: str, hashes: Sequence[bytes],
                                     now: float) -> None:
        """The old set is void, in the same transaction."""
        ...

    async def use_recovery_code(self, user_id: str, code_hash: bytes, now: float) -> bool:
        """Mark an unused code used; False if it is unknown or used (compare-and-set)."""
        ...

    async def recovery_codes_left(self, user_id: str) -> int: ...

    async def add_challenge(self, challenge: MfaChallenge) -> None: ...

    async def count_attempt(self, token_hash: bytes, now: float, max_attempts: int
                            ) -> MfaChallenge | None:
        """Count one try on a live, unused challenge that has tries left, and return it;
        None otherwise (unknown, used, expired, or out of tries)."""
        ...

    async def get_challenge(self, token_hash: bytes) -> MfaChallenge | None:
        """The challenge as stored (a read: nothing changes)."""
        ...

    async def redeem_with_step(self, token_hash: bytes, now: float, max_attempts: int,
                               user_id: str, step: int, family: RefreshFamily | None) -> bool:
        """In one transaction: count a try (live, unused, tries left), accept the TOTP ``step``
        (compare-and-set, as ``accept_step``), mark the challenge used and, if given, create
        the login's refresh ``family``. False if the try could not be counted or the step was
        not accepted (the try stays counted, nothing else is written)."""
        ...

    async def finish_challenge(self, token_hash: bytes, now: float) -> bool:
        """Mark used; False if it already was (single use under concurrency)."""
        ...

    async def prune_challenges(self, now: float) -> int: ...


class PasskeyCounter(Protocol):
    """How many passkeys a user has (second-factor status and the factors a login offers)."""

    async def count_passkeys(self, user_id: str) -> int: ...


class PasskeyAssertions(Protocol):
    """Checks a passkey assertion (``credential``) as the second step of ``user_id``'s login."""

    async def verify_for_user(self, user_id: str, credential: object,
                              client: ClientInfo) -> tuple[str, ...] | None:
        """The amr it adds (e.g. ``("hwk", "user")``) if valid for this user, else None."""
        ...


class Mailer(Protocol):
    """Hands one message to the mail system (an SMTP server, or a folder of .eml files)."""

    async def send(self, mail: OutgoingMail) -> None:
        """Return once the mail server accepted it; raise ``authd.errors.MailError`` otherwise."""
        ...


class LoginProvider(Protocol):
    """A social-login provider as the callback use case needs it (``authd.oauth.driver``).

    ``check_callback`` runs the protocol's checks (state, browser binding,
    expiry, RFC 9207 ``iss``, provider error) and answers the authorization
    code; ``complete`` exchanges it and returns who the provider vouches for.
    Both raise ``SocialLoginError`` subclasses.
    """

    @property
    def name(self) -> str: ...

    @property
    def link_by_verified_email(self) -> bool: ...

    async def check_callback(self, pending: PendingLogin | None, params: Mapping[str, str],
                             browser_binding: str | None, clock: Clock) -> str: ...

    async def complete(self, pending: PendingLogin, code: str) -> Profile: ...


class AssertionReplays(Protocol):
    """The single-use record of private_key_jwt assertions, shared by every instance."""

    async def first_use(self, key: bytes, expires_at: float, now: float,
                        event: AuditEvent | None = None) -> bool:
        """Record ``key`` until ``expires_at``; False if it is recorded and not yet expired.

        Atomic across instances: of concurrent calls with one key, exactly one is first.
        ``event`` is recorded with a first use, in the same transaction (one durable commit).
        """
        ...

    async def prune(self, now: float) -> int:
        """Forget keys whose assertions have expired; how many were dropped."""
        ...


class JwksFetcher(Protocol):
    """Reads a client's published JWKS (its ``jwks_url``); caching is the core's."""

    async def fetch(self, url: str) -> tuple[Mapping[str, Any], float | None]:
        """The JSON document at ``url`` and its ``max-age``.

        Raises ``client_assertions.JwksUnavailable`` when it cannot be had.
        """
        ...
