"""The authorization request, the callback checks and ID token validation, without a network."""

from __future__ import annotations

import hashlib
import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from authd import jose
from authd.core.ids import b64url
from authd.core.social_models import new_pending
from authd.errors import InvalidIdToken, InvalidState, ProviderRefused
from authd.oauth.idtoken import validate_id_token
from authd.oauth.request import authorize_url, check_callback, code_challenge

NOW = 1_700_000_000.0
ISSUER = "https://id.example"


def test_authorize_url_carries_state_nonce_and_pkce_s256() -> None:
    """The redirect to the provider has fresh 256-bit state and nonce and an S256 challenge."""
    pending = new_pending("acme", "https://app.example/cb", "session", NOW)
    url = authorize_url("https://id.example/authorize", client_id="authd-client",
                        redirect_uri="https://auth.example/v1/oauth/acme/callback",
                        scopes=("openid", "email"), pending=pending)
    query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    assert query["state"] == pending.state and query["nonce"] == pending.nonce
    assert query["code_challenge_method"] == "S256" and query["response_type"] == "code"
    assert query["code_challenge"] == b64url(hashlib.sha256(pending.code_verifier.encode()).digest())
    assert len(pending.state) >= 43 and pending.state != new_pending("acme", "x", "token", NOW).state


def test_rfc7636_appendix_b_challenge() -> None:
    """RFC 7636 Appendix B: the published verifier gives the published challenge."""
    assert code_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk") == \
        "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


def _callback(**changes: Any) -> tuple[Any, dict[str, str], str | None]:
    pending = new_pending("acme", "https://app.example/cb", "session", NOW)
    params = {"state": pending.state, "code": "the-code", "iss": ISSUER}
    params.update(changes.pop("params", {}))
    return pending, params, changes.pop("binding", pending.browser_binding)


def test_valid_callback_yields_the_code() -> None:
    """The right state from the right browser, in time, from the right issuer."""
    pending, params, binding = _callback()
    assert check_callback(pending, params, binding, now=NOW + 5, issuer=ISSUER,
                          issuer_required=False) == "the-code"


@pytest.mark.parametrize("case", ["missing state", "wrong state", "other browser", "no cookie",
                                  "expired", "replayed"])
def test_state_attacks_are_refused(case: str) -> None:
    """Missing, wrong, replayed or expired state, or state from another browser: refused."""
    pending, params, binding = _callback()
    now = NOW + 5
    if case == "missing state":
        del params["state"]
    elif case == "wrong state":
        params["state"] = "x" * 43
    elif case == "other browser":
        binding = "another-browser-binding"
    elif case == "no cookie":
        binding = None
    elif case == "expired":
        now = NOW + 601
    elif case == "replayed":
        pending = None  # the store hands a pending login out once: a replay finds nothing
    with pytest.raises(InvalidState):
        check_callback(pending, params, binding, now=now, issuer=ISSUER, issuer_required=False)


def test_mix_up_iss_of_another_provider_is_refused() -> None:
    """RFC 9207: an iss parameter naming another provider is refused, back to the app."""
    pending, params, binding = _callback(params={"iss": "https://evil.example"})
    with pytest.raises(InvalidState) as caught:
        check_callback(pending, params, binding, now=NOW, issuer=ISSUER, issuer_required=False)
    assert caught.value.redirect_to == "https://app.example/cb"
    del params["iss"]
    with pytest.raises(InvalidState):
        check_callback(pending, params, binding, now=NOW, issuer=ISSUER, issuer_required=True)


def test_provider_error_goes_back_to_the_app() -> None:
    """A provider's error answer becomes a redirect to the app, not a server error."""
    pending, params, binding = _callback(params={"error": "access_denied"})
    with pytest.raises(ProviderRefused) as caught:
        check_callback(pending, params, binding, now=NOW, issuer=ISSUER, issuer_required=False)
    assert caught.value.redirect_to == "https://app.example/cb"


@pytest.fixture(scope="module")
def provider_key() -> jose.Key:
    """The provider's RS256 signing key, shared by the module's ID tokens."""
    return jose.generate_key("RS256")


def _id_token(key: jose.Key, **changes: Any) -> str:
    claims = {"iss": ISSUER, "sub": "248289761001", "aud": "authd-client", "nonce": "n-0S6",
              "iat": int(NOW), "exp": int(NOW) + 300, "email": "jane@example.com"}
    claims.update(changes)
    return jose.encode_jwt({k: v for k, v in claims.items() if v is not None}, key)


def _validate(token: str, key: jose.Key) -> dict[str, Any]:
    keys = jose.KeySet.from_jwks({"keys": [key.public_jwk()]})
    return validate_id_token(token, keys, issuers=[ISSUER], client_id="authd-client",
                             nonce="n-0S6", now=NOW + 10)


def test_valid_id_token(provider_key: jose.Key) -> None:
    """A well-formed ID token from the provider's key is accepted."""
    assert _validate(_id_token(provider_key), provider_key)["sub"] == "248289761001"


@pytest.mark.parametrize("changes", [
    {"iss": "https://other.example"}, {"aud": "someone-else"}, {"exp": int(NOW) - 120},
    {"nonce": "other"}, {"nonce": None}, {"aud": ["authd-client", "other"]},
    {"aud": ["authd-client", "other"], "azp": "other"}, {"iat": int(NOW) + 600}, {"sub": None},
])
def test_bad_claims_are_refused(provider_key: jose.Key, changes: dict[str, Any]) -> None:
    """Wrong iss/aud/azp/nonce, expired or future tokens are refused."""
    with pytest.raises(InvalidIdToken):
        _validate(_id_token(provider_key, **changes), provider_key)


def test_several_audiences_with_our_azp_are_accepted(provider_key: jose.Key) -> None:
    """With several audiences, azp naming us makes the token acceptable."""
    token = _id_token(provider_key, aud=["authd-client", "other"], azp="authd-client")
    assert _validate(token, provider_key)["sub"]


def test_signature_attacks_are_refused(provider_key: jose.Key) -> None:
    """alg none, HS256 with the provider's public key, a stranger's key, an embedded jwk."""
    import hmac as hmac_module

    import orjson

    def b64(data: bytes) -> str:
        return b64url(data)

    body = b64(orjson.dumps({"iss": ISSUER, "sub": "x", "aud": "authd-client", "nonce": "n-0S6",
                             "iat": int(NOW), "exp": int(NOW) + 300}))
    none_head = b64(orjson.dumps({"alg": "none"}))
    none = f"{none_head}.{body}."
    public_pem = orjson.dumps(provider_key.public_jwk())
    head = b64(orjson.dumps({"alg": "HS256", "kid": provider_key.kid}))
    confused = f"{head}.{body}.{b64(hmac_module.digest(public_pem, f'{head}.{body}'.encode(), 'sha256'))}"
    stranger = jose.generate_key("RS256")
    foreign = _id_token(stranger)
    embedded_head = b64(orjson.dumps({"alg": "RS256", "kid": stranger.kid,
                                      "jwk": stranger.public_jwk()}))
    signing_input = f"{embedded_head}.{body}".encode()
    embedded = f"{signing_input.decode()}.{b64(stranger.sign(signing_input))}"
    for token in (none, confused, foreign, embedded):
        with pytest.raises(InvalidIdToken):
            _validate(token, provider_key)


def test_time_is_a_parameter(provider_key: jose.Key) -> None:
    """Expiry is judged against the time given, with a 60 s leeway."""
    token = _id_token(provider_key)
    keys = jose.KeySet.from_jwks({"keys": [provider_key.public_jwk()]})
    validate_id_token(token, keys, issuers=[ISSUER], client_id="authd-client", nonce="n-0S6",
                      now=NOW + 359)
    with pytest.raises(InvalidIdToken):
        validate_id_token(token, keys, issuers=[ISSUER], client_id="authd-client", nonce="n-0S6",
                          now=time.time())


def _id_token_typed(key: jose.Key, typ: str | None) -> str:
    import orjson

    claims = {"iss": ISSUER, "sub": "248289761001", "aud": "authd-client", "nonce": "n-0S6",
              "iat": int(NOW), "exp": int(NOW) + 300}
    return jose.encode_jws(orjson.dumps(claims), key, typ=typ)


@pytest.mark.parametrize("typ", ["at+jwt", "application/at+jwt", "logout+jwt",
                                 "secevent+jwt", "JOSE", "jwt ", ""])
def test_a_token_of_another_type_is_not_an_id_token(provider_key: jose.Key, typ: str) -> None:
    """A provider's access or logout token, signed by the same key with our audience and
    nonce, cannot be passed off as the ID token of a login."""
    with pytest.raises(InvalidIdToken, match="typ"):
        _validate(_id_token_typed(provider_key, typ), provider_key)


@pytest.mark.parametrize("typ", [None, "JWT", "jwt", "application/jwt", "Application/JWT"])
def test_id_tokens_without_typ_or_typed_jwt_are_accepted(provider_key: jose.Key,
                                                         typ: str | None) -> None:
    """Providers that omit typ or spell JWT in any casing (RFC 7515 4.1.9) keep working."""
    assert _validate(_id_token_typed(provider_key, typ), provider_key)["sub"] == "248289761001"
