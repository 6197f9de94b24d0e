"""Where a sign-in goes when it is done: back to the app, with a session or a one-time code.

``?return_to=`` must match ``redirect_allowlist`` (the social login's own
check, ``authd.oauth.redirects.check_redirect_to``: no open redirect).
``mode=session`` (the default) ends with authd's session cookie and a
redirect to ``return_to`` (or ``/account``). ``mode=token`` ends with a
redirect to ``return_to?code=…&state=…``: the social login's one-time code,
bound to the app's ``client_id`` and PKCE ``code_challenge``, which the app
exchanges at ``/v1/token`` (``grant_type=authorization_code``).

The hand-off travels through every step (hidden form fields, links between
the sign-in pages) and is checked again on each request.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlencode, urlsplit, urlunsplit

from authd.core.models import User
from authd.core.social import check_app_challenge
from authd.errors import InvalidRequest
from authd.oauth.redirects import check_redirect_to
from authd.wiring import UseCases

MAX_STATE = 512
FIELDS = ("return_to", "mode", "client_id", "code_challenge", "code_challenge_method", "state")


@dataclass(frozen=True, slots=True)
class Handoff:
    return_to: str | None = None
    mode: Literal["session", "token"] = "session"
    client_id: str | None = None
    code_challenge: str | None = None
    state: str | None = None

    def fields(self) -> dict[str, str]:
        """The hand-off as form fields or query parameters (only what was given)."""
        found = {"return_to": self.return_to, "mode": self.mode if self.mode != "session" else None,
                 "client_id": self.client_id, "code_challenge": self.code_challenge,
                 "code_challenge_method": "S256" if self.code_challenge else None,
                 "state": self.state}
        return {k: v for k, v in found.items() if v}

    def query(self) -> str:
        fields = self.fields()
        return f"?{urlencode(fields)}" if fields else ""


def read_handoff(params: Mapping[str, str], svc: UseCases) -> Handoff:
    """The checked hand-off of a request; InvalidRequest for anything not allowed."""
    raw_return = params.get("return_to") or None
    return_to = (check_redirect_to(raw_return, svc.settings.redirect_allowlist)
                 if raw_return is not None else None)
    mode = params.get("mode") or "session"
    if mode not in ("session", "token"):
        raise InvalidRequest("mode must be session or token")
    state = params.get("state") or None
    if state is not None and (len(state) > MAX_STATE or not state.isprintable()):
        raise InvalidRequest("state is too long or not printable")
    challenge = check_app_challenge(params.get("code_challenge") or None,
                                    params.get("code_challenge_method") or None)
    if mode == "session":
        return Handoff(return_to=return_to, state=state)
    if return_to is None:
        raise InvalidRequest("mode=token needs return_to")
    client_id = svc.clients.known(params.get("client_id") or None)
    return Handoff(return_to, "token", client_id, challenge, state)


def with_params(url: str, params: Mapping[str, str | None]) -> str:
    """``url`` with ``params`` added to its query (the app's own parameters kept)."""
    parts = urlsplit(url)
    extra = urlencode({k: v for k, v in params.items() if v is not None})
    query = f"{parts.query}&{extra}" if parts.query else extra
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


async def token_mode_target(svc: UseCases, handoff: Handoff, user: User,
                            methods: tuple[str, ...]) -> str:
    """Token mode's last stop: ``return_to`` with a one-time code for the app (and its state).

    The code remembers ``methods`` (the login's amr): the app's tokens say how the person
    signed in, and a login that finished its second step here is not asked for it again.
    """
    assert handoff.return_to is not None and handoff.client_id is not None
    code = await svc.social.issue_code(user, handoff.client_id, handoff.code_challenge,
                                       methods=methods)
    return with_params(handoff.return_to, {"code": code, "state": handoff.state})


def social_start(svc: UseCases, provider: str, handoff: Handoff) -> str:
    """The link of a social-login button that ends the way this hand-off asks."""
    target = handoff.return_to or f"{svc.settings.issuer}/account"
    if handoff.state:
        target = with_params(target, {"state": handoff.state})
    params = {"redirect_to": target, "mode": handoff.mode, "client_id": handoff.client_id,
              "code_challenge": handoff.code_challenge,
              "code_challenge_method": "S256" if handoff.code_challenge else None}
    return with_params(f"/v1/oauth/{provider}/authorize", params)
