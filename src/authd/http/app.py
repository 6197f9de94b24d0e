"""The ASGI application: routes, error handlers and the services' lifetime."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match, Route
from starlette.types import Scope

from authd.clock import Clock
from authd.config import Settings, load_settings
from authd.errors import AuthdError
from authd.http import errors
from authd.http.metrics import Metrics, MetricsMiddleware, metrics_endpoint
from authd.http.openapi import openapi_document
from authd.http.responses import json_response
from authd.http.routes import (
    accounts,
    admin,
    discovery,
    email,
    health,
    identities,
    me,
    mfa,
    oauth,
    passkeys,
    reauth,
    session,
    tokens,
)
from authd.pages import ROUTES as PAGE_ROUTES
from authd.pages import PageKit
from authd.wiring import Services, build_services

ROUTES = [
    Route("/v1/users", accounts.create_user, methods=["POST"]),
    Route("/v1/token", tokens.token, methods=["POST"]),
    Route("/v1/revoke", tokens.revoke, methods=["POST"]),
    Route("/v1/introspect", tokens.introspect, methods=["POST"]),
    Route("/v1/session", session.login, methods=["POST"]),
    Route("/v1/session", session.current, methods=["GET"]),
    Route("/v1/session", session.logout, methods=["DELETE"]),
    Route("/v1/session/mfa", session.finish_second_step, methods=["POST"]),
    Route("/v1/password", session.change_password, methods=["POST"]),
    Route("/v1/reauth", reauth.reauth, methods=["POST"]),
    Route("/v1/email", email.change_email, methods=["POST"]),
    Route("/v1/email/verify", email.verify, methods=["POST"]),
    Route("/v1/email/verification", email.resend_verification, methods=["POST"]),
    Route("/v1/email/confirm", email.confirm_email, methods=["POST"]),
    Route("/v1/email/sign-in", email.start_sign_in, methods=["POST"]),
    Route("/v1/password/forgot", email.forgot_password, methods=["POST"]),
    Route("/v1/password/reset", email.reset_password, methods=["POST"]),
    Route("/v1/passkeys/registration", passkeys.registration_options, methods=["POST"]),
    Route("/v1/passkeys/challenge", passkeys.sign_in_challenge, methods=["POST"]),
    Route("/v1/passkeys", passkeys.register, methods=["POST"]),
    Route("/v1/passkeys", passkeys.list_passkeys, methods=["GET"]),
    Route("/v1/passkeys/{passkey_id}", passkeys.remove, methods=["DELETE"]),
    Route("/v1/userinfo", me.userinfo, methods=["GET"]),
    Route("/v1/sessions", me.list_sessions, methods=["GET"]),
    Route("/v1/sessions", me.delete_all_sessions, methods=["DELETE"]),
    Route("/v1/sessions/{session_id}", me.delete_session, methods=["DELETE"]),
    Route("/v1/me/export", me.export, methods=["GET"]),
    Route("/v1/me", me.delete_account, methods=["DELETE"]),
    Route("/admin/v1/users", admin.search_users, methods=["GET"]),
    Route("/admin/v1/users", admin.create_user, methods=["POST"]),
    Route("/admin/v1/users/{user_id}", admin.get_user, methods=["GET"]),
    Route("/admin/v1/users/{user_id}", admin.update_user, methods=["PATCH"]),
    Route("/admin/v1/users/{user_id}", admin.delete_user, methods=["DELETE"]),
    Route("/admin/v1/users/{user_id}/sessions", admin.list_sessions, methods=["GET"]),
    Route("/admin/v1/users/{user_id}/sessions", admin.delete_sessions, methods=["DELETE"]),
    Route("/admin/v1/users/{user_id}/mfa", admin.reset_mfa, methods=["DELETE"]),
    Route("/admin/v1/users/{user_id}/password-reset", admin.password_reset, methods=["POST"]),
    Route("/admin/v1/audit", admin.audit_events, methods=["GET"]),
    Route("/admin/v1/keys", admin.list_keys, methods=["GET"]),
    Route("/admin/v1/keys/rotate", admin.rotate_keys, methods=["POST"]),
    Route("/admin/v1/webhooks/deliveries", admin.webhook_deliveries, methods=["GET"]),
    Route("/v1/mfa", mfa.status, methods=["GET"]),
    Route("/v1/mfa/totp", mfa.begin_totp, methods=["POST"]),
    Route("/v1/mfa/totp", mfa.disable_totp, methods=["DELETE"]),
    Route("/v1/mfa/totp/confirm", mfa.confirm_totp, methods=["POST"]),
    Route("/v1/mfa/recovery-codes", mfa.regenerate_recovery_codes, methods=["POST"]),
    Route("/v1/identities", identities.list_identities, methods=["GET"]),
    Route("/v1/identities/{provider}", identities.start_link, methods=["POST"]),
    Route("/v1/identities/{provider}", identities.unlink, methods=["DELETE"]),
    Route("/v1/identities/{provider}/complete", identities.complete_link, methods=["POST"]),
    Route("/v1/oauth/{provider}/authorize", oauth.authorize, methods=["GET"]),
    Route("/v1/oauth/{provider}/callback", oauth.callback, methods=["GET"]),
    Route("/v1/revocations", discovery.revocations_feed, methods=["GET"]),
    Route("/.well-known/openid-configuration", discovery.openid_configuration, methods=["GET"]),
    Route("/.well-known/jwks.json", discovery.jwks, methods=["GET"]),
    Route("/healthz", health.healthz, methods=["GET"]),
    Route("/readyz", health.readyz, methods=["GET"]),
]


Endpoint = Callable[[Request], Awaitable[Response]]


def one_route_per_path(routes: Sequence[Route]) -> list[Route]:
    """Merge routes that share a path into one route that dispatches on the method.

    Starlette answers a request from the first route whose path matches; with
    one ``Route`` per method, a wrong method was refused by whichever came first,
    and its ``Allow`` header named only that route's methods (RFC 9110 15.5.6
    wants every method the resource supports). One route per path makes the
    405 and its ``Allow`` header complete.
    """
    by_path: dict[str, dict[str, Endpoint]] = {}
    for route in routes:
        handlers = by_path.setdefault(route.path, {})
        for method in route.methods or ():
            if method != "HEAD" or "GET" not in (route.methods or ()):
                if method in handlers:
                    raise ValueError(f"{method} {route.path} is routed twice")
                handlers[method] = route.endpoint
    return [(Route if "{" in path else _FixedRoute)(path, _dispatch(handlers),
                                                     methods=list(handlers), name=path)
            for path, handlers in by_path.items()]


class _FixedRoute(Route):
    """A path without parameters names its resource even for a method it does not serve.

    Starlette prefers any full match to a path-only one, so ``DELETE
    /v1/passkeys/challenge`` would reach ``DELETE /v1/passkeys/{passkey_id}`` and
    read ``challenge`` as an id; the fixed path's 405 (with its ``Allow``) wins instead.
    """

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        match, child_scope = super().matches(scope)
        return (Match.FULL if match is Match.PARTIAL else match), child_scope


def _dispatch(handlers: dict[str, Endpoint]) -> Endpoint:
    """One endpoint for a path: the handler of the request's method (HEAD is answered as GET)."""
    if len(handlers) == 1:
        return next(iter(handlers.values()))

    async def endpoint(request: Request) -> Response:
        method = "GET" if request.method == "HEAD" and "HEAD" not in handlers else request.method
        return await handlers[method](request)

    return endpoint


async def _openapi(_request: Request) -> Response:
    return json_response(openapi_document(), headers={"Cache-Control": "public, max-age=3600"})


def create_app(settings: Settings, clock: Clock | None = None) -> Starlette:
    """The app for ``settings``; services are built at start-up and closed at shutdown."""

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        svc: Services = await build_services(settings, clock)
        svc.auditor.add_listener(metrics.on_audit_event)
        if svc.webhook_worker is not None:
            svc.webhook_worker.on_outcome(metrics.on_webhook_outcome)
            metrics.watch_webhooks(lambda: svc.webhook_pending)
        app.state.services = svc  # the owner: lifetime only
        app.state.use_cases = svc.use_cases  # what routes see
        app.state.metrics = metrics
        if settings.ui.enabled:
            app.state.pages = PageKit(settings)  # templates and catalogues, read once
        await svc.start_background()
        try:
            yield
        finally:
            await svc.close()

    pages = PAGE_ROUTES if settings.ui.enabled else []
    routes = one_route_per_path([*ROUTES, Route("/openapi.json", _openapi, methods=["GET"]),
                                 Route("/metrics", metrics_endpoint, methods=["GET"]), *pages])
    metrics = Metrics()
    middleware = [Middleware(MetricsMiddleware, metrics=metrics)]
    if settings.cors_origins:
        # Exact origins only (validated in config); never "*" with credentials.
        middleware.append(Middleware(
            CORSMiddleware, allow_origins=list(settings.cors_origins), allow_credentials=True,
            allow_methods=["GET", "POST", "PATCH", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "X-CSRF-Token"], max_age=600))
    return Starlette(
        routes=routes,
        middleware=middleware,
        lifespan=lifespan,
        exception_handlers={
            AuthdError: errors.handle_authd_error,
            HTTPException: errors.handle_http_exception,
            Exception: errors.handle_unexpected,
        },
    )


def create_app_from_env() -> Starlette:
    """Factory for ``uvicorn --factory`` and multi-worker serving."""
    return create_app(load_settings())
