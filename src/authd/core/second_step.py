"""The two-step login: a user with a second factor gets an mfa_token, not a token or cookie.

After the first factor (password, email code or link, social login) the
login is parked as an ``MfaChallenge``: a random mfa_token (only its SHA-256
is stored) that lives five minutes, allows five tries and is used once. It
is bound to the user, the first factor's ``amr`` and where the login goes:
token mode (client, scope, audience and, for a social code, the family id
fixed in advance) or session mode (a cookie). So a token parked for one
client or mode cannot finish another's login, and the first step alone
never yields a credential.

Each try is counted on the token before the factor is checked, and against
the account's brute-force limit like a password guess (released when right).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from authd.clock import Clock
from authd.core import amr as methods
from authd.core.audit import Auditor
from authd.core.ids import digest, new_secret
from authd.core.models import ClientInfo, MfaChallenge, RefreshFamily, User
from authd.core.ports import PasskeyAssertions, SecondFactorStore, UserStore
from authd.core.ratelimit import BruteForceGuard
from authd.core.second_factors import FAILED, SecondFactors
from authd.errors import InvalidCredentials, InvalidRequest, MfaRequired

MFA_TOKEN_TTL = 300.0
MAX_ATTEMPTS = 5
MAX_TOKEN_LENGTH = 128
_REFUSED = "the mfa_token or the second factor is wrong, expired or used"

Mode = Literal["token", "session"]


@dataclass(frozen=True, slots=True)
class Binding:
    """Where a parked login goes, and how its first step was made."""

    mode: Mode
    amr: tuple[str, ...]
    client_id: str = ""
    scope: str = ""
    audience: str = ""
    family_id: str | None = None

    @classmethod
    def for_tokens(cls, first: tuple[str, ...], client_id: str, scope: str, audience: str,
                   family_id: str | None = None) -> Binding:
        return cls("token", first, client_id, scope, audience, family_id)

    @classmethod
    def for_session(cls, first: tuple[str, ...]) -> Binding:
        return cls("session", first)

    def as_record(self) -> dict[str, Any]:
        return {"mode": self.mode, "amr": list(self.amr), "client_id": self.client_id,
                "scope": self.scope, "audience": self.audience, "family_id": self.family_id}

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> Binding:
        mode: Mode = "token" if record.get("mode") == "token" else "session"
        return cls(mode, tuple(str(m) for m in record.get("amr") or ()),
                   str(record.get("client_id") or ""), str(record.get("scope") or ""),
                   str(record.get("audience") or ""), record.get("family_id"))


@dataclass(frozen=True, slots=True)
class Proof:
    """What the second step presents: exactly one of a TOTP code, a recovery code, a passkey."""

    otp: object = None
    recovery_code: object = None
    credential: object = None

    def kind(self) -> str:
        given = [name for name in ("otp", "recovery_code", "credential")
                 if getattr(self, name) is not None]
        if len(given) != 1:
            raise InvalidRequest("give exactly one of otp, recovery_code or credential")
        return given[0]


@dataclass(frozen=True, slots=True)
class Completed:
    """A finished two-step login: who, where to, and the amr of both steps.

    ``family`` is the token-mode login's refresh family if it was stored in the second
    step's own commit (None: the caller starts the family or session itself).
    """

    user: User
    binding: Binding
    amr: tuple[str, ...]
    family: RefreshFamily | None = None


# Builds the login's family (token mode) from the user, the binding and the login's amr.
FamilyFor = Callable[[User, Binding, tuple[str, ...]], RefreshFamily]


class SecondStep:
    def __init__(self, factors: SecondFactors, store: SecondFactorStore, users: UserStore,
                 guard: BruteForceGuard, auditor: Auditor, clock: Clock, *,
                 passkeys: PasskeyAssertions | None = None) -> None:
        self._passkeys = passkeys  # None: ``credential`` is refused as not enabled
        self._factors = factors
        self._store = store
        self._users = users
        self._guard = guard
        self._audit = auditor
        self._clock = clock

    async def gate(self, user: User, binding: Binding) -> None:
        """Return if the user has no second factor, or the first step was a passkey with user
        verification (``hwk`` + ``user``: something held and the device's own check of the
        person, already two factors); else park the login and raise MfaRequired."""
        if methods.HARDWARE_KEY in binding.amr and methods.USER_PRESENCE in binding.amr:
            return
        factors = await self._factors.factors(user.id)
        if not factors:
            return
        token = new_secret()
        now = self._clock.now()
        await self._store.add_challenge(MfaChallenge(digest(token), user.id, binding.as_record(),
                                                     now, now + MFA_TOKEN_TTL))
        raise MfaRequired(token, factors, status=400 if binding.mode == "token" else 401)

    async def prune(self) -> int:
        """Drop expired mfa tokens (a background loop): they can no longer finish anything."""
        return await self._store.prune_challenges(self._clock.now())

    async def complete(self, mfa_token: object, proof: Proof, mode: Mode, client_id: str | None,
                       client: ClientInfo, *, family_for: FamilyFor | None = None) -> Completed:
        """Finish a parked login of ``mode`` (and, in token mode, of ``client_id``).

        InvalidCredentials for anything wrong: unknown, expired, used or exhausted
        token, another mode or client, a wrong or replayed factor. Every try on a
        live token counts, right or wrong; a right TOTP code costs one commit for
        the try, the code's time step and the token's single use together (and, with
        ``family_for``, the new refresh family: one durable write for the whole step).
        """
        kind = proof.kind()
        if kind == "credential" and self._passkeys is None:
            raise InvalidRequest("passkeys are not enabled")
        if not isinstance(mfa_token, str) or not mfa_token or len(mfa_token) > MAX_TOKEN_LENGTH:
            raise InvalidRequest("mfa_token must be a non-empty string")
        token_hash = digest(mfa_token)
        now = self._clock.now()
        challenge = await self._store.get_challenge(token_hash)
        if (challenge is None or challenge.used_at is not None or now >= challenge.expires_at
                or challenge.attempts >= MAX_ATTEMPTS):
            raise InvalidCredentials(_REFUSED)
        binding = Binding.from_record(challenge.binding)
        user = await self._users.get_user(challenge.user_id)
        if (binding.mode != mode or (mode == "token" and binding.client_id != client_id)
                or user is None or user.disabled):
            await self._store.count_attempt(token_hash, now, MAX_ATTEMPTS)
            raise InvalidCredentials(_REFUSED)
        attempt = await self._guard.reserve_login(user.email, client.ip or "unknown")
        try:
            added, family = await self._redeem(token_hash, user, binding, kind, proof, client,
                                               family_for)
        except InvalidRequest:
            await self._guard.release_login(attempt)  # malformed: no guess was made
            raise
        except InvalidCredentials:
            await self._audit(FAILED, user_id=user.id, client=client, factor=kind)
            raise  # the reservation stays: a failure against the account's limit
        except Exception:
            await self._guard.release_login(attempt)  # a server failure answered no guess
            raise
        await self._guard.release_login(attempt)
        return Completed(user, binding, methods.with_second_factor(binding.amr, added), family)

    async def _redeem(self, token_hash: bytes, user: User, binding: Binding, kind: str,
                      proof: Proof, client: ClientInfo, family_for: FamilyFor | None
                      ) -> tuple[tuple[str, ...], RefreshFamily | None]:
        """Check the factor and use the token up; InvalidCredentials if either fails."""
        now = self._clock.now()
        if kind == "otp":
            step = await self._factors.otp_step(user.id, proof.otp)
            if step is None:
                await self._store.count_attempt(token_hash, now, MAX_ATTEMPTS)
                raise InvalidCredentials(_REFUSED)
            otp = (methods.OTP,)
            family = (family_for(user, binding, methods.with_second_factor(binding.amr, otp))
                      if family_for is not None else None)
            if not await self._store.redeem_with_step(token_hash, now, MAX_ATTEMPTS, user.id,
                                                      step, family):
                raise InvalidCredentials(_REFUSED)
            return otp, family
        if await self._store.count_attempt(token_hash, now, MAX_ATTEMPTS) is None:
            raise InvalidCredentials(_REFUSED)
        if kind == "credential":
            assert self._passkeys is not None
            added = await self._passkeys.verify_for_user(user.id, proof.credential, client)
        else:
            added = await self._factors.check_recovery_code(user.id, proof.recovery_code, client)
        if added is None or not await self._store.finish_challenge(token_hash, now):
            raise InvalidCredentials(_REFUSED)
        return added, None
