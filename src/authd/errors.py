"""The server's one exception tree; each class carries its protocol answer.

Core code raises these; the HTTP layer maps them to responses in exactly one
place (``authd.http.errors``). Token-codec failures have their own tree under
``authd.jose.JoseError`` (its ``InvalidToken`` is the codec's and the verifier
library's) and are turned into :class:`Unauthenticated` at the edge of the core;
no class here shares a name with a codec error.

    AuthdError                      500 server_error (never raised for client input)
    ├── RootSecretError             500 server_error (start-up: the root secret cannot be used)
    ├── InvalidRequest              400 invalid_request
    │   ├── WeakPassword            400 invalid_request
    │   └── InvalidEmailToken       400 invalid_token (a mailed link or code: bad, used, expired)
    ├── InvalidGrant                400 invalid_grant
    │   └── EmailNotVerifiedGrant   400 email_not_verified (token endpoint)
    ├── UnsupportedGrantType        400 unsupported_grant_type
    ├── UnauthorizedClient          400 unauthorized_client (a grant this client may not use)
    ├── InvalidScope                400 invalid_scope
    ├── InvalidTarget               400 invalid_target
    ├── InvalidClient               401 invalid_client
    ├── InvalidCredentials          401 invalid_credentials
    ├── Unauthenticated             401 invalid_token (+ WWW-Authenticate)
    ├── MfaRequired                 401 mfa_required at /v1/session, 400 at the token
    │                                   endpoint (+ mfa_token and factors in the body)
    ├── InsufficientUserAuthentication
    │                               401 insufficient_user_authentication (+ WWW-Authenticate
    │                                   with max_age, RFC 9470)
    ├── InsufficientScope           403 insufficient_scope
    ├── AccessDenied                403 access_denied
    │   ├── CsrfFailed              403 csrf_failed
    │   └── EmailNotVerified        403 email_not_verified (require_verified_email)
    ├── NotFound                    404 not_found
    ├── MethodNotAllowed            405 method_not_allowed
    ├── Conflict                    409 conflict
    │   └── EmailTaken              409 email_taken
    ├── PayloadTooLarge             413 request_too_large
    ├── UnsupportedMediaType        415 unsupported_media_type
    ├── RateLimited                 429 rate_limited (+ Retry-After)
    ├── UpstreamUnavailable         502 temporarily_unavailable
    │   └── MailError               (the mail server failed; only the outbox worker and the CLI see it)
    ├── ServiceUnavailable          503 temporarily_unavailable
    └── SocialLoginError            (never raised itself, adds redirect_to)
        ├── InvalidState            400 invalid_request (also an InvalidRequest)
        ├── ProviderRefused         400 access_denied
        ├── InvalidIdToken          400 invalid_grant
        ├── LoginRefused            400 access_denied
        └── ProviderUnavailable     502 temporarily_unavailable (also an UpstreamUnavailable)
"""

from __future__ import annotations


class AuthdError(Exception):
    status: int = 500
    code: str = "server_error"
    default_description: str = "internal error"

    def __init__(self, description: str | None = None) -> None:
        self.description = description or self.default_description
        super().__init__(self.description)


class RootSecretError(AuthdError):
    """The root secret is unusable or is not the one the stored keys were sealed with.

    Raised while starting, so the process stops with one sentence instead of
    serving with keys it cannot open.
    """

    default_description = "the root secret cannot be used"


class InvalidRequest(AuthdError):
    status, code, default_description = 400, "invalid_request", "the request is malformed"


class WeakPassword(InvalidRequest):
    default_description = "the password does not meet the password policy"


class InvalidEmailToken(InvalidRequest):
    """A mailed token or code that is unknown, used, expired or bound elsewhere: one answer for all."""

    code, default_description = "invalid_token", "the link or code is invalid or has expired"


class InvalidGrant(AuthdError):
    status, code, default_description = 400, "invalid_grant", "the grant is invalid"


class EmailNotVerifiedGrant(InvalidGrant):
    code, default_description = "email_not_verified", "verify the account's email address first"


class UnsupportedGrantType(AuthdError):
    status, code = 400, "unsupported_grant_type"
    default_description = "the grant type is not supported"


class UnauthorizedClient(AuthdError):
    """RFC 6749 5.2: the client is known but may not use this grant (the public client and
    ``client_credentials``: a public client holds no secret, so it can be no machine)."""

    status, code = 400, "unauthorized_client"
    default_description = "this client may not use this grant type"


class InvalidScope(AuthdError):
    status, code, default_description = 400, "invalid_scope", "the scope is not allowed"


class InvalidTarget(AuthdError):
    status, code, default_description = 400, "invalid_target", "the audience is not allowed"


class InvalidClient(AuthdError):
    status, code, default_description = 401, "invalid_client", "client authentication failed"


class InvalidCredentials(AuthdError):
    status, code = 401, "invalid_credentials"
    default_description = "wrong email or password"


class Unauthenticated(AuthdError):
    """No valid credential: no or a bad Bearer token, no live session (a 401 with a challenge)."""

    status, code, default_description = 401, "invalid_token", "the token is invalid"


class MfaRequired(AuthdError):
    """The first factor was right; the login waits for a second one (no token, no cookie).

    The token endpoint answers 400 (an OAuth error), ``/v1/session`` 401; both
    carry the ``mfa_token`` that completes the login and the factors that may.
    """

    status, code = 401, "mfa_required"
    default_description = "a second factor is required to finish signing in"

    def __init__(self, mfa_token: str, factors: list[str], *, status: int = 401) -> None:
        super().__init__()
        self.mfa_token = mfa_token
        self.factors = factors
        self.status = status


class InsufficientUserAuthentication(AuthdError):
    """The caller is who they say, but signed in too long ago for this action (RFC 9470)."""

    status, code = 401, "insufficient_user_authentication"
    default_description = "sign in again (POST /v1/reauth) to do this"

    def __init__(self, max_age: int, description: str | None = None) -> None:
        super().__init__(description)
        self.max_age = max(0, int(max_age))


class InsufficientScope(AuthdError):
    """A valid token without the scope an endpoint needs (RFC 6750 3.1); ``scope`` names it."""

    status, code = 403, "insufficient_scope"
    default_description = "the token lacks the required scope"

    def __init__(self, scope: str, description: str | None = None) -> None:
        super().__init__(description)
        self.scope = scope


class AccessDenied(AuthdError):
    status, code, default_description = 403, "access_denied", "access denied"


class CsrfFailed(AccessDenied):
    code, default_description = "csrf_failed", "missing or wrong X-CSRF-Token"


class EmailNotVerified(AccessDenied):
    """The password was right, but ``require_verified_email`` wants a proven address first."""

    code, default_description = "email_not_verified", "verify the account's email address first"


class NotFound(AuthdError):
    status, code, default_description = 404, "not_found", "not found"


class MethodNotAllowed(AuthdError):
    status, code, default_description = 405, "method_not_allowed", "method not allowed"


class Conflict(AuthdError):
    status, code, default_description = 409, "conflict", "conflict"


class EmailTaken(Conflict):
    code, default_description = "email_taken", "an account with this email exists"


class PayloadTooLarge(AuthdError):
    status, code, default_description = 413, "request_too_large", "the request body is too large"


class UnsupportedMediaType(AuthdError):
    status, code = 415, "unsupported_media_type"
    default_description = "unsupported content type"


class RateLimited(AuthdError):
    status, code, default_description = 429, "rate_limited", "too many attempts"

    def __init__(self, retry_after: int, description: str | None = None) -> None:
        super().__init__(description)
        self.retry_after = max(1, int(retry_after))


class UpstreamUnavailable(AuthdError):
    """A service outside authd's own deployment (a login provider) failed: not the client's fault."""

    status, code = 502, "temporarily_unavailable"
    default_description = "an upstream service is unavailable"


class MailError(UpstreamUnavailable):
    """Delivery failed. ``stage`` names what failed (dns, connect, tls, auth, refused, write);
    ``permanent`` means retrying the same message cannot help (a refused recipient)."""

    def __init__(self, stage: str, description: str, *, permanent: bool = False) -> None:
        super().__init__(description)
        self.stage = stage
        self.permanent = permanent


class ServiceUnavailable(AuthdError):
    status, code = 503, "temporarily_unavailable"
    default_description = "a backing service is unavailable"


# -- social login ------------------------------------------------------------------
# ``redirect_to`` is set when the login's state was valid: the user is then sent
# back to the app with ``error=...`` instead of seeing an authd error page.


class SocialLoginError(AuthdError):
    """A social login that cannot complete; the subclass says whose fault and how to answer."""

    redirect_to: str | None = None

    def __init__(self, description: str | None = None, redirect_to: str | None = None) -> None:
        super().__init__(description)
        self.redirect_to = redirect_to


class InvalidState(SocialLoginError, InvalidRequest):
    """400: the callback does not belong to a login this browser started."""

    default_description = "the login state is missing, wrong, expired or already used"


class ProviderRefused(SocialLoginError):
    """400: the user (or the provider) declined the login."""

    status, code = 400, "access_denied"
    default_description = "the provider did not authenticate the user"


class InvalidIdToken(SocialLoginError):
    """400: the provider's answer does not prove who the user is."""

    status, code = 400, "invalid_grant"
    default_description = "the provider's ID token is invalid"


class ProviderUnavailable(SocialLoginError, UpstreamUnavailable):
    """502: the provider could not be reached or answered something unusable: not the user's fault."""

    default_description = "the login provider is unavailable"


class LoginRefused(SocialLoginError):
    """400: the provider vouched for the user, but authd's account rules say no."""

    status, code = 400, "access_denied"
    default_description = "this login cannot be used"
