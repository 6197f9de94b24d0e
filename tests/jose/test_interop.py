"""Interoperability both ways with PyJWT and joserfc (test oracles), for every algorithm."""

from __future__ import annotations

import jwt as pyjwt
import pytest
from joserfc import jwt as rfc_jwt
from joserfc.jwk import import_key

from authd import jose
from authd.jose._b64 import b64url_decode
from tests.jose.conftest import AUDIENCE, ISSUER, NOW, claims, decode, verifying

# joserfc flags "EdDSA" as deprecated by RFC 9864 (fully specified "Ed25519"); authd
# signs with EdDSA, which is what verifiers deployed today understand.
pytestmark = pytest.mark.filterwarnings("ignore:EdDSA is deprecated")

PYJWT_ALGS = {"ES256": "ES256", "EdDSA": "EdDSA", "RS256": "RS256", "HS256": "HS256"}


def _pyjwt_key(key: jose.Key, private: bool) -> object:
    if key.kty == "oct":
        return b64url_decode(key.private_jwk()["k"].encode())
    jwk = key.private_jwk() if private else key.public_jwk()
    return pyjwt.PyJWK(jwk).key


def test_authd_tokens_verify_in_pyjwt(key: jose.Key) -> None:
    """A token authd signs is accepted by PyJWT with the published key."""
    token = jose.encode_jwt(claims(exp=int(NOW) + 10**9), key, typ="at+jwt")
    decoded = pyjwt.decode(token, _pyjwt_key(key, private=False),  # type: ignore[arg-type]
                           algorithms=[PYJWT_ALGS[key.alg]], audience=AUDIENCE, issuer=ISSUER)
    assert decoded["sub"] == "user-1"
    assert pyjwt.get_unverified_header(token)["kid"] == key.kid


def test_pyjwt_tokens_verify_in_authd(key: jose.Key) -> None:
    """A token PyJWT signs (with typ at+jwt and our kid) is accepted by authd."""
    token = pyjwt.encode(claims(), _pyjwt_key(key, private=True),  # type: ignore[arg-type]
                         algorithm=PYJWT_ALGS[key.alg],
                         headers={"kid": key.kid, "typ": "at+jwt"})
    assert decode(token, verifying(key))["sub"] == "user-1"


def test_authd_tokens_verify_in_joserfc(key: jose.Key) -> None:
    """A token authd signs is accepted by joserfc."""
    token = jose.encode_jwt(claims(), key, typ="at+jwt")
    jwk = key.private_jwk() if key.kty == "oct" else key.public_jwk()
    rfc_key = import_key(jwk)
    decoded = rfc_jwt.decode(token, rfc_key, algorithms=[key.alg])
    assert decoded.claims["sub"] == "user-1" and decoded.header["typ"] == "at+jwt"


def test_joserfc_tokens_verify_in_authd(key: jose.Key) -> None:
    """A token joserfc signs is accepted by authd."""
    rfc_key = import_key(key.private_jwk())
    token = rfc_jwt.encode({"alg": key.alg, "kid": key.kid, "typ": "at+jwt"}, claims(), rfc_key,
                           algorithms=[key.alg])
    assert decode(token, verifying(key))["sub"] == "user-1"


@pytest.mark.parametrize("alg", ["ES256", "EdDSA", "RS256", "HS256"])
def test_thumbprints_match_joserfc(alg: str) -> None:
    """kid = RFC 7638 thumbprint, computed as joserfc computes it."""
    key = jose.generate_key(alg)
    assert key.kid == import_key(key.private_jwk()).thumbprint()


def test_public_jwks_carry_no_private_members() -> None:
    """Published JWKs never contain private key material."""
    for alg in ("ES256", "EdDSA", "RS256"):
        jwk = jose.generate_key(alg).public_jwk()
        assert not {"d", "p", "q", "dp", "dq", "qi", "k"} & set(jwk)
        assert jwk["use"] == "sig" and jwk["alg"] == alg
    with pytest.raises(jose.InvalidKey):
        jose.generate_key("HS256").public_jwk()


def test_private_jwk_round_trips() -> None:
    """A key stored as its private JWK loads back to the same key."""
    for alg in ("ES256", "EdDSA", "RS256", "HS256"):
        key = jose.generate_key(alg)
        again = jose.key_from_jwk(key.private_jwk())
        assert again.kid == key.kid and again.alg == alg
        token = jose.encode_jwt(claims(), again, typ="at+jwt")
        assert decode(token, verifying(key))["sub"] == "user-1"


@pytest.mark.parametrize("jwk", [
    {"kty": "EC", "crv": "P-256", "x": "AAAA", "y": "AAAA"},
    {"kty": "EC", "crv": "P-256", "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
     "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a1"},
    {"kty": "EC", "crv": "secp256k1", "x": "AA", "y": "AA"},
    {"kty": "EC", "crv": "P-256", "alg": "RS256", "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
     "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"},
    {"kty": "oct", "k": "c2hvcnQ", "alg": "HS256"},
    {"kty": "RSA", "n": "AQAB", "e": "AQAB", "alg": "RS256"},
    {"kty": "OKP", "crv": "X25519", "x": "AAAA"},
    {"kty": "unknown"},
    {"kty": "EC", "crv": "P-256", "use": "enc", "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
     "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"},
    "not a jwk",
])
def test_bad_jwks_are_refused(jwk: object) -> None:
    """Off-curve points, short keys, mismatched alg/kty and junk are InvalidKey."""
    with pytest.raises(jose.InvalidKey):
        jose.key_from_jwk(jwk)  # type: ignore[arg-type]


def test_keyset_from_jwks_skips_encryption_keys_and_refuses_private_material() -> None:
    """A JWKS yields signing keys only; private members in a public set are refused."""
    sig = jose.generate_key("ES256")
    enc = {**jose.generate_key("ES256").public_jwk(), "use": "enc"}
    keys = jose.KeySet.from_jwks({"keys": [sig.public_jwk(), enc]})
    assert len(keys) == 1 and sig.kid in keys
    with pytest.raises(jose.InvalidKey):
        jose.KeySet.from_jwks({"keys": [sig.private_jwk()]})
    with pytest.raises(jose.InvalidKey):
        jose.KeySet.from_jwks({"nokeys": []})
    rsa_without_alg = {k: v for k, v in jose.generate_key("RS256").public_jwk().items() if k != "alg"}
    assert jose.KeySet.from_jwks({"keys": [rsa_without_alg]}, default_alg="RS256").keys[0].alg == "RS256"


PUBLIC_NAMES = [
    "BadSignature", "Denylist", "ExpiredToken", "InvalidAudience", "InvalidClaim", "InvalidIssuer",
    "InvalidKey", "InvalidToken", "InvalidType", "JoseError", "JwksCache", "Key", "KeySet",
    "MalformedToken", "MissingClaim", "NotYetValid", "RevocationKind", "RevokedToken",
    "SUPPORTED_ALGS", "TokenTooLarge", "UnknownKey", "UnsupportedAlgorithm", "check_type",
    "decode_jws", "decode_jwt", "encode_jws", "encode_jwt", "generate_key", "key_from_jwk",
    "validate_claims",
]


def test_public_names_are_pinned() -> None:
    """authd.jose exports exactly these names, each importable: a change to the API is deliberate."""
    assert sorted(jose.__all__) == PUBLIC_NAMES
    assert all(hasattr(jose, name) for name in PUBLIC_NAMES)


def test_every_codec_error_has_one_root() -> None:
    """One `except JoseError` catches any codec failure; token and key failures stay apart."""
    assert issubclass(jose.InvalidToken, jose.JoseError) and issubclass(jose.InvalidKey, jose.JoseError)
    assert not issubclass(jose.InvalidKey, jose.InvalidToken)
    assert not issubclass(jose.InvalidToken, jose.InvalidKey)


def test_no_server_error_shares_a_name_with_a_codec_error() -> None:
    """`InvalidToken` means one thing: the codec's (and authd.verify's) token failure.

    The server's 401 is `Unauthenticated`; a reader never has to ask which InvalidToken is meant.
    """
    from authd import errors
    from authd import errors as social_errors  # social-login errors are in the one tree

    codec = {name for name in PUBLIC_NAMES if name[0].isupper()}
    server = {name for module in (errors, social_errors) for name, value in vars(module).items()
              if isinstance(value, type) and issubclass(value, errors.AuthdError)}
    assert codec & server == set()
    assert errors.Unauthenticated().status == 401 and errors.Unauthenticated.code == "invalid_token"
