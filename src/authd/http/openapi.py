"""The OpenAPI 3.1 document of authd's HTTP API, served at /openapi.json.

Written as data next to the routes; a test checks that every route is
documented and every documented operation is routed, so it stays true.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import authd

_ERROR = {"$ref": "#/components/schemas/Error"}
_FORM = "application/x-www-form-urlencoded"


def _obj(props: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "properties": props}
    if required:
        schema["required"] = required
    return schema


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": schema}}}


def _errors(*codes: int) -> dict[str, Any]:
    return {str(c): {"description": "error", **_json(_ERROR)} for c in codes}


def _op(summary: str, responses: dict[str, Any], *, body: dict[str, Any] | None = None,
        secured: bool = False, params: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    op: dict[str, Any] = {"summary": summary, "responses": responses}
    if body is not None:
        op["requestBody"] = {"required": True, "content": body}
    if secured:
        op["security"] = [{"bearer": []}, {"cookie": []}]
    if params:
        op["parameters"] = params
    return op


_STR = {"type": "string"}
_INT = {"type": "integer"}
_TOKEN_PARAMS = _obj({
    "grant_type": {"enum": ["password", "refresh_token", "authorization_code"]},
    "username": _STR, "password": _STR, "refresh_token": _STR, "scope": _STR,
    "code": _STR, "code_verifier": _STR,
    "audience": _STR, "resource": _STR, "client_id": _STR, "client_secret": _STR,
}, ["grant_type"])
_TOKEN_RESPONSE = _obj({
    "access_token": _STR, "token_type": {"const": "Bearer"}, "expires_in": _INT,
    "refresh_token": _STR, "scope": _STR,
}, ["access_token", "token_type", "expires_in", "refresh_token", "scope"])
_PROVIDER = {"name": "provider", "in": "path", "required": True, "schema": _STR}


def _query(name: str, required: bool, values: list[str] | None = None) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": required,
            "schema": {"enum": values} if values else _STR}


_USER = _obj({"id": _STR, "email": _STR, "email_verified": {"type": "boolean"},
               "name": {"type": ["string", "null"]}})
_SESSION = _obj({
    "id": _STR, "kind": {"enum": ["cookie", "token"]}, "created_at": _INT,
    "last_used_at": _INT, "user_agent": {"type": ["string", "null"]},
    "ip": {"type": ["string", "null"]}, "current": {"type": "boolean"},
})


@cache
def openapi_document() -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {
        "/v1/users": {"post": _op(
            "Sign up (JSON only: any other content type is 415; a request from an origin "
            "that is not allowed is 403 csrf_failed)",
            {"201": {"description": "created", **_json(_obj({
                "id": _STR, "email": _STR, "name": {"type": ["string", "null"]},
                "created_at": _INT}))}, **_errors(400, 403, 409, 413, 415, 429)},
            body={"application/json": {"schema": _obj(
                {"email": _STR, "password": _STR, "name": _STR}, ["email", "password"])}})},
        "/v1/token": {"post": _op(
            "OAuth 2.0 token endpoint (password, refresh_token, and authorization_code for a "
            "social login's one-time code)",
            {"200": {"description": "a token pair", **_json(_TOKEN_RESPONSE)},
             **_errors(400, 401, 413, 415, 429)},
            body={_FORM: {"schema": _TOKEN_PARAMS}, "application/json": {"schema": _TOKEN_PARAMS}})},
        "/v1/revoke": {"post": _op(
            "RFC 7009 revocation of a refresh or access token",
            {"200": {"description": "revoked (or unknown)"}, **_errors(400, 401, 429)},
            body={_FORM: {"schema": _obj({"token": _STR, "token_type_hint": _STR}, ["token"])}})},
        "/v1/introspect": {"post": _op(
            "RFC 7662 introspection, for authenticated confidential clients",
            {"200": {"description": "token state", **_json(_obj({"active": {"type": "boolean"}}))},
             **_errors(400, 401)},
            body={_FORM: {"schema": _obj({"token": _STR}, ["token"])}})},
        "/v1/session": {
            "post": _op("Cookie-mode login: sets the HttpOnly session cookie", {
                "200": {"description": "logged in; Set-Cookie authd_session", **_json(_obj({
                    "user": _USER, "csrf_token": _STR}))}, **_errors(400, 401, 403, 429)},
                body={"application/json": {"schema": _obj(
                    {"email": _STR, "password": _STR}, ["email", "password"])}}),
            "get": _op("The current cookie session, its user and CSRF token", {
                "200": {"description": "session", **_json(_obj({
                    "session": {"type": "object"}, "user": _USER, "csrf_token": _STR}))},
                **_errors(401)}, secured=True),
            "delete": _op("Logout: the record is deleted and the cookie cleared "
                          "(X-CSRF-Token required)", {"204": {"description": "logged out"},
                                                      **_errors(401, 403)}, secured=True),
        },
        "/v1/password": {"post": _op(
            "Change password (either mode); every other session and family ends",
            {"204": {"description": "changed"}, **_errors(400, 401, 403, 429)},
            body={"application/json": {"schema": _obj(
                {"current_password": _STR, "new_password": _STR},
                ["current_password", "new_password"])}}, secured=True)},
        "/v1/userinfo": {"get": _op("The caller's profile", {
            "200": {"description": "profile", **_json(_obj({
                "sub": _STR, "email": _STR, "email_verified": {"type": "boolean"},
                "name": {"type": ["string", "null"]}}))}, **_errors(401)}, secured=True)},
        "/v1/sessions": {
            "get": _op("The caller's cookie sessions and refresh families", {
                "200": {"description": "sessions", **_json(_obj({
                    "sessions": {"type": "array", "items": _SESSION}}))}, **_errors(401)},
                secured=True),
            "delete": _op("Logout everywhere", {"204": {"description": "all ended"},
                                                **_errors(401, 403)}, secured=True),
        },
        "/v1/sessions/{session_id}": {"delete": _op(
            "End one session or refresh family", {"204": {"description": "ended"},
                                                  **_errors(401, 403, 404)},
            secured=True, params=[{"name": "session_id", "in": "path", "required": True,
                                   "schema": _STR}])},
        "/v1/identities": {"get": _op(
            "The caller's linked social-login identities", {
                "200": {"description": "identities", **_json(_obj({"identities": {
                    "type": "array", "items": _obj({
                        "provider": _STR, "subject": _STR, "email": {"type": ["string", "null"]},
                        "linked_at": _INT})}}))},
                **_errors(401)}, secured=True)},
        "/v1/identities/{provider}": {
            "post": _op(
                "Start linking a provider account to the caller's account: a single-use, 60 s URL "
                "to open in the browser (a cookie caller's own browser only)",
                {"200": {"description": "the URL", **_json(_obj({"authorize_url": _STR,
                                                                 "expires_in": _INT}))},
                 **_errors(400, 401, 403, 404, 429)},
                body={"application/json": {"schema": _obj({"redirect_to": _STR}, ["redirect_to"])},
                      "application/x-www-form-urlencoded": {"schema": _obj(
                          {"redirect_to": _STR}, ["redirect_to"])}},
                secured=True, params=[_PROVIDER]),
            "delete": _op(
                "Unlink the caller's identity at this provider (409 if it is the account's last "
                "way to sign in)", {"204": {"description": "unlinked"},
                                    **_errors(401, 403, 404, 409)},
                secured=True, params=[_PROVIDER])},
        "/v1/oauth/{provider}/authorize": {"get": _op(
            "Start a social login (302 to the provider with state, nonce and PKCE S256), or the "
            "browser step of linking (link_ticket from POST /v1/identities/{provider})",
            {"302": {"description": "to the provider (sets the HttpOnly browser-binding cookie)"},
             **_errors(400, 404)},
            params=[_PROVIDER, _query("redirect_to", False), _query("mode", False, ["session", "token"]),
                    _query("client_id", False), _query("code_challenge", False),
                    _query("code_challenge_method", False, ["S256"]),
                    _query("link_ticket", False)])},
        "/v1/oauth/{provider}/callback": {"get": _op(
            "The provider's redirect back: 302 to redirect_to with a session cookie (session mode), "
            "?code= (token mode) or ?error=",
            {"302": {"description": "back to the app"}, **_errors(400, 404)},
            params=[_PROVIDER, _query("state", True), _query("code", False), _query("iss", False),
                    _query("error", False)])},
        "/v1/revocations": {"get": _op(
            "Feed of revoked access-token jti and sid values", {
                "200": {"description": "feed page", **_json(_obj({
                    "revoked": {"type": "array", "items": _obj({
                        "jti": _STR, "sid": _STR, "exp": _INT})},
                    "cursor": _STR, "poll_after": _INT}))}, **_errors(400)},
            params=[{"name": "since", "in": "query", "required": False, "schema": _STR}])},
        "/.well-known/openid-configuration": {"get": _op(
            "Discovery document", {"200": {"description": "metadata", **_json({"type": "object"})}})},
        "/.well-known/jwks.json": {"get": _op(
            "Public signing keys (next, active, retired)", {
                "200": {"description": "JWK set", **_json(_obj({"keys": {"type": "array"}}))}})},
        "/healthz": {"get": _op("Liveness", {"200": {"description": "alive"}})},
        "/readyz": {"get": _op("Readiness (database, Redis)", {
            "200": {"description": "ready"}, "503": {"description": "not ready"}})},
        "/openapi.json": {"get": _op("This document", {"200": {"description": "OpenAPI"}})},
        "/metrics": {"get": _op("Prometheus metrics", {"200": {"description": "text format"}})},
    }
    return {
        "openapi": "3.1.0",
        "info": {"title": "authd", "version": authd.__version__,
                 "description": "Authentication server: sessions and tokens side by side."},
        "paths": paths,
        "components": {
            "schemas": {"Error": _obj({"error": _STR, "error_description": _STR}, ["error"])},
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
                "cookie": {"type": "apiKey", "in": "cookie", "name": "authd_session"},
            },
        },
    }


def extend(path: str, method: str, operation: dict[str, Any]) -> None:
    """Let optional features (social login, cookie sessions) document their routes."""
    openapi_document()["paths"].setdefault(path, {})[method] = operation
