"""Second factors: TOTP enrolment and removal, recovery codes, and checking either.

The TOTP secret is sealed under the root secret (AES-GCM, the user id as
associated data, so a sealed secret copied to another user's row does not
open). Recovery codes are shown once and stored as SHA-256 hashes; each is
used at most once. A TOTP code is accepted at most once per user: its time
step must be later than the last accepted one (compare-and-set in the
store), so neither a replay nor two parallel requests with one code pass
twice. Every change is audited and mailed to the user as a notice.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

from authd.clock import Clock
from authd.core import amr, totp
from authd.core.audit import Auditor
from authd.core.ids import digest
from authd.core.models import ClientInfo, TotpFactor
from authd.core.ports import PasskeyCounter, SecondFactorStore, UserStore
from authd.core.secrets import ServerSecrets
from authd.errors import Conflict, InvalidRequest, NotFound

TOTP_ENABLED = "mfa.totp_enabled"
TOTP_DISABLED = "mfa.totp_disabled"
CODES_REGENERATED = "mfa.recovery_codes_regenerated"
RECOVERY_CODE_USED = "mfa.recovery_code_used"
FAILED = "mfa.failed"
RESET = "mfa.reset"

RECOVERY_CODES = 10
_CODE_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i: read off paper
_CODE_HALF = 5
MAX_CODE_LENGTH = 64

Notify = Callable[[str, str, Mapping[str, str]], Awaitable[None]]


async def _no_notice(_user_id: str, _template: str, _values: Mapping[str, str]) -> None:
    return None


class NoPasskeys:
    """The ``PasskeyCounter`` until passkeys are wired in: nobody has one."""

    async def count_passkeys(self, user_id: str) -> int:
        return 0


@dataclass(frozen=True, slots=True)
class TotpEnrolment:
    """A pending factor: what the authenticator app needs. Shown once, never stored in clear."""

    secret: str  # base32
    otpauth_uri: str


@dataclass(frozen=True, slots=True)
class FactorStatus:
    totp: bool
    passkeys: int
    recovery_codes_left: int

    def as_json(self) -> dict[str, object]:
        return {"totp": self.totp, "passkeys": self.passkeys,
                "recovery_codes_left": self.recovery_codes_left}


def new_recovery_code() -> str:
    """About 49 bits, as ``xxxxx-xxxxx`` in letters and digits that are hard to misread."""
    chars = [secrets.choice(_CODE_ALPHABET) for _ in range(2 * _CODE_HALF)]
    return "".join(chars[:_CODE_HALF]) + "-" + "".join(chars[_CODE_HALF:])


def recovery_code_hash(code: str) -> bytes:
    """What is stored: the SHA-256 of the code without dashes, spaces or case."""
    return digest("".join(code.split()).replace("-", "").lower())


class SecondFactors:
    def __init__(self, store: SecondFactorStore, users: UserStore, secrets_: ServerSecrets,
                 issuer_name: str, auditor: Auditor, clock: Clock, *,
                 notify: Notify | None = None, passkeys: PasskeyCounter | None = None) -> None:
        self._store = store
        self._users = users
        self._secrets = secrets_
        self._issuer_name = issuer_name
        self._audit = auditor
        self._clock = clock
        self._notify = notify or _no_notice
        self._passkeys: PasskeyCounter = passkeys or NoPasskeys()

    # -- enrolment --------------------------------------------------------------------------

    async def begin_totp(self, user_id: str) -> TotpEnrolment:
        """A new pending secret (a previous pending one is replaced); Conflict if TOTP is on."""
        user = await self._users.get_user(user_id)
        if user is None:
            raise NotFound("no such user")
        secret = totp.new_secret()
        factor = TotpFactor(user.id, self._seal(user.id, secret), self._clock.now())
        if not await self._store.put_pending_totp(factor):
            raise Conflict("TOTP is already enabled: remove it first to enrol a new secret")
        return TotpEnrolment(totp.to_base32(secret),
                             totp.otpauth_uri(secret, self._issuer_name, user.email))

    async def confirm_totp(self, user_id: str, code: object, client: ClientInfo) -> list[str]:
        """The first code turns the pending factor on; answers the recovery codes (shown once)."""
        factor = await self._store.get_totp(user_id)
        if factor is None or factor.confirmed_at is not None:
            raise Conflict("no TOTP enrolment is pending: start one with POST /v1/mfa/totp")
        now = self._clock.now()
        step = totp.matching_step(self._open(factor), _code(code, "code"), now)
        if step is None:
            await self._audit(FAILED, user_id=user_id, client=client, factor="totp", enrol=True)
            raise InvalidRequest("the code is wrong: check the authenticator app's clock")
        codes = [new_recovery_code() for _ in range(RECOVERY_CODES)]
        event = self._audit.event(TOTP_ENABLED, user_id=user_id, client=client)
        if not await self._store.confirm_totp(user_id, step, now,
                                              [recovery_code_hash(c) for c in codes], event):
            raise Conflict("no TOTP enrolment is pending: start one with POST /v1/mfa/totp")
        self._audit.announce(event)  # stored (with its webhooks) in the change's commit
        await self._notify(user_id, "factor_added", {"factor": "TOTP"})
        return codes

    async def disable_totp(self, user_id: str, client: ClientInfo) -> None:
        """Remove TOTP and the recovery codes; NotFound if there is no factor."""
        event = self._audit.event(TOTP_DISABLED, user_id=user_id, client=client)
        if not await self._store.delete_totp(user_id, event):
            raise NotFound("TOTP is not enabled")
        self._audit.announce(event)  # stored (with its webhooks) in the change's commit
        await self._notify(user_id, "factor_removed", {"factor": "TOTP"})

    async def regenerate_recovery_codes(self, user_id: str, client: ClientInfo) -> list[str]:
        """A new set; the old one is void. Conflict without a second factor to recover."""
        if not await self.has_totp(user_id):
            raise Conflict("enable TOTP first: recovery codes stand in for it")
        codes = [new_recovery_code() for _ in range(RECOVERY_CODES)]
        await self._store.replace_recovery_codes(user_id, [recovery_code_hash(c) for c in codes],
                                                 self._clock.now())
        await self._audit(CODES_REGENERATED, user_id=user_id, client=client)
        return codes

    async def reset(self, user_id: str, client: ClientInfo, **detail: str) -> bool:
        """An operator's reset (lost device): TOTP and recovery codes go; audited ``mfa.reset``
        (``detail`` names the operator: ``actor``)."""
        event = self._audit.event(RESET, user_id=user_id, client=client, totp=True, **detail)
        removed = await self._store.delete_totp(user_id, event)
        if removed:
            self._audit.announce(event)  # stored (with its webhooks) in the removal's commit
            await self._notify(user_id, "factor_removed", {"factor": "TOTP"})
        else:  # nothing of TOTP changed; the reset is still on record
            await self._audit(RESET, user_id=user_id, client=client, totp=False, **detail)
        return removed

    # -- state ------------------------------------------------------------------------------

    async def has_totp(self, user_id: str) -> bool:
        factor = await self._store.get_totp(user_id)
        return factor is not None and factor.confirmed_at is not None

    async def export(self, user_id: str) -> dict[str, object]:
        """What a user's data export shows of TOTP: whether it is on and since when, and how
        many recovery codes are left; never the secret nor a code."""
        factor = await self._store.get_totp(user_id)
        confirmed = factor.confirmed_at if factor is not None else None
        return {"enabled": confirmed is not None, "confirmed_at": confirmed,
                "recovery_codes_left": await self._store.recovery_codes_left(user_id)}

    async def status(self, user_id: str) -> FactorStatus:
        return FactorStatus(await self.has_totp(user_id),
                            await self._passkeys.count_passkeys(user_id),
                            await self._store.recovery_codes_left(user_id))

    async def factors(self, user_id: str) -> list[str]:
        """The second factors a login of this user must complete with; empty: none needed."""
        if not await self.has_totp(user_id):
            passkeys = await self._passkeys.count_passkeys(user_id)
            return ["passkey"] if passkeys else []
        found = ["totp"]
        if await self._passkeys.count_passkeys(user_id):
            found.append("passkey")
        found.append("recovery_code")
        return found

    # -- checking ---------------------------------------------------------------------------

    async def check_otp(self, user_id: str, code: object) -> tuple[str, ...] | None:
        """The amr a right, unused TOTP code adds; None if it is wrong or already used."""
        factor = await self._store.get_totp(user_id)
        if factor is None or factor.confirmed_at is None:
            return None
        step = totp.matching_step(self._open(factor), _code(code, "otp"), self._clock.now())
        if step is None or not await self._store.accept_step(user_id, step):
            return None
        return (amr.OTP,)

    async def otp_step(self, user_id: str, code: object) -> int | None:
        """The time step of a right TOTP code (not yet accepted: the caller does that, once)."""
        factor = await self._store.get_totp(user_id)
        if factor is None or factor.confirmed_at is None:
            return None
        return totp.matching_step(self._open(factor), _code(code, "otp"), self._clock.now())

    async def check_recovery_code(self, user_id: str, code: object,
                                  client: ClientInfo) -> tuple[str, ...] | None:
        """The amr an unused recovery code adds (it is now used); None otherwise."""
        text = _code(code, "recovery_code")
        if not await self._store.use_recovery_code(user_id, recovery_code_hash(text),
                                                   self._clock.now()):
            return None
        left = await self._store.recovery_codes_left(user_id)
        await self._audit(RECOVERY_CODE_USED, user_id=user_id, client=client, left=left)
        return (amr.OTP,)

    def _seal(self, user_id: str, secret: bytes) -> bytes:
        return self._secrets.seal(secret, b"totp:" + user_id.encode())

    def _open(self, factor: TotpFactor) -> bytes:
        return self._secrets.open(factor.secret_enc, b"totp:" + factor.user_id.encode())


def _code(value: object, name: str) -> str:
    if not isinstance(value, str) or not value or len(value) > MAX_CODE_LENGTH:
        raise InvalidRequest(f"{name} must be a non-empty string")
    return value.strip()
