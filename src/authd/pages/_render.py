"""Rendering a page: the Jinja2 environment, the visitor's language, form tokens and headers.

One ``PageKit`` is built per app at start-up (templates, catalogues, the
header set); each request gets a ``Visit``: who is asking, in which language,
with which pre-session cookie, and how to answer them with a page or a
redirect that carries the right headers and cookies.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, PackageLoader, StrictUndefined
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from authd.config import Settings
from authd.core.models import CookieSession, User
from authd.errors import AuthdError, CsrfFailed, RateLimited, Unauthenticated
from authd.http.auth import check_origin, services
from authd.http.cookies import cookie_name as session_cookie_name
from authd.http.requests import read_params
from authd.pages import _i18n
from authd.pages._messages import message_for
from authd.pages._security import (
    FORM_COOKIE,
    LANG_COOKIE,
    YEAR,
    clear_cookie,
    cookie_name,
    page_headers,
    set_cookie,
)
from authd.wiring import UseCases

FORM_COOKIE_MAX_AGE = 2 * 3600
MAX_CACHED = 512


class PageKit:
    """What every page shares: templates (overridable), catalogues, headers."""

    def __init__(self, settings: Settings) -> None:
        loaders: list[Any] = [PackageLoader("authd.pages", "templates")]
        if settings.ui.templates_dir is not None:
            loaders.insert(0, FileSystemLoader(str(settings.ui.templates_dir)))
        self.env = Environment(loader=ChoiceLoader(loaders), autoescape=True, auto_reload=False,
                               undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
        self.catalogues = _i18n.load_catalogues()
        self.gettexts = {lang: _i18n.gettext_for(c) for lang, c in self.catalogues.items()}
        self.headers = page_headers(settings)
        self.settings = settings
        self._placeholder = "csrf-" + secrets.token_hex(16)
        self._rendered: dict[tuple[str, str], str] = {}

    def cached(self, template: str, values: dict[str, Any]) -> str:
        """The page rendered once per language and context, with this visitor's form token put in.

        A blank form is the same HTML for every visitor but for its CSRF token, and
        rendering it costs more than the rest of the request: it is rendered with a
        random placeholder, kept (at most ``MAX_CACHED`` variants), and the token, a
        base64url string that needs no escaping, replaces the placeholder.
        """
        token = values["csrf"]
        key = (template, repr(sorted((k, v) for k, v in values.items() if k not in ("_", "csrf"))))
        html = self._rendered.get(key)
        if html is None:
            html = self.env.get_template(template).render({**values, "csrf": self._placeholder})
            if len(self._rendered) >= MAX_CACHED:
                self._rendered.clear()
            self._rendered[key] = html
        return html.replace(self._placeholder, token)


def kit(request: Request) -> PageKit:
    found: PageKit = request.app.state.pages
    return found


@dataclass
class Visit:
    request: Request
    svc: UseCases
    kit: PageKit
    lang: str
    gettext: _i18n.Gettext
    binding: str
    new_binding: bool
    remember_lang: bool
    cookies_to_clear: list[tuple[str, str]] = field(default_factory=list)
    set_cookies: list[Callable[[Response], None]] = field(default_factory=list)

    # -- who is signed in ----------------------------------------------------------------------

    async def signed_in(self) -> tuple[CookieSession, User] | None:
        cookie = self.request.cookies.get(session_cookie_name(self.svc.settings))
        if cookie is None:
            return None
        try:
            return await self.svc.cookie_sessions.authenticate(cookie)
        except Unauthenticated:
            return None

    # -- forms -----------------------------------------------------------------------------------

    def form_token(self) -> str:
        """The CSRF token of a form shown without a session (bound to the pre-session cookie)."""
        return self.svc.forms.token(self.binding)

    def check_origin(self) -> None:
        """The API's origin check, knowing that a page's own forms post ``Origin: null``.

        Every page says ``Referrer-Policy: no-referrer``, under which browsers send
        ``Origin: null`` with a form's POST; ``Sec-Fetch-Site: same-origin`` then tells that
        the form was authd's own. A ``null`` origin from anywhere else (a sandboxed frame, a
        ``data:`` page) is refused.
        """
        headers = self.request.headers
        if headers.get("origin") == "null":
            if headers.get("sec-fetch-site") != "same-origin":
                raise CsrfFailed("a form from an opaque origin")
            return
        check_origin(self.request, self.svc)

    def check_form(self, params: Mapping[str, str]) -> None:
        """A form posted without a session: same origin, and the pre-session cookie's token."""
        self.check_origin()
        presented_binding = None if self.new_binding else self.binding
        self.svc.forms.check(presented_binding, params.get("csrf_token"))

    async def read_form(self) -> dict[str, str]:
        """A form posted without a session, its origin and CSRF token checked."""
        params = await read_params(self.request, self.svc.settings.max_body_bytes)
        self.check_form(params)
        return params

    def check_session_form(self, session: CookieSession, params: Mapping[str, str]) -> None:
        """A form posted by a signed-in person: same origin, and the session's own CSRF token."""
        self.check_origin()
        self.svc.cookie_sessions.check_csrf(session, params.get("csrf_token"))

    # -- answers -----------------------------------------------------------------------------------

    def render(self, template: str, status: int = 200, headers: Mapping[str, str] | None = None,
               *, cache: bool = False, **context: Any) -> Response:
        """The page; ``cache=True`` for pages that differ only by their form token (see PageKit)."""
        settings = self.svc.settings
        values = {
            "_": self.gettext, "lang": self.lang, "app_name": settings.ui.app_name,
            "logo_url": settings.ui.logo_url, "path": self.request.scope["path"],
            "other_lang": "ko" if self.lang == "en" else "en",
            "errors": [], "values": {}, "notice": None, **context,
        }
        html = self.kit.cached(template, values) if cache else \
            self.kit.env.get_template(template).render(values)
        response = HTMLResponse(html, status_code=status, headers={**self.kit.headers,
                                                                  **(headers or {})})
        self.finish(response)
        return response

    def redirect(self, url: str, status: int = 303) -> Response:
        response = RedirectResponse(url, status_code=status, headers=self.kit.headers)
        self.finish(response)
        return response

    def finish(self, response: Response) -> None:
        settings = self.svc.settings
        if self.new_binding:
            set_cookie(response, settings, FORM_COOKIE, self.binding, max_age=FORM_COOKIE_MAX_AGE)
        if self.remember_lang:
            set_cookie(response, settings, LANG_COOKIE, self.lang, max_age=YEAR)
        for base, path in self.cookies_to_clear:
            clear_cookie(response, settings, base, path=path)
        for set_one in self.set_cookies:
            set_one(response)

    def refused(self, template: str, exc: AuthdError, field: str, **context: Any) -> Response:
        """``template`` again with the API's answer to ``exc`` (same status) linked to ``field``."""
        if exc.status >= 500:
            raise exc
        headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, RateLimited) else None
        return self.render(template, status=exc.status, headers=headers,
                           errors=[(field, message_for(exc, self.gettext))], **context)

    def error_page(self, exc: AuthdError) -> Response:
        return self.refused("error.html", exc, "")


def visit(request: Request) -> Visit:
    svc = services(request)
    pages = kit(request)
    query_lang = request.query_params.get("lang")
    lang = _i18n.choose(query_lang, request.cookies.get(cookie_name(svc.settings, LANG_COOKIE)),
                        request.headers.get("accept-language"), svc.settings.ui.default_locale)
    binding = request.cookies.get(cookie_name(svc.settings, FORM_COOKIE))
    new_binding = not binding or len(binding) > 128
    return Visit(request=request, svc=svc, kit=pages, lang=lang,
                 gettext=pages.gettexts[lang],
                 binding=svc.forms.new_binding() if new_binding or binding is None else binding,
                 new_binding=new_binding, remember_lang=query_lang in _i18n.LOCALES)


PageHandler = Callable[[Visit], Awaitable[Response]]


def page(handler: PageHandler) -> Callable[[Request], Awaitable[Response]]:
    """A page endpoint: a client error becomes a page in the visitor's language, never JSON."""
    @wraps(handler)
    async def endpoint(request: Request) -> Response:
        current = visit(request)
        try:
            return await handler(current)
        except AuthdError as exc:
            if exc.status >= 500:
                raise
            return current.error_page(exc)
    return endpoint


def with_query(path: str, params: Mapping[str, str | None]) -> str:
    kept = {k: v for k, v in params.items() if v}
    return f"{path}?{urlencode(kept)}" if kept else path
