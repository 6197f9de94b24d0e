"""Accounts by email: verification, password reset, email change and sign-in codes.

Every use case that mails a link writes the token and its outbox message in
one transaction (``EmailTokenStore.issue``); the worker delivers it later, so
a slow or absent mail server never slows or fails a request. Requests that
name an address (forgot password, sign-in code) do the same work whether or
not an account exists: the same rate-limit reservations, the same lookup,
one outbox row (a no-op row when there is nothing to send), and the same
answer. Every address is mailed at most ``per_address_per_hour`` times an
hour, whatever is asked, and every IP makes at most ``requests_per_ip`` such
requests per rate-limit window.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import quote

from authd.clock import Clock
from authd.core import audit
from authd.core.accounts import normalise_email
from authd.core.audit import Auditor
from authd.core.directory import SessionDirectory
from authd.core.email_tokens import (
    MAX_CODE_ATTEMPTS,
    EmailToken,
    Purpose,
    TokenTtls,
    check,
    code_digest,
    issue,
    token_digest,
)
from authd.core.emails import canonical_email
from authd.core.ids import new_id
from authd.core.mail import MailRequest, OutboxWriter
from authd.core.models import ClientInfo, User
from authd.core.passwords import PasswordHasher, check_password_policy
from authd.core.ports import EmailTokenStore, UserStore
from authd.core.ratelimit import BruteForceGuard
from authd.errors import EmailTaken, InvalidEmailToken, InvalidRequest, Unauthenticated

HOUR = 3600.0
MAX_CODE_LENGTH = 16


@dataclass(frozen=True, slots=True)
class MailPolicy:
    """Plain values from the configuration: where links point, how long they live, the limits."""

    issuer: str
    product_name: str = "authd"
    links: Mapping[Purpose, str] = field(default_factory=dict)
    ttls: TokenTtls = field(default_factory=TokenTtls)
    email_sign_up: bool = False
    per_address_per_hour: int = 5
    requests_per_ip: int = 100

    def link(self, purpose: Purpose, secret: str) -> str:
        """The link a mail carries: the app's page if configured, else the issuer; never the Host."""
        base = self.links.get(purpose) or f"{self.issuer}{_DEFAULT_PATHS[purpose]}"
        return f"{base}{'&' if '?' in base else '?'}token={quote(secret)}"


_DEFAULT_PATHS = {Purpose.VERIFY: "/v1/email/verify", Purpose.RESET: "/v1/password/reset",
                  Purpose.CHANGE: "/v1/email/confirm", Purpose.SIGN_IN: "/v1/email/sign-in"}


class EmailAccounts:
    def __init__(self, users: UserStore, tokens: EmailTokenStore, outbox: OutboxWriter,
                 hasher: PasswordHasher, guard: BruteForceGuard, directory: SessionDirectory,
                 auditor: Auditor, clock: Clock, policy: MailPolicy) -> None:
        self._users = users
        self._tokens = tokens
        self._outbox = outbox
        self._hasher = hasher
        self._guard = guard
        self._directory = directory
        self._audit = auditor
        self._clock = clock
        self._policy = policy

    # -- sending ----------------------------------------------------------------------------------

    async def send_verification(self, user: User, locale: str | None = None) -> None:
        """Sign-up's verification mail (and the resend): a no-op row for a verified address."""
        if user.email_verified:
            await self._enqueue(None)
            return
        await self._mail_token(Purpose.VERIFY, user, user.email, "verify_email", locale)

    async def resend_verification(self, user_id: str, locale: str | None, client: ClientInfo) -> None:
        await self._guard.check_quota("mailreq", client.ip or "unknown", self._policy.requests_per_ip)
        user = await self._live_user(user_id)
        await self._guard.check_quota("mailto", user.email, self._policy.per_address_per_hour, HOUR)
        await self.send_verification(user, locale)

    async def forgot_password(self, email: object, locale: str | None, client: ClientInfo) -> None:
        """A reset link if the account exists (a social-only account may so set a first password)."""
        address = await self._count_request(email, client)
        user = await self._users.find_user_by_email(address)
        if user is None or user.disabled:
            await self._enqueue(None, decoy_for=address)
            return
        await self._mail_token(Purpose.RESET, user, address, "reset_password", locale)

    async def send_password_reset(self, user: User) -> None:
        """A reset link to the account's address, asked for by an administrator (no limits: an
        operator is not a stranger)."""
        await self._mail_token(Purpose.RESET, user, user.email, "reset_password", None)

    async def start_sign_in(self, email: object, locale: str | None, client: ClientInfo) -> None:
        """A six-digit code and a sign-in link, for an account (or a new one with ``email_sign_up``)."""
        address = await self._count_request(email, client)
        user = await self._users.find_user_by_email(address)
        if (user is None and not self._policy.email_sign_up) or (user is not None and user.disabled):
            await self._enqueue(None, decoy_for=address)
            return
        issued = issue(Purpose.SIGN_IN, address, user.id if user else None, self._clock.now(),
                       self._policy.ttls.sign_in, with_code=True)
        assert issued.code is not None
        request = self._request(address, "sign_in", user, locale, {
            "link": self._policy.link(Purpose.SIGN_IN, issued.secret), "code": issued.code,
            "minutes": str(self._policy.ttls.sign_in // 60)})
        await self._tokens.issue(issued.record, self._outbox.item(request))
        self._outbox.written()

    async def change_email(self, user_id: str, new_email: object, locale: str | None,
                           client: ClientInfo) -> None:
        """A confirmation link to the new address, a notice to the old one."""
        await self._guard.check_quota("mailreq", client.ip or "unknown", self._policy.requests_per_ip)
        address = normalise_email(new_email)
        user = await self._live_user(user_id)
        if address == user.email:
            raise InvalidRequest("this is the account's address already")
        await self._guard.check_quota("mailto", address, self._policy.per_address_per_hour, HOUR)
        if await self._users.find_user_by_email(address) is not None:
            await self._enqueue(None)  # confirming would fail: same answer, nothing revealed
            return
        await self._mail_token(Purpose.CHANGE, user, address, "confirm_email", locale,
                               {"new_email": address})
        await self.notify(user, "email_change_requested", {"new_email": address}, locale)

    async def notify(self, user: User, template: str, values: Mapping[str, str] | None = None,
                     locale: str | None = None) -> None:
        """A notice to the user's address (password changed, identity linked ...): no token."""
        await self._enqueue(self._request(user.email, template, user, locale, dict(values or {})))

    async def notify_user(self, user_id: str, template: str, values: Mapping[str, str]) -> None:
        user = await self._users.get_user(user_id)
        if user is not None and not user.disabled:
            await self.notify(user, template, values)

    # -- redeeming --------------------------------------------------------------------------------

    async def verify(self, token: object, client: ClientInfo) -> User:
        await self._count_redemption(client)
        record = await self._tokens.consume(token_digest(token), Purpose.VERIFY, self._clock.now())
        user = await self._owner(record, Purpose.VERIFY)
        assert record is not None
        event = self._audit.event(audit.EMAIL_VERIFIED, user_id=user.id, client=client)
        if not await self._tokens.mark_verified(user.id, record.email, event):
            raise InvalidEmailToken()
        self._audit.announce(event)  # stored (with its webhooks) in the change's commit
        return user

    async def reset_password(self, token: object, new_password: object, client: ClientInfo) -> User:
        """Set the password; every session and refresh family of the user ends; a notice is mailed.

        The policy is applied before the token is used, so a refused password
        leaves the link usable.
        """
        await self._count_redemption(client)
        digest = token_digest(token)
        if not isinstance(new_password, str):
            raise InvalidRequest("new_password must be a string")
        found = await self._tokens.find(digest)
        owner = await self._users.get_user(found.user_id) if found and found.user_id else None
        check_password_policy(new_password, email=owner.email if owner else None)
        password_hash = await self._hasher.hash(new_password)
        now = self._clock.now()
        record = await self._tokens.consume(digest, Purpose.RESET, now)
        user = await self._owner(record, Purpose.RESET)
        event = self._audit.event(audit.PASSWORD_RESET, user_id=user.id, client=client)
        await self._tokens.reset_password(user.id, password_hash, user.email, now, event)
        self._audit.announce(event)  # stored (with its webhooks) in the change's commit
        await self._directory.revoke_all(user.id, client)
        await self.notify(user, "password_changed")
        return user

    async def confirm_email(self, token: object, client: ClientInfo) -> User:
        """The new address, verified; EmailTaken if someone took it meanwhile."""
        await self._count_redemption(client)
        record = await self._tokens.consume(token_digest(token), Purpose.CHANGE, self._clock.now())
        user = await self._owner(record, Purpose.CHANGE)
        assert record is not None
        event = self._audit.event(audit.EMAIL_CHANGED, user_id=user.id, client=client)
        await self._tokens.set_email(user.id, record.email, event)
        self._audit.announce(event)  # stored (with its webhooks) in the change's commit
        changed = await self._users.get_user(user.id)
        assert changed is not None
        return changed

    async def sign_in_with_code(self, email: object, code: object, client: ClientInfo) -> User:
        """The code's user (created with ``email_sign_up``), its address now verified.

        Each guess is a login attempt (the same per-account and per-IP limits);
        five wrong codes void the code whatever the limits say.
        """
        if not isinstance(email, str) or not isinstance(code, str) or len(code) > MAX_CODE_LENGTH:
            raise InvalidRequest("email and code must be strings")
        address = canonical_email(email)
        attempt = await self._guard.reserve_login(address, client.ip or "unknown")
        try:
            record = await self._tokens.try_code(address, code_digest(address, code.strip()),
                                                 self._clock.now(), MAX_CODE_ATTEMPTS)
        except Exception:
            await self._guard.release_login(attempt)
            raise
        if record is None:
            await self._audit(audit.LOGIN_FAILED, client=client, method="email_code")
            raise InvalidEmailToken("the code is wrong or has expired")
        await self._guard.release_login(attempt)
        return await self._signed_in(record.email, record.user_id, client)

    async def sign_in_with_token(self, token: object, client: ClientInfo) -> User:
        await self._count_redemption(client)
        now = self._clock.now()
        record = await self._tokens.consume(token_digest(token), Purpose.SIGN_IN, now)
        if record is None or record.purpose != Purpose.SIGN_IN.value or record.expires_at <= now:
            raise InvalidEmailToken()
        return await self._signed_in(record.email, record.user_id, client)

    # -- inside -----------------------------------------------------------------------------------

    async def _signed_in(self, email: str, user_id: str | None, client: ClientInfo) -> User:
        """The mailbox is proven: its account (or a new one, if the token was issued for sign-up)."""
        user = await self._users.find_user_by_email(email)
        if user is None and user_id is None and self._policy.email_sign_up:
            user = await self._create(email, client)
        if user is None or user.disabled or (user_id is not None and user.id != user_id):
            raise InvalidEmailToken()
        if not user.email_verified:
            await self._tokens.mark_verified(user.id, email)
            user = await self._users.get_user(user.id) or user
        await self._audit(audit.LOGIN_BY_EMAIL, user_id=user.id, client=client)
        return user

    async def _create(self, email: str, client: ClientInfo) -> User | None:
        user = User(id=new_id(), email=email, email_verified=True, name=None, password_hash=None,
                    disabled=False, created_at=self._clock.now())
        event = self._audit.event(audit.SIGNUP, user_id=user.id, client=client, method="email_code")
        try:
            await self._users.create_user(user, event)  # with its audit row and webhooks
        except EmailTaken:
            return await self._users.find_user_by_email(email)
        self._audit.announce(event)
        return user

    async def _count_request(self, email: object, client: ClientInfo) -> str:
        """Per IP, then per address, before anything is looked up: unknown addresses count alike."""
        await self._guard.check_quota("mailreq", client.ip or "unknown", self._policy.requests_per_ip)
        address = normalise_email(email)
        await self._guard.check_quota("mailto", address, self._policy.per_address_per_hour, HOUR)
        return address

    async def _count_redemption(self, client: ClientInfo) -> None:
        """Links carry 256 bits, so this is no guessing defence: it bounds the database work one
        IP can cause (each attempt is a write) at ten times the mail-request limit."""
        await self._guard.check_quota("mailtoken", client.ip or "unknown",
                                      10 * self._policy.requests_per_ip)

    async def _owner(self, record: EmailToken | None, purpose: Purpose) -> User:
        if record is None or record.user_id is None:
            raise InvalidEmailToken()
        user = await self._users.get_user(record.user_id)
        return check(record, purpose, user, self._clock.now())

    async def _live_user(self, user_id: str) -> User:
        user = await self._users.get_user(user_id)
        if user is None or user.disabled:
            raise Unauthenticated("the account is gone or disabled")
        return user

    async def _mail_token(self, purpose: Purpose, user: User, address: str, template: str,
                          locale: str | None, values: Mapping[str, str] | None = None) -> None:
        issued = issue(purpose, address, user.id, self._clock.now(), self._policy.ttls.of(purpose))
        ttl = self._policy.ttls.of(purpose)
        request = self._request(address, template, user, locale, {
            **(values or {}), "link": self._policy.link(purpose, issued.secret),
            "hours": str(max(1, ttl // 3600)), "minutes": str(ttl // 60)})
        await self._tokens.issue(issued.record, self._outbox.item(request))
        self._outbox.written()

    async def _enqueue(self, request: MailRequest | None, decoy_for: str | None = None) -> None:
        """Write ``request`` (None: a no-op row). ``decoy_for``: also a token row that nothing can
        redeem, so that an unknown address costs the same writes as a known one."""
        decoy = None
        if decoy_for is not None:
            decoy = issue(Purpose.DECOY, decoy_for, None, self._clock.now(), 60).record
        await self._tokens.issue(decoy, self._outbox.item(request))
        self._outbox.written()

    async def prune(self) -> int:
        """Drop tokens that expired a day ago (a late replay still finds its token used until then)."""
        return await self._tokens.prune_tokens(self._clock.now() - 86_400)

    def _request(self, to: str, template: str, user: User | None, locale: str | None,
                 values: dict[str, str]) -> MailRequest:
        return MailRequest(to=to, template=template, locale=(user.locale if user else None) or locale,
                           values={"product": self._policy.product_name, **values})
