"""The headers every page carries, and the cookies the pages set.

The Content-Security-Policy allows no inline script or style at all (no
``'unsafe-inline'``, no nonces): the stylesheet, the colour theme and the one
script are files under ``/ui/``. ``form-action`` names the origins a form may
post to *and be redirected to* (browsers apply it to the redirect after a
submit), so it lists the origins of ``redirect_allowlist``: the hand-off's
``return_to`` lands there.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.responses import Response

from authd.config import Settings

FORM_COOKIE = "authd_form"
LANG_COOKIE = "authd_lang"
MAIL_TOKEN_COOKIE = "authd_mail_token"
MAIL_TOKEN_MAX_AGE = 15 * 60
MFA_COOKIE = "authd_mfa"
YEAR = 365 * 24 * 3600


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def content_security_policy(settings: Settings) -> str:
    images = ["'self'", "data:"]
    if settings.ui.logo_url:
        images.append(_origin(settings.ui.logo_url))
    forms = ["'self'", *dict.fromkeys(_origin(u) for u in settings.redirect_allowlist)]
    return "; ".join([
        "default-src 'self'", "script-src 'self'", "style-src 'self'",
        f"img-src {' '.join(images)}", f"form-action {' '.join(forms)}",
        "frame-ancestors 'none'", "base-uri 'none'", "object-src 'none'",
    ])


def page_headers(settings: Settings) -> dict[str, str]:
    """Headers for every HTML page: no framing, no sniffing, no Referer, no caching."""
    return {
        "Content-Security-Policy": content_security_policy(settings),
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "no-referrer",
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "no-store",
        "Pragma": "no-cache",
    }


def cookie_name(settings: Settings, base: str, *, host_only: bool = True) -> str:
    """``__Host-`` (path /) or ``__Secure-`` prefixed on an https issuer, plain on loopback http."""
    if settings.insecure_cookies_allowed:
        return base
    return f"__Host-{base}" if host_only else f"__Secure-{base}"


def set_cookie(response: Response, settings: Settings, base: str, value: str, *,
               max_age: int, path: str = "/", same_site: str = "lax") -> None:
    """An HttpOnly, SameSite=Lax (or ``same_site``) cookie (Secure on https).

    Written directly: every value the pages set is base64url or a language
    code and every path a fixed page path, so nothing needs quoting, and a
    first visit's form cookie costs no ``http.cookies`` round trip.
    """
    name = cookie_name(settings, base, host_only=path == "/")
    secure = "" if settings.insecure_cookies_allowed else "; Secure"
    header = f"{name}={value}; HttpOnly; Max-Age={max_age}; Path={path}; SameSite={same_site}{secure}"
    response.raw_headers.append((b"set-cookie", header.encode("latin-1")))


def clear_cookie(response: Response, settings: Settings, base: str, *, path: str = "/") -> None:
    response.delete_cookie(cookie_name(settings, base, host_only=path == "/"), path=path,
                           httponly=True, samesite="lax",
                           secure=not settings.insecure_cookies_allowed)
