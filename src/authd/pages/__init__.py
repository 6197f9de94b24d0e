"""The hosted pages: sign-up, sign-in, mailed links and the account, server-rendered.

They call the same use cases as the API (``authd.wiring.UseCases``), work
without JavaScript (plain forms, post-redirect-get), speak English and
Korean, and carry a strict Content-Security-Policy. ``ROUTES`` is mounted by
``authd.http.app`` when ``[ui] enabled`` (the default).
"""

from __future__ import annotations

from starlette.routing import Route

from authd.pages import _account, _mail_pages, _mfa, _signin_pages, _static
from authd.pages._render import PageKit

GET_POST = ["GET", "POST"]

ROUTES = [
    Route("/", _signin_pages.home, methods=["GET"]),
    Route("/login", _signin_pages.login, methods=GET_POST),
    Route("/signup", _signin_pages.signup, methods=GET_POST),
    Route("/sign-in", _signin_pages.sign_in, methods=GET_POST),
    Route("/mfa", _mfa.mfa, methods=GET_POST),
    Route("/logout", _signin_pages.logout, methods=GET_POST),
    Route("/forgot-password", _mail_pages.forgot_password, methods=GET_POST),
    Route("/reset-password", _mail_pages.reset_password, methods=GET_POST),
    Route("/verify-email", _mail_pages.verify_email, methods=GET_POST),
    Route("/confirm-email", _mail_pages.confirm_email, methods=GET_POST),
    Route("/account", _account.account, methods=GET_POST),
    Route("/ui/style.css", _static.stylesheet, methods=["GET"]),
    Route("/ui/theme.css", _static.theme, methods=["GET"]),
    Route("/ui/passkeys.js", _static.script, methods=["GET"]),
]

__all__ = ["ROUTES", "PageKit"]
