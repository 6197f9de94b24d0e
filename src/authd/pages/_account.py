"""/account: profile, email, password, sessions (each with an "end" button), linked providers,
two-step sign-in (``_account_factors``) and deleting the account.

Every change is a POST of one form with an ``action``; each checks the
session's CSRF token and the origin, then calls the same use case as the
API, with the API's rules (a recent sign-in for email, password and
unlinking). The answer is a redirect back to /account with a notice
(post-redirect-get), or the page again with the refusal.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlencode

from starlette.responses import Response

from authd.core.models import CookieSession, User
from authd.core.password_change import change_password
from authd.errors import AuthdError, InsufficientUserAuthentication, InvalidRequest, NotFound
from authd.http.requests import client_info, read_params
from authd.pages import _account_factors as factors
from authd.pages._i18n import format_time
from authd.pages._render import Visit, page, with_query

NOTICES = ("email_sent", "password_changed", "session_ended", "others_ended", "unlinked",
           "verification_sent", "totp_removed", "reauthed", "passkey_added", "passkey_removed")
# An action answers with the notice to show on /account, or a path to go to instead.
Action = Callable[[Visit, CookieSession, User, dict[str, str]], Awaitable[str]]


def _notice(visit: Visit, key: str | None) -> str | None:
    _ = visit.gettext
    texts = {
        "email_sent": _("We mailed a confirmation link to the new address."),
        "password_changed": _("Your password is changed; your other sessions have ended."),
        "session_ended": _("The session has ended."),
        "others_ended": _("Every other session has ended."),
        "unlinked": _("The provider is no longer linked."),
        "verification_sent": _("We mailed you a new verification link."),
        "totp_removed": _("Two-step sign-in is off; your recovery codes no longer work."),
        "reauthed": _("Thank you. You can make the change now."),
        "passkey_added": _("The passkey is added."),
        "passkey_removed": _("The passkey is removed."),
    }
    return texts.get(key or "")


async def _context(visit: Visit, session: CookieSession, user: User) -> dict[str, Any]:
    svc = visit.svc
    views = await svc.directory.list(user.id)
    sessions = [{"id": v.id, "kind": v.kind, "current": v.id == session.id,
                 "created": format_time(v.created_at, visit.lang),
                 "last_used": format_time(v.last_used_at, visit.lang),
                 "agent": v.user_agent or "", "ip": v.ip or ""} for v in views]
    identities = [{"provider": i.provider, "email": i.email or "",
                   "linked": format_time(i.created_at, visit.lang)}
                  for i in await svc.identity_links.list(user.id)]
    linked = {i["provider"] for i in identities}
    return {"user": user, "sessions": sessions, "identities": identities,
            "linkable": [name for name in svc.providers if name not in linked],
            "member_since": format_time(user.created_at, visit.lang),
            "csrf": svc.cookie_sessions.csrf_token(session),
            **await factors.factor_context(visit, user)}


@page
async def account(visit: Visit) -> Response:
    signed_in = await visit.signed_in()
    if signed_in is None:
        return visit.redirect("/login")
    session, user = signed_in
    if visit.request.method == "GET":
        notice = _notice(visit, visit.request.query_params.get("done"))
        return visit.render("account.html", notice=notice, **await _context(visit, session, user))
    params = await read_params(visit.request, visit.svc.settings.max_body_bytes)
    visit.check_session_form(session, params)
    name = params.get("action", "")
    action = ACTIONS.get(name)
    if action is None and name not in factors.SHOWING and name != "delete":
        raise InvalidRequest("unknown action")
    try:
        if name == "delete":
            return await factors.delete_account(visit, session, user, params)
        if action is None:  # an answer shown once (a new secret, recovery codes): no redirect
            shown = await factors.SHOWING[name](visit, session, user, params)
            return visit.render("account.html", **{**await _context(visit, session, user),
                                                   **shown})
        done = await action(visit, session, user, params)
    except InsufficientUserAuthentication as exc:
        return visit.render("account.html", status=exc.status, **{
            **await _context(visit, session, user), **factors.not_recent(visit, exc)})
    except AuthdError as exc:
        return visit.refused("account.html", exc, _field_of(params.get("action", ""), exc),
                             **await _context(visit, session, user))
    if done.startswith("/v1/oauth/"):
        # A link, not a redirect: the CSP's form-action would stop a form's redirect chain at
        # the provider's origin, while a followed link is a navigation of its own.
        return visit.render("message.html", title=visit.gettext("Link a sign-in provider"),
                            notice=visit.gettext("Continue at the provider to link it."),
                            next_url=done)
    return visit.redirect(with_query("/account", {"done": done}))


def _field_of(action: str, exc: AuthdError) -> str:
    """The input an error summary links to for a refused action."""
    if action == "password":
        return "current_password" if "current password" in exc.description else "new_password"
    return {"email": "new_email", "reauth": "reauth_password", "delete": "confirm_delete"
            }.get(action, "")


_recent = factors.recent


async def _email(visit: Visit, session: CookieSession, user: User, params: dict[str, str]) -> str:
    _recent(visit, session)
    flows = visit.svc.email
    assert flows is not None
    await flows.change_email(user.id, params.get("new_email"), visit.lang, client_info(visit.request))
    return "email_sent"


async def _password(visit: Visit, session: CookieSession, user: User, params: dict[str, str]) -> str:
    _recent(visit, session)
    svc = visit.svc
    await change_password(svc.accounts, svc.directory, user.id, params.get("current_password"),
                          params.get("new_password"), client_info(visit.request),
                          keep_session=session.id)
    return "password_changed"


async def _end_session(visit: Visit, session: CookieSession, user: User,
                       params: dict[str, str]) -> str:
    await visit.svc.directory.revoke(user.id, params.get("session_id", ""), client_info(visit.request))
    return "session_ended"


async def _end_others(visit: Visit, session: CookieSession, user: User,
                      params: dict[str, str]) -> str:
    await visit.svc.directory.revoke_all(user.id, client_info(visit.request), except_id=session.id)
    return "others_ended"


async def _unlink(visit: Visit, session: CookieSession, user: User, params: dict[str, str]) -> str:
    _recent(visit, session)
    await visit.svc.identity_links.unlink(user.id, params.get("provider", ""),
                                          client_info(visit.request))
    return "unlinked"


async def _link(visit: Visit, session: CookieSession, user: User, params: dict[str, str]) -> str:
    """Start linking a provider: the API's link ticket, then the provider's login in this browser."""
    _recent(visit, session)
    svc, provider = visit.svc, params.get("provider", "")
    if provider not in svc.providers:
        raise NotFound("no such login provider")
    await svc.guard.check_social_start(client_info(visit.request).ip or "unknown")
    started = await svc.identity_links.start(user.id, provider, f"{svc.settings.issuer}/account",
                                             session.id)
    return f"/v1/oauth/{provider}/authorize?{urlencode({'link_ticket': started.ticket})}"


async def _resend(visit: Visit, session: CookieSession, user: User, params: dict[str, str]) -> str:
    flows = visit.svc.email
    assert flows is not None
    await flows.resend_verification(user.id, visit.lang, client_info(visit.request))
    return "verification_sent"


ACTIONS: dict[str, Action] = {
    "email": _email, "password": _password, "end_session": _end_session,
    "end_others": _end_others, "unlink": _unlink, "link": _link,
    "resend_verification": _resend, "totp_remove": factors.totp_remove,
    "reauth": factors.reauth, "passkey_add": factors.passkey_add,
    "passkey_remove": factors.passkey_remove,
}
