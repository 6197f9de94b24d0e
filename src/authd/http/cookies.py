"""The session cookie's name and attributes.

Name rule: ``__Host-authd_session`` when the issuer is https (the prefix makes
browsers refuse the cookie unless it is Secure, host-only and Path=/, so a
sibling subdomain cannot plant or overwrite it); ``authd_session`` on a
plain-http loopback issuer (development), where ``Secure`` is also dropped
because browsers would not send it back over http.
"""

from __future__ import annotations

from starlette.responses import Response

from authd.config import Settings

BASE_NAME = "authd_session"


def cookie_name(settings: Settings) -> str:
    return BASE_NAME if settings.insecure_cookies_allowed else f"__Host-{BASE_NAME}"


def set_session_cookie(response: Response, settings: Settings, value: str) -> None:
    response.set_cookie(
        cookie_name(settings), value, max_age=settings.session_absolute_lifetime, path="/",
        secure=not settings.insecure_cookies_allowed, httponly=True, samesite="lax",
    )


def clear_session_cookie(response: Response, settings: Settings) -> None:
    response.delete_cookie(cookie_name(settings), path="/",
                           secure=not settings.insecure_cookies_allowed, httponly=True,
                           samesite="lax")


# The social-login browser binding: proves the callback comes back to the browser that
# started the login. Path-scoped to the OAuth routes; SameSite=Lax because the callback
# is a top-level navigation from the provider's site; ten minutes, like the login itself.
BINDING_BASE_NAME = "authd_oauth"
BINDING_PATH = "/v1/oauth/"


def binding_cookie_name(settings: Settings) -> str:
    return BINDING_BASE_NAME if settings.insecure_cookies_allowed else f"__Secure-{BINDING_BASE_NAME}"


def set_binding_cookie(response: Response, settings: Settings, value: str, max_age: int) -> None:
    response.set_cookie(
        binding_cookie_name(settings), value, max_age=max_age, path=BINDING_PATH,
        secure=not settings.insecure_cookies_allowed, httponly=True, samesite="lax",
    )


def clear_binding_cookie(response: Response, settings: Settings) -> None:
    response.delete_cookie(binding_cookie_name(settings), path=BINDING_PATH,
                           secure=not settings.insecure_cookies_allowed, httponly=True,
                           samesite="lax")
