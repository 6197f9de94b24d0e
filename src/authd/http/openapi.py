"""The OpenAPI 3.1 document of authd's HTTP API, served at /openapi.json.

The document is the contract: written as data next to the routes, and kept
exact by tests. Every route is documented and every documented operation is
routed; every status an operation can answer is declared; security per
operation is what the code checks; request schemas carry the server's own
limits. Links chain sign-up → token → userinfo / refresh / revoke so that
stateful API fuzzers (the suite runs schemathesis against a real server) can
walk the flows users walk.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import authd

Schema = dict[str, Any]

_FORM = "application/x-www-form-urlencoded"
_JSON = "application/json"

# -- security: what each operation really accepts (see authd.http.auth) ------------------------

Security = list[dict[str, list[str]]]

_BEARER_OR_COOKIE: Security = [{"bearer": []}, {"cookie": []}]
# Cookie-authenticated unsafe requests also need the session's X-CSRF-Token.
_BEARER_OR_COOKIE_CSRF: Security = [{"bearer": []}, {"cookie": [], "csrf": []}]
_COOKIE: Security = [{"cookie": []}]
_COOKIE_CSRF: Security = [{"cookie": [], "csrf": []}]
# Public client (no authentication), client_secret_basic, or client_secret_post or
# private_key_jwt (both in the body: no HTTP-level scheme).
_CLIENT_OPTIONAL: Security = [{}, {"clientBasic": []}]
# Confidential clients only: client_secret_basic, or client_secret_post or private_key_jwt
# (in the body: no HTTP-level scheme).
_CLIENT_REQUIRED: Security = [{"clientBasic": []}, {}]
_PUBLIC: Security = []
# The admin API: a Bearer token carrying the authd:admin scope (a client's own token).
_ADMIN: Security = [{"bearer": []}]

# -- errors: one schema, one reusable response per status ---------------------------------------

_ERROR_TEXT = {
    400: ("invalid_request", "the request is malformed or a rule refused it"),
    401: ("invalid_token", "authentication is missing or invalid"),
    403: ("csrf_failed", "refused: a cross-site request, or a missing or wrong X-CSRF-Token"),
    404: ("not_found", "no such resource"),
    409: ("conflict", "the request conflicts with the account's state"),
    413: ("request_too_large", "the request body is too large"),
    415: ("unsupported_media_type", "the content type is not accepted here"),
    429: ("rate_limited", "too many attempts; retry after Retry-After seconds"),
    503: ("temporarily_unavailable", "a backing service (database, Redis) is unavailable"),
}


def _error_response(status: int) -> Schema:
    code, description = _ERROR_TEXT[status]
    response: Schema = {"description": description, "content": {_JSON: {
        "schema": {"$ref": "#/components/schemas/Error"},
        "example": {"error": code, "error_description": description}}}}
    if status == 429:
        response["headers"] = {"Retry-After": {"description": "seconds to wait",
                                               "schema": {"type": "string"}}}
    return response


def _errors(*codes: int) -> Schema:
    """References to the shared error responses; 503 is added wherever storage is involved."""
    return {str(c): {"$ref": f"#/components/responses/E{c}"} for c in codes}


# -- small schema builders -----------------------------------------------------------------------

_STR: Schema = {"type": "string"}
_TEXT: Schema = {"type": "string", "minLength": 1}
_INT: Schema = {"type": "integer"}
_BOOL: Schema = {"type": "boolean"}
_NULLABLE_STR: Schema = {"type": ["string", "null"]}
_EMAIL: Schema = {"type": "string", "format": "email", "minLength": 3, "maxLength": 254}
# The password policy: 8 to 256 characters (after NFKC), not a common password, not the email.
_NEW_PASSWORD: Schema = {"type": "string", "minLength": 8, "maxLength": 256}
_ANY_PASSWORD: Schema = {"type": "string", "minLength": 1}


def _obj(props: dict[str, Any], required: list[str] | None = None, *,
         extra: Schema | bool | None = None) -> Schema:
    schema: Schema = {"type": "object", "properties": props}
    if required:
        schema["required"] = required
    if extra is not None:
        schema["additionalProperties"] = extra
    return schema


def _content(schema: Schema, example: Any = None, *media: str) -> Schema:
    entry: Schema = {"schema": schema}
    if example is not None:
        entry["example"] = example
    return {m: entry for m in (media or (_JSON,))}


def _ok(description: str, schema: Schema | None = None, example: Any = None, **extra: Any) -> Schema:
    response: Schema = {"description": description, **extra}
    if schema is not None:
        response["content"] = _content(schema, example)
    return response


def _op(op_id: str, summary: str, responses: Schema, *, security: Security,
        body: Schema | None = None, params: list[Schema] | None = None) -> Schema:
    op: Schema = {"operationId": op_id, "summary": summary, "security": security,
                  "responses": responses}
    if body is not None:
        op["requestBody"] = {"required": True, "content": body}
    if params:
        op["parameters"] = params
    return op


def _path_param(name: str, example: str) -> Schema:
    return {"name": name, "in": "path", "required": True, "schema": _TEXT, "example": example}


def _query(name: str, values: list[str] | None = None, *, required: bool = False) -> Schema:
    return {"name": name, "in": "query", "required": required,
            "schema": {"type": "string", "enum": values} if values else _STR}


# -- bodies ----------------------------------------------------------------------------------------

_CLIENT_FIELDS: Schema = {
    "client_id": {**_TEXT, "description": "defaults to the first-party public client"},
    "client_secret": {**_TEXT, "description": "client_secret_post (or use HTTP Basic)"},
    "client_assertion_type": {
        "type": "string", "const": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        "description": "private_key_jwt (RFC 7523): with client_assertion, instead of a secret"},
    "client_assertion": {
        "type": "string", "minLength": 1, "maxLength": 4096,
        "description": "a JWT signed with the client's registered key (ES256, EdDSA, PS256 or "
                       "RS256): iss = sub = client_id, aud = the issuer or the token endpoint, "
                       "exp at most 5 minutes ahead, a jti never used before"},
}
_TOKEN_OPTIONS: Schema = {
    "scope": {**_STR, "description": "space-separated; a refresh may narrow, never widen"},
    "audience": _STR, "resource": {**_STR, "description": "RFC 8707; same as audience"},
}


def _grant(grant: str, fields: Schema, required: list[str]) -> Schema:
    return _obj({"grant_type": {"type": "string", "const": grant}, **fields, **_CLIENT_FIELDS,
                 **_TOKEN_OPTIONS}, ["grant_type", *required], extra=_STR)


_EMAIL_CODE_GRANT = "urn:authd:params:oauth:grant-type:email-code"
_PASSKEY_GRANT = "urn:authd:params:oauth:grant-type:passkey"
_CHALLENGE_ID: Schema = {"type": "string", "minLength": 1, "maxLength": 64}
_ASSERTION: Schema = {
    "type": "object", "description": "the PublicKeyCredential from navigator.credentials.get(), "
                                     "as JSON (toJSON(): base64url fields)",
    "properties": {"id": _STR, "rawId": _STR, "type": {"const": "public-key"},
                   "response": _obj({"clientDataJSON": _STR, "authenticatorData": _STR,
                                     "signature": _STR, "userHandle": _NULLABLE_STR},
                                    ["clientDataJSON", "authenticatorData", "signature"])},
    "required": ["id", "rawId", "type", "response"]}
_WEBAUTHN_CHALLENGE = _obj({"challenge_id": _STR, "options": {
    "type": "object", "description": "pass to navigator.credentials (parse with "
                                     "PublicKeyCredential.parse*OptionsFromJSON)"}},
    ["challenge_id", "options"])
_PASSKEY = _obj({"id": _STR, "name": _STR, "created_at": _INT, "last_used_at": {
    "type": ["integer", "null"]}}, ["id", "name", "created_at", "last_used_at"])
# A mailed link's token: 256 bits in base64url (43 characters); longer values are refused.
_MAIL_TOKEN: Schema = {"type": "string", "minLength": 1, "maxLength": 128}
_CODE: Schema = {"type": "string", "pattern": "^[0-9]{6}$"}
_MFA_GRANT = "urn:authd:params:oauth:grant-type:mfa"
_AMR: Schema = {"type": "array", "items": _STR,
                "description": "how the login was made (RFC 8176: pwd, otp, hwk, user, mfa, "
                               "email, fed); empty for logins from before it was recorded"}
_SECOND_FACTOR: Schema = {
    "mfa_token": {**_TEXT, "maxLength": 128},
    "otp": {**_CODE, "description": "a TOTP code"},
    "recovery_code": {"type": "string", "minLength": 1, "maxLength": 64},
    "credential": {**_STR, "description": "a passkey assertion (JSON)"},
}
_LOCALE: Schema = {"type": ["string", "null"], "pattern": "^[A-Za-z]{2,3}([-_][A-Za-z0-9]{1,8}){0,3}$",
                   "description": "the language of the account's mail (en, ko ...); default: "
                                  "Accept-Language"}

_TOKEN_REQUEST: Schema = {
    "oneOf": [
        {"$ref": "#/components/schemas/PasswordGrant"},
        {"$ref": "#/components/schemas/RefreshTokenGrant"},
        {"$ref": "#/components/schemas/AuthorizationCodeGrant"},
        {"$ref": "#/components/schemas/EmailCodeGrant"},
        {"$ref": "#/components/schemas/PasskeyGrant"},
        {"$ref": "#/components/schemas/ClientCredentialsGrant"},
        {"$ref": "#/components/schemas/MfaGrant"},
    ],
    "discriminator": {"propertyName": "grant_type", "mapping": {
        "password": "#/components/schemas/PasswordGrant",
        "refresh_token": "#/components/schemas/RefreshTokenGrant",
        "authorization_code": "#/components/schemas/AuthorizationCodeGrant",
        _EMAIL_CODE_GRANT: "#/components/schemas/EmailCodeGrant",
        _PASSKEY_GRANT: "#/components/schemas/PasskeyGrant",
        "client_credentials": "#/components/schemas/ClientCredentialsGrant",
        _MFA_GRANT: "#/components/schemas/MfaGrant",
    }},
}
_TOKEN_RESPONSE = _obj({
    "access_token": _STR, "token_type": {"const": "Bearer"}, "expires_in": _INT,
    "refresh_token": {**_STR, "description": "absent for client_credentials: a client's own "
                                             "token is never refreshed"},
    "scope": _STR,
}, ["access_token", "token_type", "expires_in", "scope"])
_TOKEN_EXAMPLE = {"access_token": "eyJhbGciOiJFUzI1NiIsImtpZCI6Ii4uLiJ9.eyJzdWIiOiIuLi4ifQ.c2ln",
                  "token_type": "Bearer", "expires_in": 900,
                  "refresh_token": "fam_3kQ.1.Hc2FtcGxl", "scope": "openid profile email"}

_USER = _obj({"id": _STR, "email": _STR, "email_verified": _BOOL, "name": _NULLABLE_STR},
             ["id", "email", "email_verified", "name"])
_USER_EXAMPLE = {"id": "usr_01HZX", "email": "ada@example.com", "email_verified": False,
                 "name": "Ada"}
_SESSION = _obj({
    "id": _STR, "kind": {"enum": ["cookie", "token"]}, "created_at": _INT,
    "last_used_at": _INT, "user_agent": _NULLABLE_STR, "ip": _NULLABLE_STR, "amr": _AMR,
    "current": _BOOL,
}, ["id", "kind", "created_at", "last_used_at", "user_agent", "ip", "amr", "current"])
_SIGN_UP_EXAMPLE = {"email": "ada@example.com", "password": "correct horse battery staple",
                    "name": "Ada"}

# -- links: how a client (or a stateful fuzzer) goes from one answer to the next ----------------


def _bearer_link(op_id: str, description: str) -> Schema:
    return {"operationId": op_id, "description": description,
            "parameters": {"header.Authorization": "Bearer {$response.body#/access_token}"}}


_SIGN_UP_LINKS = {
    "PasswordGrant": {
        "operationId": "token", "description": "sign in with the new account's email and password",
        "requestBody": {"grant_type": "password", "username": "$response.body#/email",
                        "password": "$request.body#/password"}},
    "CookieLogin": {
        "operationId": "login", "description": "start a cookie session for the new account",
        "requestBody": {"email": "$response.body#/email", "password": "$request.body#/password"}},
}
_TOKEN_LINKS = {
    "Userinfo": _bearer_link("userinfo", "the profile of the token's user"),
    "ListSessions": _bearer_link("listSessions", "the user's sessions and refresh families"),
    "ListIdentities": _bearer_link("listIdentities", "the user's linked social-login identities"),
    "LogoutEverywhere": _bearer_link("logoutEverywhere", "end every session and family"),
    "Refresh": {
        "operationId": "token", "description": "rotate the refresh token",
        "requestBody": {"grant_type": "refresh_token",
                        "refresh_token": "$response.body#/refresh_token"}},
    "Revoke": {
        "operationId": "revoke", "description": "revoke the refresh token (ends its family)",
        "requestBody": {"token": "$response.body#/refresh_token"}},
    "RevokeAccessToken": {
        "operationId": "revoke", "description": "revoke the access token (denylisted until it expires)",
        "requestBody": {"token": "$response.body#/access_token",
                        "token_type_hint": "access_token"}},
}


def _accounts() -> Schema:
    return {
        "/v1/users": {"post": _op(
            "signUp", "Sign up (JSON only: any other content type is 415; a request from an "
            "origin that is not allowed is 403 csrf_failed)",
            {"201": _ok("created; Location names the new user", _obj({
                "id": _STR, "email": _STR, "name": _NULLABLE_STR, "created_at": _INT},
                ["id", "email", "name", "created_at"]),
                {"id": "usr_01HZX", "email": "ada@example.com", "name": "Ada",
                 "created_at": 1767225600},
                headers={"Location": {"schema": _STR}}, links=_SIGN_UP_LINKS),
             **_errors(400, 403, 409, 413, 415, 429, 503)},
            security=_PUBLIC,
            body=_content(_obj({"email": _EMAIL, "password": _NEW_PASSWORD,
                                "name": {"type": ["string", "null"], "maxLength": 200},
                                "locale": _LOCALE},
                               ["email", "password"]), _SIGN_UP_EXAMPLE))},
    }


def _oauth2() -> Schema:
    return {
        "/v1/token": {"post": _op(
            "token", "OAuth 2.0 token endpoint (password, refresh_token, authorization_code for "
            "a social login's one-time code, client_credentials for a registered "
            "confidential client's own access token, without a refresh token, and the mfa "
            "grant: the second step of a login that answered 400 mfa_required with an "
            "mfa_token); Cache-Control: no-store",
            {"200": _ok("a token pair", _TOKEN_RESPONSE, _TOKEN_EXAMPLE, links=_TOKEN_LINKS),
             **_errors(400, 401, 413, 415, 429, 503)},
            security=_CLIENT_OPTIONAL,
            body=_content(_TOKEN_REQUEST, {"grant_type": "password", "username": "ada@example.com",
                                           "password": "correct horse battery staple"},
                          _FORM, _JSON))},
        "/v1/revoke": {"post": _op(
            "revoke", "RFC 7009 revocation of a refresh token (its family) or an access token; "
            "200 also for an unknown token",
            {"200": _ok("revoked (or unknown)"), **_errors(400, 401, 413, 415, 429, 503)},
            security=_CLIENT_OPTIONAL,
            body=_content(_obj({"token": _TEXT, "token_type_hint": {
                "type": "string", "description": "refresh_token or access_token (a hint only)"},
                **_CLIENT_FIELDS}, ["token"], extra=_STR),
                {"token": "fam_3kQ.1.Hc2FtcGxl"}, _FORM, _JSON))},
        "/v1/introspect": {"post": _op(
            "introspect", "RFC 7662 introspection, for confidential clients only (HTTP Basic, "
            "client_id and client_secret in the body, or a private_key_jwt client_assertion); "
            "failed client authentication counts against the client's limit (429)",
            {"200": _ok("the token's state; {\"active\": false} for anything unknown or invalid",
                        _obj({"active": _BOOL}, ["active"]),
                        {"active": True, "token_type": "access_token", "sub": "usr_01HZX"}),
             **_errors(400, 401, 413, 415, 429, 503)},
            security=_CLIENT_REQUIRED,
            body=_content(_obj({"token": _TEXT, "token_type_hint": _STR, **_CLIENT_FIELDS},
                               ["token"], extra=_STR), {"token": "fam_3kQ.1.Hc2FtcGxl"},
                          _FORM, _JSON))},
    }


def _sessions() -> Schema:
    login_body = {"oneOf": [
        _obj({"email": _TEXT, "password": _ANY_PASSWORD}, ["email", "password"]),
        _obj({"email": _EMAIL, "code": _CODE}, ["email", "code"]),
        _obj({"token": _MAIL_TOKEN}, ["token"]),
        _obj({"challenge_id": _CHALLENGE_ID, "credential": _ASSERTION},
             ["challenge_id", "credential"])]}
    return {
        "/v1/session": {
            "post": _op(
                "login", "Cookie-mode login with a password, a mailed sign-in code and its email, "
                "a sign-in link's token, or a passkey (challenge_id from "
                "POST /v1/passkeys/challenge and the assertion, user verification required): "
                "sets the HttpOnly session cookie (403 email_not_verified for a password login "
                "with require_verified_email; 401 mfa_required with mfa_token and factors, and "
                "no cookie, for a user with a second factor)",
                {"200": _ok("logged in; Set-Cookie carries the session",
                            _obj({"user": _USER, "csrf_token": _STR}, ["user", "csrf_token"]),
                            {"user": _USER_EXAMPLE, "csrf_token": "q1W2e3R4t5Y6"}),
                 **_errors(400, 401, 403, 413, 415, 429, 503)},
                security=_PUBLIC, body=_content(login_body, {
                    "email": "ada@example.com", "password": "correct horse battery staple"})),
            "get": _op(
                "currentSession", "The current cookie session, its user and CSRF token",
                {"200": _ok("the session", _obj({
                    "session": _obj({"id": _STR, "created_at": _INT, "last_used_at": _INT,
                                     "expires_at": _INT, "auth_time": _INT, "amr": _AMR},
                                    ["id", "created_at", "last_used_at", "expires_at",
                                     "auth_time", "amr"]),
                    "user": _USER, "csrf_token": _STR}, ["session", "user", "csrf_token"])),
                 **_errors(401, 503)}, security=_COOKIE),
            "delete": _op(
                "logout", "Logout: the session record is deleted and the cookie cleared",
                {"204": _ok("logged out"), **_errors(401, 403, 503)}, security=_COOKIE_CSRF),
        },
        "/v1/session/mfa": {"post": _op(
            "finishLoginSecondStep", "The second step of a cookie login: the mfa_token from 401 "
            "mfa_required and one of otp, recovery_code or credential; sets the session cookie. "
            "The token is single-use, lives 5 minutes and allows 5 tries",
            {"200": _ok("logged in; Set-Cookie carries the session",
                        _obj({"user": _USER, "csrf_token": _STR}, ["user", "csrf_token"]),
                        {"user": _USER_EXAMPLE, "csrf_token": "q1W2e3R4t5Y6"}),
             **_errors(400, 401, 403, 413, 415, 429, 503)},
            security=_PUBLIC, body=_content(_obj(_SECOND_FACTOR, ["mfa_token"]),
                                            {"mfa_token": "m7Yq...43 chars", "otp": "123456"},
                                            _JSON))},
        "/v1/password": {"post": _op(
            "changePassword", "Change password (either mode; a token for authd itself and a login "
            "within sensitive_max_age, else 401 insufficient_user_authentication); every other "
            "session and family ends",
            {"204": _ok("changed"), **_errors(400, 401, 403, 413, 415, 429, 503)},
            security=_BEARER_OR_COOKIE_CSRF,
            body=_content(_obj({"current_password": _ANY_PASSWORD, "new_password": _NEW_PASSWORD},
                               ["current_password", "new_password"]),
                          {"current_password": "correct horse battery staple",
                           "new_password": "a longer and newer passphrase"}))},
        "/v1/reauth": {"post": _op(
            "reauth", "Sign in again with the password, a TOTP code for a user with TOTP on, or "
            "a passkey assertion (challenge from POST /v1/passkeys/challenge): "
            "renews auth_time and amr of the cookie session (answer {auth_time}) or of the "
            "token's refresh family (answer a fresh access token carrying them); counts against "
            "the login limits",
            {"200": _ok("renewed", {"oneOf": [
                _obj({"auth_time": _INT}, ["auth_time"]),
                _obj({"access_token": _STR, "token_type": {"const": "Bearer"},
                      "expires_in": _INT, "scope": _STR},
                     ["access_token", "token_type", "expires_in", "scope"])]}),
             **_errors(400, 401, 403, 413, 415, 429, 503)},
            security=_BEARER_OR_COOKIE_CSRF,
            body=_content({"oneOf": [_obj({"password": _ANY_PASSWORD}, ["password"]),
                                     _obj({"otp": _CODE}, ["otp"]),
                                     _obj({"credential": {
                                         "type": "object", "description": "the assertion of "
                                         "navigator.credentials.get() as JSON"}},
                                          ["credential"])]},
                          {"password": "correct horse battery staple"}))},
        "/v1/userinfo": {"get": _op(
            "userinfo", "The caller's profile: sub always, email and email_verified with scope "
            "email, name with scope profile (a cookie caller sees all)",
            {"200": _ok("profile", _obj({"sub": _STR, "email": _STR, "email_verified": _BOOL,
                                         "name": _NULLABLE_STR},
                                        ["sub"]),
                        {"sub": "usr_01HZX", "email": "ada@example.com", "email_verified": False,
                         "name": "Ada"}),
             **_errors(401, 503)}, security=_BEARER_OR_COOKIE)},
        "/v1/sessions": {
            "get": _op(
                "listSessions", "The caller's cookie sessions and refresh families",
                {"200": _ok("sessions", _obj({"sessions": {"type": "array", "items": _SESSION}},
                                             ["sessions"])),
                 **_errors(401, 503)}, security=_BEARER_OR_COOKIE),
            "delete": _op("logoutEverywhere", "Logout everywhere: every session and family ends",
                          {"204": _ok("all ended"), **_errors(401, 403, 503)},
                          security=_BEARER_OR_COOKIE_CSRF),
        },
        "/v1/sessions/{session_id}": {"delete": _op(
            "deleteSession", "End one session or refresh family (404 if it is not the caller's)",
            {"204": _ok("ended"), **_errors(401, 403, 404, 503)},
            security=_BEARER_OR_COOKIE_CSRF, params=[_path_param("session_id", "fam_3kQ")])},
    }


def _email() -> Schema:
    accepted = {"202": _ok("accepted: mail is on its way if there is anything to send",
                           _obj({}), {})}
    token_body = _content(_obj({"token": _MAIL_TOKEN}, ["token"]), {"token": "k3Jd...43 chars"})
    email_body = _content(_obj({"email": _EMAIL}, ["email"]), {"email": "ada@example.com"})
    return {
        "/v1/email/verify": {"post": _op(
            "verifyEmail", "Verify the address with the token of the mailed link",
            {"200": _ok("verified", _obj({"email_verified": {"const": True}}, ["email_verified"]),
                        {"email_verified": True}),
             **_errors(400, 403, 413, 415, 429, 503)},
            security=_PUBLIC, body=token_body)},
        "/v1/email/verification": {"post": _op(
            "resendVerification", "Mail the verification link again (signed in)",
            {**accepted, **_errors(401, 403, 429, 503)}, security=_BEARER_OR_COOKIE_CSRF)},
        "/v1/email": {"post": _op(
            "changeEmail", "Change the account's address (a login within sensitive_max_age): a "
            "confirmation link goes to the new address, a notice to the old",
            {**accepted, **_errors(400, 401, 403, 413, 415, 429, 503)},
            security=_BEARER_OR_COOKIE_CSRF,
            body=_content(_obj({"new_email": _EMAIL}, ["new_email"]),
                          {"new_email": "ada@new.example"}))},
        "/v1/email/confirm": {"post": _op(
            "confirmEmail", "Confirm the new address with the mailed link's token",
            {"200": _ok("changed and verified", _obj({"email": _STR, "email_verified": _BOOL},
                                                     ["email", "email_verified"]),
                        {"email": "ada@new.example", "email_verified": True}),
             **_errors(400, 403, 409, 413, 415, 429, 503)},
            security=_PUBLIC, body=token_body)},
        "/v1/email/sign-in": {"post": _op(
            "startEmailSignIn", "Mail a six-digit sign-in code and link (valid 10 minutes); the "
            "same answer whether or not an account exists",
            {**accepted, **_errors(400, 403, 413, 415, 429, 503)},
            security=_PUBLIC, body=email_body)},
        "/v1/password/forgot": {"post": _op(
            "forgotPassword", "Mail a password-reset link if the account exists; the same answer "
            "either way",
            {**accepted, **_errors(400, 403, 413, 415, 429, 503)},
            security=_PUBLIC, body=email_body)},
        "/v1/password/reset": {"post": _op(
            "resetPassword", "Set a new password with the mailed link's token: every session and "
            "refresh family ends and a notice is mailed",
            {"200": _ok("the password is set", _obj({}), {}),
             **_errors(400, 403, 413, 415, 429, 503)},
            security=_PUBLIC,
            body=_content(_obj({"token": _MAIL_TOKEN, "new_password": _NEW_PASSWORD},
                               ["token", "new_password"]),
                          {"token": "k3Jd...43 chars", "new_password": "a longer and newer passphrase"}))},
    }


def _identities() -> Schema:
    provider = _path_param("provider", "google")
    redirect = _obj({"redirect_to": {**_TEXT, "format": "uri"}}, ["redirect_to"])
    return {
        "/v1/identities": {"get": _op(
            "listIdentities", "The caller's linked social-login identities",
            {"200": _ok("identities", _obj({"identities": {"type": "array", "items": _obj({
                "provider": _STR, "subject": _STR, "email": _NULLABLE_STR, "linked_at": _INT},
                ["provider", "subject", "email", "linked_at"])}}, ["identities"])),
             **_errors(401, 503)}, security=_BEARER_OR_COOKIE)},
        "/v1/identities/{provider}": {
            "post": _op(
                "startLink", "Start linking a provider account to the caller's account (needs a "
                "recent login): a single-use, 60 s URL to open in the browser (a cookie caller's "
                "own browser only); a Bearer caller also gets the link_verifier that completes it",
                {"200": _ok("the URL", _obj({"authorize_url": _STR, "expires_in": _INT,
                                             "link_verifier": _STR},
                                            ["authorize_url", "expires_in"])),
                 **_errors(400, 401, 403, 404, 413, 415, 429, 503)},
                security=_BEARER_OR_COOKIE_CSRF, params=[provider],
                body=_content(redirect, {"redirect_to": "https://app.example.com/settings"},
                              _JSON, _FORM)),
            "delete": _op(
                "unlink", "Unlink the caller's identity at this provider (needs a recent login; "
                "409 if it is the account's last way to sign in)", {"204": _ok("unlinked"),
                                                   **_errors(401, 403, 404, 409, 503)},
                security=_BEARER_OR_COOKIE_CSRF, params=[provider])},
        "/v1/identities/{provider}/complete": {"post": _op(
            "completeLink", "Finish a link started with a Bearer token: the link_code the "
            "browser brought back to redirect_to and the link_verifier from the start (same user)",
            {"204": _ok("linked"), **_errors(400, 401, 403, 404, 413, 415, 429, 503)},
            security=_BEARER_OR_COOKIE_CSRF, params=[provider],
            body=_content(_obj({"link_code": _TEXT, "link_verifier": _TEXT},
                               ["link_code", "link_verifier"]),
                          {"link_code": "lc_3kQ", "link_verifier": "lv_9xZ"}, _JSON, _FORM))},
        "/v1/oauth/{provider}/authorize": {"get": _op(
            "socialAuthorize", "Start a social login (302 to the provider with state, nonce and "
            "PKCE S256), or the browser step of linking (link_ticket from "
            "POST /v1/identities/{provider})",
            {"302": _ok("to the provider (sets the HttpOnly browser-binding cookie), or back to "
                        "redirect_to with ?error= when the provider cannot be reached"),
             **_errors(400, 404, 429, 503)},
            security=_PUBLIC,
            params=[provider, _query("redirect_to"), _query("mode", ["session", "token"]),
                    _query("client_id"), _query("code_challenge"),
                    _query("code_challenge_method", ["S256"]), _query("link_ticket")])},
        "/v1/oauth/{provider}/callback": {"get": _op(
            "socialCallback", "The provider's redirect back: 302 to redirect_to with a session "
            "cookie (session mode), ?code= (token mode) or ?error=; needs the browser-binding "
            "cookie set by authorize",
            {"302": _ok("back to the app"), **_errors(400, 404, 503)},
            security=_PUBLIC,
            params=[provider, _query("state"), _query("code"), _query("iss"), _query("error")])},
    }


def _passkeys() -> Schema:
    return {
        "/v1/passkeys/registration": {"post": _op(
            "passkeyRegistrationOptions", "Start enrolling a passkey (needs a recent login): a "
            "challenge (single-use, 5 minutes) and PublicKeyCredentialCreationOptionsJSON for "
            "navigator.credentials.create()",
            {"200": _ok("the options", _WEBAUTHN_CHALLENGE), **_errors(401, 403, 409, 503)},
            security=_BEARER_OR_COOKIE_CSRF)},
        "/v1/passkeys": {
            "post": _op(
                "registerPasskey", "Finish enrolling: the registration challenge's id, the "
                "PublicKeyCredential from navigator.credentials.create() and an optional name "
                "(needs a recent login)",
                {"201": _ok("registered", _obj({"id": _STR, "name": _STR, "created_at": _INT},
                                               ["id", "name", "created_at"])),
                 **_errors(400, 401, 403, 409, 413, 415, 503)},
                security=_BEARER_OR_COOKIE_CSRF,
                body=_content(_obj({"challenge_id": _CHALLENGE_ID, "credential": {
                    "type": "object", "description": "the PublicKeyCredential as JSON "
                                                     "(toJSON(): base64url fields)"},
                    "name": {"type": ["string", "null"], "maxLength": 100}},
                    ["challenge_id", "credential"]))),
            "get": _op(
                "listPasskeys", "The caller's passkeys",
                {"200": _ok("passkeys", _obj({"passkeys": {"type": "array", "items": _PASSKEY}},
                                             ["passkeys"])),
                 **_errors(401, 503)}, security=_BEARER_OR_COOKIE),
        },
        "/v1/passkeys/{passkey_id}": {"delete": _op(
            "removePasskey", "Remove one of the caller's passkeys (needs a recent login; 404 if "
            "it is not the caller's)",
            {"204": _ok("removed"), **_errors(401, 403, 404, 503)},
            security=_BEARER_OR_COOKIE_CSRF, params=[_path_param("passkey_id", "pk_3kQ")])},
        "/v1/passkeys/challenge": {"post": _op(
            "passkeyChallenge", "Start a passkey sign-in: a challenge (single-use, 5 minutes) and "
            "PublicKeyCredentialRequestOptionsJSON; with an email the options list its passkeys "
            "(the same shape for an unknown address), without one the browser offers "
            "discoverable passkeys. Finish with POST /v1/token (passkey grant) or POST /v1/session",
            {"200": _ok("the options", _WEBAUTHN_CHALLENGE), **_errors(400, 413, 415, 429, 503)},
            security=_PUBLIC,
            body=_content(_obj({"email": {"type": ["string", "null"], "maxLength": 320}}),
                          {"email": "ada@example.com"}))},
    }


_RECOVERY_CODES = _obj({"recovery_codes": {"type": "array", "items": _STR, "minItems": 10,
                                            "maxItems": 10}}, ["recovery_codes"])
_RECOVERY_EXAMPLE = {"recovery_codes": ["k7dmp-x3qaz", "..."]}


def _mfa() -> Schema:
    return {
        "/v1/mfa": {"get": _op(
            "mfaStatus", "The caller's second factors: TOTP on or off, passkey count, unused "
            "recovery codes",
            {"200": _ok("status", _obj({"totp": _BOOL, "passkeys": _INT,
                                        "recovery_codes_left": _INT},
                                       ["totp", "passkeys", "recovery_codes_left"]),
                        {"totp": True, "passkeys": 0, "recovery_codes_left": 9}),
             **_errors(401, 503)}, security=_BEARER_OR_COOKIE)},
        "/v1/mfa/totp": {
            "post": _op(
                "beginTotp", "Start TOTP enrolment (needs a recent login): a new secret, pending "
                "until confirmed; 409 if TOTP is already on",
                {"200": _ok("the secret, its otpauth:// URI and that URI as an SVG QR code",
                            _obj({"secret": _STR, "otpauth_uri": _STR, "qr_svg": _STR},
                                 ["secret", "otpauth_uri", "qr_svg"])),
                 **_errors(401, 403, 409, 503)}, security=_BEARER_OR_COOKIE_CSRF),
            "delete": _op(
                "disableTotp", "Remove TOTP and the recovery codes (needs a recent login)",
                {"204": _ok("removed"), **_errors(401, 403, 404, 503)},
                security=_BEARER_OR_COOKIE_CSRF)},
        "/v1/mfa/totp/confirm": {"post": _op(
            "confirmTotp", "Turn the pending TOTP factor on with a first code (needs a recent "
            "login); answers ten single-use recovery codes, shown only this once",
            {"200": _ok("the recovery codes", _RECOVERY_CODES, _RECOVERY_EXAMPLE),
             **_errors(400, 401, 403, 409, 413, 415, 503)}, security=_BEARER_OR_COOKIE_CSRF,
            body=_content(_obj({"code": _CODE}, ["code"]), {"code": "123456"}, _JSON))},
        "/v1/mfa/recovery-codes": {"post": _op(
            "regenerateRecoveryCodes", "A new set of ten recovery codes (needs a recent login); "
            "the old set is void; 409 without TOTP",
            {"200": _ok("the recovery codes", _RECOVERY_CODES, _RECOVERY_EXAMPLE),
             **_errors(401, 403, 409, 503)}, security=_BEARER_OR_COOKIE_CSRF)},
    }


def _public() -> Schema:
    return {
        "/v1/revocations": {"get": _op(
            "revocations", "Feed of revoked access-token jti and sid values (cacheable 1 s)",
            {"200": _ok("feed page", _obj({
                "revoked": {"type": "array", "items": _obj({
                    "jti": _STR, "sid": _STR, "exp": _INT}, ["exp"])},
                "cursor": _STR, "poll_after": _INT}, ["revoked", "cursor", "poll_after"]),
                {"revoked": [{"sid": "fam_3kQ", "exp": 1767226500}], "cursor": "42",
                 "poll_after": 2}),
             **_errors(400, 503)},
            security=_PUBLIC,
            params=[{"name": "since", "in": "query", "required": False,
                     "description": "a cursor returned by this feed (decimal digits, at most "
                                    "2147483647); 0 or absent: from the start",
                     "schema": {"type": "string", "pattern": "^[0-9]{1,10}$"}}])},
        "/.well-known/openid-configuration": {"get": _op(
            "discovery", "Discovery document",
            {"200": _ok("metadata", _obj({"issuer": _STR, "jwks_uri": _STR,
                                          "token_endpoint": _STR}, ["issuer", "jwks_uri"]))},
            security=_PUBLIC)},
        "/.well-known/jwks.json": {"get": _op(
            "jwks", "Public signing keys (next, active, retired)",
            {"200": _ok("JWK set", _obj({"keys": {"type": "array", "items": {"type": "object"}}},
                                        ["keys"]))}, security=_PUBLIC)},
        "/healthz": {"get": _op("healthz", "Liveness", {
            "200": _ok("alive", _obj({"status": {"const": "ok"}}, ["status"]))}, security=_PUBLIC)},
        "/readyz": {"get": _op("readyz", "Readiness (database, Redis, rate-limit mode)", {
            "200": _ok("ready", _obj({"status": _STR, "checks": {"type": "object"}})),
            "503": _ok("not ready", _obj({"status": _STR, "checks": {"type": "object"}}))},
            security=_PUBLIC)},
        "/openapi.json": {"get": _op("openapi", "This document, the contract of the API", {
            "200": _ok("OpenAPI 3.1", {"type": "object"})}, security=_PUBLIC)},
        "/metrics": {"get": _op("metrics", "Prometheus metrics", {"200": {
            "description": "Prometheus text format",
            "content": {"text/plain": {"schema": _STR}}}}, security=_PUBLIC)},
    }


def _your_data() -> Schema:
    recent = ("(either mode; a token for authd itself and a login within sensitive_max_age, "
              "else 401 insufficient_user_authentication)")
    export = _obj({"profile": _ADMIN_USER, "identities": {"type": "array", "items": _obj({
        "provider": _STR, "subject": _STR, "email": _NULLABLE_STR, "created_at": _NUM})},
        "sessions": {"type": "array", "items": _obj({})}, "factors": _obj({}, extra=True),
        "audit_events": {"type": "array", "items": _AUDIT_EVENT}, "exported_at": _NUM},
        ["profile", "identities", "sessions", "factors", "audit_events"])
    return {
        "/v1/me/export": {"get": _op(
            "exportMyData", "Everything authd stores about the caller in one JSON document: "
            "profile, identities, sessions, factors (no secrets), audit events " + recent,
            {"200": _ok("the document", export), **_errors(401, 503)},
            security=_BEARER_OR_COOKIE)},
        "/v1/me": {"delete": _op(
            "deleteMe", "Delete the caller's account: identities, factors, sessions and families "
            "go with it, every token is revoked, audit rows keep only a pseudonymous id " + recent,
            {"204": _ok("deleted; the session cookie is cleared"), **_errors(401, 403, 503)},
            security=_BEARER_OR_COOKIE_CSRF)},
    }


_NUM: Schema = {"type": "number"}
_NULLABLE_NUM: Schema = {"type": ["number", "null"]}
_ADMIN_USER = _obj({"id": _STR, "email": _STR, "email_verified": _BOOL, "name": _NULLABLE_STR,
                    "disabled": _BOOL, "created_at": _NUM, "has_password": _BOOL,
                    "password_changed_at": _NULLABLE_NUM, "locale": _NULLABLE_STR},
                   ["id", "email", "email_verified", "name", "disabled", "created_at"])
_AUDIT_EVENT = _obj({"at": _NUM, "event": _STR, "user_id": _NULLABLE_STR, "ip": _NULLABLE_STR,
                     "detail": _obj({}, extra=True)}, ["at", "event"])
_ADMIN_SESSION = _obj({"id": _STR, "kind": {"enum": ["cookie", "token"]}, "created_at": _INT,
                       "last_used_at": _INT, "user_agent": _NULLABLE_STR, "ip": _NULLABLE_STR})
_KEY = _obj({"kid": _STR, "alg": _STR, "state": {"enum": ["next", "active", "retired"]},
             "created_at": _NUM, "activated_at": _NULLABLE_NUM, "retired_at": _NULLABLE_NUM,
             "publish_until": _NULLABLE_NUM}, ["kid", "alg", "state"])
_E403_SCOPE = {"description": "the token lacks the authd:admin scope (WWW-Authenticate names it)",
               "content": {_JSON: {"schema": {"$ref": "#/components/schemas/Error"}, "example": {
                   "error": "insufficient_scope",
                   "error_description": "this endpoint needs a token with scope authd:admin"}}}}


_NULLABLE_INT: Schema = {"type": ["integer", "null"]}
_DELIVERY = _obj({"id": _STR, "endpoint": _STR, "type": _STR, "user_id": _NULLABLE_STR,
                  "status": {"type": "string", "enum": ["pending", "delivered", "failed"]},
                  "attempts": _INT, "last_status": _NULLABLE_INT, "last_error": _NULLABLE_STR,
                  "created_at": {"type": "number"}, "next_attempt_at": _NULLABLE_NUM,
                  "delivered_at": _NULLABLE_NUM, "failed_at": _NULLABLE_NUM},
                 ["id", "endpoint", "type", "status", "attempts", "created_at"])


def _admin_errors(*codes: int) -> Schema:
    """Every admin operation: 401 without a valid token, 403 without the scope."""
    return {**_errors(401, *codes, 503), "403": _E403_SCOPE}


def _listing(key: str, item: Schema) -> Schema:
    return _obj({key: {"type": "array", "items": item}, "next_cursor": _NULLABLE_STR},
                [key, "next_cursor"])


def _admin() -> Schema:
    user_id = [_path_param("user_id", "usr_01HZX")]
    page = [{"name": "limit", "in": "query", "required": False,
             "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 50}},
            {**_query("cursor"), "description": "next_cursor of the previous page (sealed to "
                                                "the query: 400 with another query)"}]
    patch = _obj({"name": _NULLABLE_STR, "email": _EMAIL, "email_verified": _BOOL,
                  "disabled": _BOOL}, extra=False)
    create = _obj({"email": _EMAIL, "password": _NEW_PASSWORD, "name": _NULLABLE_STR},
                  ["email", "password"])
    user = _ok("the user", _ADMIN_USER)
    return {
        "/admin/v1/users": {
            "get": _op("adminSearchUsers", "Users whose email or name starts with query "
                       "(case-insensitive; all users without it), oldest first",
                       {"200": _ok("a page", _listing("users", _ADMIN_USER)),
                        **_admin_errors(400)}, security=_ADMIN,
                       params=[_query("query"), *page]),
            "post": _op("adminCreateUser", "Create a user (sign-up's rules, no rate limit)",
                        {"201": user, **_admin_errors(400, 409, 413, 415)}, security=_ADMIN,
                        body=_content(create, _SIGN_UP_EXAMPLE)),
        },
        "/admin/v1/users/{user_id}": {
            "get": _op("adminGetUser", "One user", {"200": user, **_admin_errors(404)},
                       security=_ADMIN, params=user_id),
            "patch": _op("adminUpdateUser", "Change name, email (canonical, 409 if taken; "
                         "unverified unless email_verified says so), email_verified or disabled "
                         "(disabling ends every session and family)",
                         {"200": user, **_admin_errors(400, 404, 409, 413, 415)},
                         security=_ADMIN, params=user_id,
                         body=_content(patch, {"disabled": True})),
            "delete": _op("adminDeleteUser", "Delete the user as DELETE /v1/me does",
                          {"204": _ok("deleted"), **_admin_errors(404)}, security=_ADMIN,
                          params=user_id),
        },
        "/admin/v1/users/{user_id}/sessions": {
            "get": _op("adminListSessions", "The user's cookie sessions and refresh families",
                       {"200": _ok("sessions", _obj({"sessions": {
                           "type": "array", "items": _ADMIN_SESSION}}, ["sessions"])),
                        **_admin_errors(404)}, security=_ADMIN, params=user_id),
            "delete": _op("adminRevokeSessions", "End every session and family of the user",
                          {"200": _ok("how many ended", _obj({"revoked": _INT}, ["revoked"])),
                           **_admin_errors(404)}, security=_ADMIN, params=user_id),
        },
        "/admin/v1/users/{user_id}/mfa": {"delete": _op(
            "adminResetMfa", "Remove the user's second factors (TOTP, recovery codes, passkeys): "
            "their next login needs only the first factor",
            {"204": _ok("removed"), **_admin_errors(404)}, security=_ADMIN, params=user_id)},
        "/admin/v1/users/{user_id}/password-reset": {"post": _op(
            "adminPasswordReset", "End every session and family, then mail a reset link",
            {"202": _ok("the link is on its way"), **_admin_errors(404, 409)},
            security=_ADMIN, params=user_id)},
        "/admin/v1/audit": {"get": _op(
            "adminAudit", "Audit events, newest first, filtered by user id, event name and "
            "since (Unix seconds)",
            {"200": _ok("a page", _listing("events", _AUDIT_EVENT)), **_admin_errors(400)},
            security=_ADMIN, params=[_query("user"), _query("event"), _query("since"), *page])},
        "/admin/v1/keys": {"get": _op(
            "adminListKeys", "Signing keys and their states (never a private key)",
            {"200": _ok("keys", _obj({"keys": {"type": "array", "items": _KEY}}, ["keys"])),
             **_admin_errors()}, security=_ADMIN)},
        "/admin/v1/keys/rotate": {"post": _op(
            "adminRotateKeys", "The published next key starts signing; a new next is published",
            {"200": _ok("the new active key", _obj({"active": _STR}, ["active"])),
             **_admin_errors()}, security=_ADMIN)},
        "/admin/v1/webhooks/deliveries": {"get": _op(
            "adminWebhookDeliveries", "Webhook deliveries, newest first (never a payload), by "
            "endpoint name and status (pending, delivered, failed)",
            {"200": _ok("a page", _listing("deliveries", _DELIVERY)), **_admin_errors(400)},
            security=_ADMIN, params=[_query("endpoint"), _query("status"), *page])},
    }


def _html(description: str) -> Schema:
    return {"description": description, "content": {"text/html": {"schema": _STR}}}


_PAGE_STATUSES = {
    "400": "a field or a hand-off parameter was refused (the page says why)",
    "401": "sign in (again) first", "403": "the form's CSRF token or origin was refused",
    "404": "not available", "409": "the address is taken",
    "413": "the form is too large", "415": "send the form as application/x-www-form-urlencoded",
    "429": "too many attempts (Retry-After)",
}
_REDIRECT: Schema = {"description": "post-redirect-get, or the hand-off to return_to",
                     "headers": {"Location": {"schema": _STR}}}
_HANDOFF_QUERY = [_query("return_to"), _query("mode", ["session", "token"]), _query("client_id"),
                  _query("code_challenge"), _query("code_challenge_method", ["S256"]),
                  _query("state"), _query("lang", ["en", "ko"])]
_PAGE_FORM: Schema = {_FORM: {"schema": {"type": "object", "properties": {
    "csrf_token": _STR}, "required": ["csrf_token"], "additionalProperties": {"type": "string"}}}}


def _page(op_id: str, summary: str, *, post: bool = True, handoff: bool = False,
          token: bool = False) -> Schema:
    """A hosted page: GET shows it (HTML), POST submits its form (CSRF token required)."""
    errors = {status: _html(text) for status, text in _PAGE_STATUSES.items()}
    params = [*(_HANDOFF_QUERY if handoff else [_query("lang", ["en", "ko"])]),
              *([_query("token")] if token else [])]
    ops: Schema = {"get": _op(f"page_{op_id}", f"Page: {summary}", {
        "200": _html("the page"), "302": _REDIRECT, "303": _REDIRECT, **errors},
        security=_PUBLIC, params=params)}
    if post:
        ops["post"] = _op(f"page_{op_id}_submit", f"Page: {summary} (form)", {
            "200": _html("the page again, with a notice or the refusal"), "302": _REDIRECT,
            "303": _REDIRECT, **errors}, security=_PUBLIC, body=_PAGE_FORM)
    return ops


def _static(op_id: str, summary: str, media: str) -> Schema:
    return {"get": _op(op_id, summary, {"200": {"description": summary, "content": {
        media: {"schema": _STR}}}}, security=_PUBLIC)}


def _pages() -> Schema:
    """The hosted pages for people (HTML, not JSON): see docs/pages.md."""
    return {
        "/": _page("home", "links to sign in, the account and this document", post=False),
        "/login": _page("login", "sign in with a password, a passkey (challenge_id and "
                                  "credential fields) or a social provider", handoff=True),
        "/signup": _page("signup", "create an account", handoff=True),
        "/sign-in": _page("sign_in", "sign in with a mailed code or link", handoff=True,
                          token=True),
        "/mfa": _page("mfa", "the second step of a sign-in: a TOTP or recovery code, or a "
                       "passkey, for the sign-in waiting in the sealed authd_mfa cookie"),
        "/logout": _page("logout", "sign out"),
        "/forgot-password": _page("forgot_password", "ask for a password-reset link"),
        "/reset-password": _page("reset_password", "choose a new password", token=True),
        "/verify-email": _page("verify_email", "verify the account's address", token=True),
        "/confirm-email": _page("confirm_email", "confirm a new address", token=True),
        "/account": _page("account", "profile, email, password, two-step sign-in, passkeys, "
                                      "sessions, linked providers, deleting the account"),
        "/ui/style.css": _static("page_stylesheet", "The pages' stylesheet", "text/css"),
        "/ui/theme.css": _static("page_theme", "The pages' colours ([ui] primary_color)",
                                 "text/css"),
        "/ui/passkeys.js": _static("page_script", "The pages' only script (passkeys)",
                                   "text/javascript"),
    }


def _components() -> Schema:
    return {
        "schemas": {
            "Error": _obj({"error": _STR, "error_description": _STR}, ["error"]),
            "PasswordGrant": _grant("password", {"username": _TEXT, "password": _ANY_PASSWORD},
                                    ["username", "password"]),
            "RefreshTokenGrant": _grant("refresh_token", {"refresh_token": _TEXT},
                                        ["refresh_token"]),
            "AuthorizationCodeGrant": _grant(
                "authorization_code", {"code": _TEXT, "code_verifier": _STR}, ["code"]),
            "ClientCredentialsGrant": _grant("client_credentials", {}, []),
            "PasskeyGrant": _grant(
                _PASSKEY_GRANT, {"challenge_id": _CHALLENGE_ID, "credential": {
                    **_TEXT, "description": "the assertion (navigator.credentials.get(), user "
                                            "verification required) as JSON text"}},
                ["challenge_id", "credential"]),
            "MfaGrant": _grant(_MFA_GRANT, _SECOND_FACTOR, ["mfa_token"]),
            "EmailCodeGrant": _grant(
                _EMAIL_CODE_GRANT, {"email": _EMAIL, "code": _CODE, "token": {
                    **_MAIL_TOKEN, "description": "the sign-in link's token, instead of email "
                                                  "and code"}}, []),
        },
        "responses": {f"E{status}": _error_response(status) for status in _ERROR_TEXT},
        "securitySchemes": {
            "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT",
                       "description": "an access token from POST /v1/token"},
            "cookie": {"type": "apiKey", "in": "cookie", "name": "authd_session",
                       "description": "the session cookie from POST /v1/session (named "
                                      "__Host-authd_session on an https issuer)"},
            "csrf": {"type": "apiKey", "in": "header", "name": "X-CSRF-Token",
                     "description": "the session's csrf_token; required with the cookie on "
                                    "unsafe methods"},
            "clientBasic": {"type": "http", "scheme": "basic",
                            "description": "client_secret_basic (RFC 6749 2.3.1)"},
        },
    }


@cache
def openapi_document() -> dict[str, Any]:
    """Built once; tests compare it with the app's routes and fuzz a server against it."""
    paths: dict[str, Any] = {**_accounts(), **_oauth2(), **_sessions(), **_email(),
                             **_identities(), **_passkeys(), **_mfa(), **_public(),
                             **_your_data(), **_admin(), **_pages()}
    return {
        "openapi": "3.1.0",
        "info": {"title": "authd", "version": authd.__version__,
                 "description": "Authentication server: sessions and tokens side by side. This "
                                "document is the contract of the HTTP API."},
        "paths": paths,
        "components": _components(),
    }


def extend(path: str, method: str, operation: dict[str, Any]) -> None:
    """Let optional features (social login, cookie sessions) document their routes."""
    openapi_document()["paths"].setdefault(path, {})[method] = operation
