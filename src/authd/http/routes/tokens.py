"""The OAuth 2.0 endpoints: token (RFC 6749), revoke (RFC 7009), introspect (RFC 7662).

The token endpoint's grants: password, refresh_token, authorization_code (a
social login's one-time code), authd's email code and passkey grants,
client_credentials (a registered client's own token, RFC 6749 4.4), and authd's mfa
grant (the second step of a login that answered ``mfa_required``). A confidential
client authenticates with its secret (HTTP Basic or the form) or a signed assertion
(RFC 7523 ``private_key_jwt``).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from authd.core import amr
from authd.core.client_auth import Presented, presented_assertion
from authd.core.clients import Client
from authd.core.models import ClientInfo, RefreshFamily, User
from authd.core.second_step import Binding, Proof
from authd.core.tokens import TokenPair
from authd.errors import (
    EmailNotVerified,
    EmailNotVerifiedGrant,
    InvalidCredentials,
    InvalidEmailToken,
    InvalidGrant,
    InvalidRequest,
    UnsupportedGrantType,
)
from authd.http.auth import services
from authd.http.requests import basic_credentials, client_info, read_params
from authd.http.responses import NO_STORE, json_response
from authd.http.routes.email import sign_in_by_email
from authd.wiring import UseCases

EMAIL_CODE_GRANT = "urn:authd:params:oauth:grant-type:email-code"
PASSKEY_GRANT = "urn:authd:params:oauth:grant-type:passkey"
MFA_GRANT = "urn:authd:params:oauth:grant-type:mfa"


def _credentials(request: Request, params: dict[str, str]) -> Presented:
    """The client credentials the request presents: HTTP Basic, the form's secret, or a signed
    assertion (RFC 7523), never two of them."""
    basic = basic_credentials(request)
    assertion = presented_assertion(params.get("client_assertion_type"),
                                    params.get("client_assertion"))
    if [basic is not None, "client_secret" in params, assertion is not None].count(True) > 1:
        raise InvalidRequest("use one client authentication method")
    if basic is not None:
        client_id, secret = basic
        if params.get("client_id", client_id) != client_id:
            raise InvalidRequest("client_id does not match the authenticated client")
        return Presented(client_id, secret, "client_secret_basic")
    if assertion is not None:
        return Presented(params.get("client_id"), None, "private_key_jwt", assertion)
    form_secret = params.get("client_secret")
    return Presented(params.get("client_id"), form_secret,
                     "client_secret_post" if form_secret is not None else "none")


async def _client(request: Request, params: dict[str, str], svc: UseCases, *,
                  confidential_only: bool = False) -> Client:
    """The calling client; a confidential client's failures are counted and audited."""
    return await svc.client_auth.authenticate(_credentials(request, params), client_info(request),
                                              confidential_only=confidential_only)


def _required(params: dict[str, str], name: str) -> str:
    value = params.get(name)
    if not value:
        raise InvalidRequest(f"missing parameter: {name}")
    return value


async def token(request: Request) -> Response:
    svc = services(request)
    params = await read_params(request, svc.settings.max_body_bytes)
    grant = _required(params, "grant_type")
    who = client_info(request)
    if grant == "client_credentials":  # its credential check is counted by the brute-force guard
        machine = await svc.client_credentials.issue(
            _credentials(request, params), params.get("scope"),
            params.get("audience") or params.get("resource"), who)
        return json_response(machine.as_response(), headers=NO_STORE)
    client = await _client(request, params, svc)
    if grant == "password":
        username, password = _required(params, "username"), _required(params, "password")
        scope = svc.tokens.resolve_scope(params.get("scope"), client.scopes)
        audience = svc.tokens.resolve_audience(params.get("audience") or params.get("resource"))
        try:
            user = await svc.accounts.authenticate(username, password, who)
        except InvalidCredentials:
            raise InvalidGrant("wrong email or password") from None
        except EmailNotVerified as exc:
            raise EmailNotVerifiedGrant(exc.description) from None
        pair = await _start(svc, user, Binding.for_tokens((amr.PASSWORD,), client.id, scope,
                                                          audience), who)
    elif grant == EMAIL_CODE_GRANT:  # a mailed sign-in code (with its address) or link token
        scope = svc.tokens.resolve_scope(params.get("scope"), client.scopes)
        audience = svc.tokens.resolve_audience(params.get("audience") or params.get("resource"))
        if "token" not in params:
            _required(params, "email")
            _required(params, "code")
        try:
            user = await sign_in_by_email(request, params.get("email"), params.get("code"),
                                          params.get("token"))
        except InvalidEmailToken as exc:
            raise InvalidGrant(exc.description) from None
        pair = await _start(svc, user, Binding.for_tokens((amr.EMAIL,), client.id, scope,
                                                          audience), who)
    elif grant == PASSKEY_GRANT:  # a passkey assertion with user verification: a whole login
        scope = svc.tokens.resolve_scope(params.get("scope"), client.scopes)
        audience = svc.tokens.resolve_audience(params.get("audience") or params.get("resource"))

        def passkey_family(user: User) -> RefreshFamily:
            # possession and user verification in one act: no second step is asked
            return svc.tokens.new_family(user, client.id, scope, audience, who,
                                         amr=(amr.HARDWARE_KEY, amr.USER_PRESENCE))

        try:
            signed_in = await svc.passkeys.sign_in(_required(params, "challenge_id"),
                                                   _required(params, "credential"), who,
                                                   family_for=passkey_family)
        except InvalidCredentials as exc:
            raise InvalidGrant(exc.description) from None
        assert signed_in.family is not None  # stored in the passkey use's own commit
        pair = svc.tokens.first_pair(signed_in.family)
    elif grant == "authorization_code":  # a social login's one-time code (token mode)
        scope = svc.tokens.resolve_scope(params.get("scope"), client.scopes)
        audience = svc.tokens.resolve_audience(params.get("audience") or params.get("resource"))
        pair = await svc.social.exchange_code(_required(params, "code"), client.id,
                                              params.get("code_verifier"), scope, audience, who)
    elif grant == MFA_GRANT:
        pair = await _finish_second_step(svc, params, client, who)
    elif grant == "refresh_token":
        pair = await svc.tokens.refresh(_required(params, "refresh_token"), client.id,
                                        params.get("scope"), who)
    else:
        raise UnsupportedGrantType()
    return json_response(pair.as_response(), headers=NO_STORE)


async def _start(svc: UseCases, user: User, binding: Binding, who: ClientInfo) -> TokenPair:
    """A login's tokens, unless the user has a second factor (then 400 ``mfa_required``)."""
    await svc.second_step.gate(user, binding)
    return await svc.tokens.start_family(user, binding.client_id, binding.scope,
                                         binding.audience, who, amr=binding.amr)


async def _finish_second_step(svc: UseCases, params: dict[str, str], client: Client,
                              who: ClientInfo) -> TokenPair:
    proof = Proof(otp=params.get("otp"), recovery_code=params.get("recovery_code"),
                  credential=params.get("credential"))
    def family_for(user: User, b: Binding, methods: tuple[str, ...]) -> RefreshFamily:
        return svc.tokens.new_family(user, client.id, b.scope, b.audience, who, amr=methods,
                                     family_id=b.family_id)

    try:
        done = await svc.second_step.complete(_required(params, "mfa_token"), proof, "token",
                                              client.id, who, family_for=family_for)
    except InvalidCredentials as exc:
        raise InvalidGrant(exc.description) from None
    if done.family is not None:  # stored in the second step's own commit
        return svc.tokens.first_pair(done.family)
    b = done.binding
    return await svc.tokens.start_family(done.user, client.id, b.scope, b.audience, who,
                                         amr=done.amr, family_id=b.family_id)


async def revoke(request: Request) -> Response:
    svc = services(request)
    await svc.guard.check_revoke(client_info(request).ip or "unknown")
    params = await read_params(request, svc.settings.max_body_bytes)
    client = await _client(request, params, svc)
    await svc.tokens.revoke_token(_required(params, "token"), params.get("token_type_hint"),
                                  client.id, client_info(request))
    return Response(status_code=200, headers=NO_STORE)


async def introspect(request: Request) -> Response:
    svc = services(request)
    params = await read_params(request, svc.settings.max_body_bytes)
    await _client(request, params, svc, confidential_only=True)
    return json_response(await svc.tokens.introspect(_required(params, "token")), headers=NO_STORE)
