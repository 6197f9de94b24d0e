"""/account's second-factor and deletion sections: TOTP, recovery codes, passkeys,
re-entering the password, deleting the account.

TOTP enrolment is two posts: "turn on" shows a new secret (a QR code drawn
on the server as an SVG image, and the secret as text for typing), then
"confirm" with the app's first code turns it on and shows the ten recovery
codes, once (only their hashes are kept). A wrong first code shows a new
secret to scan: the pending one is never shown twice.

Passkeys are listed with a *Remove* button; adding one needs JavaScript
(``passkeys.js`` fetches the options from ``POST /v1/passkeys/registration``
and posts ``navigator.credentials.create()``'s answer with this form).

Every change of a factor, and deleting the account, needs a recent sign-in
like the API (RFC 9470). When the sign-in is too old the page asks for the
password again in place (``reauth``, the core's ``Reauthentication``, through
the login brute-force guard) and the person repeats the change.
"""

from __future__ import annotations

import base64
from typing import Any

from starlette.responses import Response

from authd.core.account_access import require_recent_login
from authd.core.models import CookieSession, User
from authd.errors import AuthdError, InvalidRequest
from authd.http.cookies import clear_session_cookie
from authd.http.requests import client_info
from authd.http.routes.mfa import qr_svg
from authd.pages._i18n import format_time
from authd.pages._messages import message_for
from authd.pages._render import Visit


def recent(visit: Visit, session: CookieSession) -> None:
    """InsufficientUserAuthentication unless this session's sign-in is recent enough."""
    auth_time = session.auth_time if session.auth_time is not None else session.created_at
    require_recent_login(auth_time, visit.svc.clock.now(), visit.svc.settings.sensitive_max_age)


def _qr_image(uri: str) -> str:
    """The otpauth URI's QR code as a data: URL (an image: no inline markup, CSP img-src data:)."""
    return "data:image/svg+xml;base64," + base64.b64encode(qr_svg(uri).encode()).decode()


async def _enrolment(visit: Visit, user: User) -> dict[str, Any]:
    enrolment = await visit.svc.second_factors.begin_totp(user.id)
    secret = " ".join(enrolment.secret[i:i + 4] for i in range(0, len(enrolment.secret), 4))
    return {"enrolment": {"qr": _qr_image(enrolment.otpauth_uri), "secret": secret}}


async def totp_begin(visit: Visit, session: CookieSession, user: User,
                     params: dict[str, str]) -> dict[str, Any]:
    recent(visit, session)
    return await _enrolment(visit, user)


async def totp_confirm(visit: Visit, session: CookieSession, user: User,
                       params: dict[str, str]) -> dict[str, Any]:
    recent(visit, session)
    try:
        codes = await visit.svc.second_factors.confirm_totp(user.id, params.get("totp_code", ""),
                                                            client_info(visit.request))
    except InvalidRequest:
        message = visit.gettext("That code is wrong. Scan this new code and enter the code "
                                "your app shows.")
        return {**await _enrolment(visit, user), "errors": [("totp_code", message)]}
    return {"recovery_codes": codes,
            "notice": visit.gettext("Two-step sign-in is on. Save your recovery codes now.")}


async def recovery_regenerate(visit: Visit, session: CookieSession, user: User,
                              params: dict[str, str]) -> dict[str, Any]:
    recent(visit, session)
    codes = await visit.svc.second_factors.regenerate_recovery_codes(user.id,
                                                                     client_info(visit.request))
    return {"recovery_codes": codes,
            "notice": visit.gettext("New recovery codes: the old ones no longer work.")}


SHOWING = {"totp_begin": totp_begin, "totp_confirm": totp_confirm,
           "recovery_regenerate": recovery_regenerate}


async def totp_remove(visit: Visit, session: CookieSession, user: User,
                      params: dict[str, str]) -> str:
    recent(visit, session)
    await visit.svc.second_factors.disable_totp(user.id, client_info(visit.request))
    return "totp_removed"


async def passkey_add(visit: Visit, session: CookieSession, user: User,
                      params: dict[str, str]) -> str:
    recent(visit, session)
    if not params.get("credential"):
        raise InvalidRequest("the browser gave no passkey")
    await visit.svc.passkeys.register(user.id, params.get("challenge_id"),
                                      params.get("credential"), params.get("passkey_name") or None,
                                      client_info(visit.request))
    return "passkey_added"


async def passkey_remove(visit: Visit, session: CookieSession, user: User,
                         params: dict[str, str]) -> str:
    recent(visit, session)
    await visit.svc.passkeys.remove(user.id, params.get("passkey_id", ""),
                                    client_info(visit.request))
    return "passkey_removed"


async def reauth(visit: Visit, session: CookieSession, user: User, params: dict[str, str]) -> str:
    """The password again: the session's sign-in is recent once more (``POST /v1/reauth``)."""
    await visit.svc.reauth.for_session(session, params.get("reauth_password", ""),
                                       client_info(visit.request))
    return "reauthed"


async def delete_account(visit: Visit, session: CookieSession, user: User,
                         params: dict[str, str]) -> Response:
    """Erase the account (``DELETE /v1/me``): a ticked confirmation and a recent sign-in."""
    recent(visit, session)
    if params.get("confirm") != "yes":
        raise InvalidRequest("tick the box to confirm")
    await visit.svc.account_data.erase(user.id, client_info(visit.request))
    response = visit.render("message.html", title=visit.gettext("Your account is deleted"),
                            notice=visit.gettext("Everything we stored about you is gone."))
    clear_session_cookie(response, visit.svc.settings)
    return response


async def factor_context(visit: Visit, user: User) -> dict[str, Any]:
    status = await visit.svc.second_factors.status(user.id)
    passkeys = [{"id": p.id, "name": p.name, "created": format_time(p.created_at, visit.lang),
                 "last_used": format_time(p.last_used_at, visit.lang)
                 if p.last_used_at is not None else None}
                for p in await visit.svc.passkeys.list_passkeys(user.id)]
    return {"factors": status, "enrolment": None, "recovery_codes": None, "reauth": False,
            "passkeys": passkeys}


def not_recent(visit: Visit, exc: AuthdError) -> dict[str, Any]:
    """The account page's context when a change needs the password again first."""
    return {"reauth": True, "errors": [("reauth_password", message_for(exc, visit.gettext))]}
