"""What a person is told when something is refused: the API's answer, in their language.

The texts follow the API's error codes one for one, so a page says no more
than the API would: one message for a wrong password and an unknown
address, and nothing about whether an address has an account when a mail is
asked for.
"""

from __future__ import annotations

from authd.errors import (
    AccessDenied,
    AuthdError,
    Conflict,
    CsrfFailed,
    EmailNotVerified,
    EmailTaken,
    InsufficientUserAuthentication,
    InvalidCredentials,
    InvalidEmailToken,
    InvalidRequest,
    NotFound,
    PayloadTooLarge,
    RateLimited,
    Unauthenticated,
    WeakPassword,
)
from authd.pages._i18n import Gettext


def message_for(exc: AuthdError, _: Gettext) -> str:
    """One sentence for ``exc`` (most specific class first)."""
    if isinstance(exc, RateLimited):
        return _("Too many attempts. Try again in %(seconds)s seconds.", seconds=exc.retry_after)
    if isinstance(exc, InvalidCredentials):
        return _("Wrong email or password.")
    if isinstance(exc, EmailNotVerified):
        return _("Verify your email address first: open the link we mailed you.")
    if isinstance(exc, CsrfFailed):
        return _("This form has expired or did not come from this site. Please try again.")
    if isinstance(exc, InsufficientUserAuthentication):
        return _("For your security, sign in again to do this.")
    if isinstance(exc, Unauthenticated):
        return _("Sign in to continue.")
    if isinstance(exc, WeakPassword):
        return _("Choose a stronger password: at least 8 characters, not a common one, "
                 "and not your email address.")
    if isinstance(exc, InvalidEmailToken):
        return _("This link or code is invalid, used or expired. Ask for a new one.")
    if isinstance(exc, EmailTaken):
        return _("An account with this email address already exists.")
    return _generic(exc, _)


def _generic(exc: AuthdError, _: Gettext) -> str:
    if isinstance(exc, AccessDenied):
        return _("This is not allowed.")
    if isinstance(exc, NotFound):
        return _("Not found.")
    if isinstance(exc, Conflict):
        return _("This conflicts with the account's current state.")
    if isinstance(exc, PayloadTooLarge):
        return _("The form is too large.")
    if isinstance(exc, InvalidRequest):
        return _("Check what you entered: %(reason)s", reason=exc.description)
    return _("The request could not be completed.")
