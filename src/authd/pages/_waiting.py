"""A sign-in waiting for its second factor: a sealed, short-lived cookie scoped to /mfa.

When the first factor is right but the account has a second one, the core
parks the login (an ``mfa_token``, five minutes, five tries). The browser
carries that token to ``/mfa`` together with the hand-off (where the
sign-in goes: ``return_to``, mode, client, PKCE challenge, state) in one
cookie: sealed under the root secret and bound to the pre-session cookie
(``FormTokens.seal``), HttpOnly, ``SameSite=Strict``, ``Path=/mfa``. So the
token is never in a URL, no script can read it, another site's page cannot
make the browser send it, and neither the token nor the hand-off can be
altered or moved to another browser: anything but an intact cookie reads as
"no sign-in is waiting" and the person starts again.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

import orjson

from authd.core.second_step import MFA_TOKEN_TTL
from authd.errors import MfaRequired
from authd.pages._handoff import Handoff
from authd.pages._render import Visit
from authd.pages._security import MFA_COOKIE, cookie_name, set_cookie

PATH = "/mfa"
MAX_TRIES = 5  # the mfa_token's own limit (the core refuses a sixth try whatever the cookie says)


@dataclass(frozen=True, slots=True)
class Waiting:
    """What /mfa needs to finish the sign-in: the core's token, where to go, what to offer."""

    mfa_token: str
    handoff: Handoff
    factors: tuple[str, ...]
    tries: int = 0

    def tried(self) -> Waiting:
        return replace(self, tries=self.tries + 1)

    def to_record(self) -> bytes:
        h = self.handoff
        return orjson.dumps({"t": self.mfa_token, "f": list(self.factors), "n": self.tries,
                             "h": [h.return_to, h.mode, h.client_id, h.code_challenge, h.state]})


def _from_record(record: bytes) -> Waiting | None:
    try:
        data = orjson.loads(record)
        return_to, mode, client_id, challenge, state = data["h"]
        checked_mode: Literal["session", "token"] = "token" if mode == "token" else "session"
        return Waiting(str(data["t"]), Handoff(return_to, checked_mode, client_id, challenge, state),
                       tuple(str(f) for f in data["f"]), int(data["n"]))
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
        return None


def park(visit: Visit, waiting: Waiting) -> None:
    """Give the browser the waiting sign-in with the next answer (a new cookie each time)."""
    visit.set_cookies.append(lambda response: set_cookie(
        response, visit.svc.settings, MFA_COOKIE,
        visit.svc.forms.seal(visit.binding, waiting.to_record()),
        max_age=int(MFA_TOKEN_TTL), path=PATH, same_site="strict"))


def parked(visit: Visit, exc: MfaRequired, handoff: Handoff) -> Waiting:
    """The waiting sign-in for the core's MfaRequired answer, handed to the browser."""
    waiting = Waiting(exc.mfa_token, handoff, tuple(exc.factors))
    park(visit, waiting)
    return waiting


def held(visit: Visit) -> Waiting | None:
    """The sign-in this browser has waiting; None if none, expired, altered or another's."""
    if visit.new_binding:
        return None
    name = cookie_name(visit.svc.settings, MFA_COOKIE, host_only=False)
    record = visit.svc.forms.open(visit.binding, visit.request.cookies.get(name))
    return _from_record(record) if record is not None else None


def forget(visit: Visit) -> None:
    """Clear the waiting sign-in with the next answer (finished, or given up)."""
    visit.cookies_to_clear.append((MFA_COOKIE, PATH))
