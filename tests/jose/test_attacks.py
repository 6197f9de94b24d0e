"""Attacks on the codec, each its own test: every one is refused with an InvalidToken subclass."""

from __future__ import annotations

import secrets

import pytest
from cryptography.hazmat.primitives import serialization

from authd import jose
from tests.jose.conftest import NOW, b64, claims, decode, forge, verifying


@pytest.mark.parametrize("alg", ["none", "None", "NONE", "nOnE"])
def test_alg_none_in_every_casing_is_refused(es256: jose.Key, alg: str) -> None:
    """An unsigned token is never accepted, however 'none' is spelled."""
    token = forge({"alg": alg, "kid": es256.kid, "typ": "at+jwt"}, claims())
    with pytest.raises(jose.UnsupportedAlgorithm):
        decode(token, verifying(es256))
    with pytest.raises(jose.InvalidToken):
        decode(token.rsplit(".", 1)[0] + ".", verifying(es256))


def _public_forms(key: jose.Key) -> list[bytes]:
    public = key.public_key()._public  # type: ignore[attr-defined]
    pem = public.public_bytes(serialization.Encoding.PEM,
                              serialization.PublicFormat.SubjectPublicKeyInfo)
    der = public.public_bytes(serialization.Encoding.DER,
                              serialization.PublicFormat.SubjectPublicKeyInfo)
    import orjson
    return [pem, der, orjson.dumps(key.public_jwk())]


@pytest.mark.parametrize("alg", ["RS256", "ES256", "EdDSA"])
def test_public_key_as_hmac_secret_is_refused(alg: str) -> None:
    """Algorithm confusion: HS256 'signed' with the public key (PEM, DER, JWK) never verifies."""
    import hashlib
    import hmac

    key = jose.generate_key(alg)
    keys = verifying(key)
    for secret in _public_forms(key):
        header = b64(b'{"alg":"HS256","kid":"' + key.kid.encode() + b'","typ":"at+jwt"}')
        body = b64(__import__("orjson").dumps(claims()))
        signing_input = f"{header}.{body}".encode()
        tag = hmac.new(secret, signing_input, hashlib.sha256).digest()
        with pytest.raises(jose.UnsupportedAlgorithm):
            decode(f"{header}.{body}.{b64(tag)}", keys)


@pytest.mark.parametrize("member", ["jwk", "jku", "x5u", "x5c"])
def test_keys_embedded_in_the_header_are_refused(member: str) -> None:
    """A token bringing its own key (or a URL to one) is refused even if it verifies with it."""
    attacker = jose.generate_key("ES256")
    value: object = attacker.public_jwk() if member == "jwk" else (
        ["MIIB"] if member == "x5c" else "https://evil.example/keys")
    header = {"alg": "ES256", "kid": attacker.kid, "typ": "at+jwt", member: value}
    import orjson
    signing_input = f"{b64(orjson.dumps(header))}.{b64(orjson.dumps(claims()))}".encode()
    token = signing_input.decode() + "." + b64(attacker.sign(signing_input))
    with pytest.raises(jose.UnsupportedAlgorithm):
        decode(token, verifying(attacker))


@pytest.mark.parametrize("kid", ["../../etc/passwd", "' OR 1=1 --", "\u0000", "a" * 300, "",
                                 "%2e%2e%2f"])
def test_hostile_kids_are_unknown_keys(es256: jose.Key, kid: str) -> None:
    """Path traversal, SQL and junk kids find no key and cause nothing else."""
    token = forge({"alg": "ES256", "kid": kid, "typ": "at+jwt"}, claims(), b"x" * 64)
    with pytest.raises((jose.UnknownKey, jose.MalformedToken)):
        decode(token, verifying(es256))


def test_non_string_kid_is_malformed(es256: jose.Key) -> None:
    """kid must be a string."""
    token = forge({"alg": "ES256", "kid": ["x"], "typ": "at+jwt"}, claims(), b"x" * 64)
    with pytest.raises(jose.MalformedToken):
        decode(token, verifying(es256))


def test_unknown_crit_is_refused(es256: jose.Key) -> None:
    """A critical extension authd does not understand makes the token invalid."""
    import orjson
    header = {"alg": "ES256", "kid": es256.kid, "typ": "at+jwt", "crit": ["exp"], "exp": 1}
    signing_input = f"{b64(orjson.dumps(header))}.{b64(orjson.dumps(claims()))}".encode()
    token = signing_input.decode() + "." + b64(es256.sign(signing_input))
    with pytest.raises(jose.UnsupportedAlgorithm):
        decode(token, verifying(es256))


def test_unknown_header_members_are_refused(es256: jose.Key) -> None:
    """Header members are limited to what authd uses."""
    import orjson
    header = {"alg": "ES256", "kid": es256.kid, "typ": "at+jwt", "zip": "DEF"}
    signing_input = f"{b64(orjson.dumps(header))}.{b64(orjson.dumps(claims()))}".encode()
    with pytest.raises(jose.UnsupportedAlgorithm):
        decode(signing_input.decode() + "." + b64(es256.sign(signing_input)), verifying(es256))


def test_tampering_with_any_segment_is_detected(key: jose.Key) -> None:
    """Changing one character of the header, payload or signature breaks the token."""
    token = jose.encode_jwt(claims(), key, typ="at+jwt")
    keys = verifying(key)
    decode(token, keys)
    header, payload, signature = token.split(".")
    swaps = {"A": "B", "B": "A"}
    for index, part in enumerate((header, payload, signature)):
        for position in (1, len(part) // 2, len(part) - 2):
            changed = part[:position] + swaps.get(part[position], "A") + part[position + 1:]
            parts = [header, payload, signature]
            parts[index] = changed
            with pytest.raises(jose.InvalidToken):
                decode(".".join(parts), keys)


def test_header_swapped_from_another_key_fails(es256: jose.Key) -> None:
    """A valid header of one key on another key's token fails verification."""
    other = jose.generate_key("ES256")
    mine = jose.encode_jwt(claims(), es256, typ="at+jwt").split(".")
    theirs = jose.encode_jwt(claims(), other, typ="at+jwt").split(".")
    with pytest.raises(jose.InvalidToken):
        decode(".".join([theirs[0], mine[1], mine[2]]), jose.KeySet([es256.public_key(),
                                                                     other.public_key()]))


@pytest.mark.parametrize("signature", [bytes(64), bytes(32) + bytes(32)])
def test_psychic_ecdsa_signature_is_refused(es256: jose.Key, signature: bytes) -> None:
    """r = s = 0 (CVE-2022-21449) is refused before any verification."""
    token = jose.encode_jwt(claims(), es256, typ="at+jwt").rsplit(".", 1)[0] + "." + b64(signature)
    with pytest.raises(jose.BadSignature):
        decode(token, verifying(es256))


def test_ecdsa_r_and_s_equal_to_the_order_are_refused(es256: jose.Key) -> None:
    """r = s = n is out of range and refused."""
    n = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
    signature = n.to_bytes(32, "big") * 2
    token = jose.encode_jwt(claims(), es256, typ="at+jwt").rsplit(".", 1)[0] + "." + b64(signature)
    with pytest.raises(jose.BadSignature):
        decode(token, verifying(es256))


@pytest.mark.parametrize("length", [0, 1, 63, 65, 70, 72, 128])
def test_wrong_signature_lengths_are_refused(es256: jose.Key, length: int) -> None:
    """ECDSA signatures must be exactly 64 bytes (P1363), not DER or truncated."""
    token = jose.encode_jwt(claims(), es256, typ="at+jwt").rsplit(".", 1)[0] + "." + \
        b64(secrets.token_bytes(length))
    with pytest.raises(jose.BadSignature):
        decode(token, verifying(es256))


def test_der_encoded_ecdsa_signature_is_refused(es256: jose.Key) -> None:
    """A valid signature in DER form (not JWS's P1363) is refused."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec

    token = jose.encode_jwt(claims(), es256, typ="at+jwt")
    signing_input = token.rsplit(".", 1)[0].encode()
    der = es256._private.sign(signing_input, ec.ECDSA(hashes.SHA256()))  # type: ignore[attr-defined]
    with pytest.raises(jose.BadSignature):
        decode(token.rsplit(".", 1)[0] + "." + b64(der), verifying(es256))


def test_expired_and_not_yet_valid(key: jose.Key) -> None:
    """exp in the past, nbf and iat in the future are refused; leeway is honoured exactly."""
    keys = verifying(key)
    expired = jose.encode_jwt(claims(exp=int(NOW) - 1), key, typ="at+jwt")
    with pytest.raises(jose.ExpiredToken):
        decode(expired, keys)
    assert decode(expired, keys, leeway=5)["sub"] == "user-1"
    at_exp = jose.encode_jwt(claims(exp=int(NOW)), key, typ="at+jwt")
    with pytest.raises(jose.ExpiredToken):
        decode(at_exp, keys)
    with pytest.raises(jose.NotYetValid):
        decode(jose.encode_jwt(claims(nbf=int(NOW) + 10), key, typ="at+jwt"), keys)
    with pytest.raises(jose.NotYetValid):
        decode(jose.encode_jwt(claims(iat=int(NOW) + 10), key, typ="at+jwt"), keys)


def test_wrong_issuer_audience_and_type(key: jose.Key) -> None:
    """iss and aud must match exactly; typ must be at+jwt."""
    keys = verifying(key)
    with pytest.raises(jose.InvalidIssuer):
        decode(jose.encode_jwt(claims(iss="https://auth.example/"), key, typ="at+jwt"), keys)
    with pytest.raises(jose.InvalidAudience):
        decode(jose.encode_jwt(claims(aud="https://other.example"), key, typ="at+jwt"), keys)
    with pytest.raises(jose.InvalidAudience):
        decode(jose.encode_jwt(claims(aud=[]), key, typ="at+jwt"), keys)
    assert decode(jose.encode_jwt(claims(aud=["x", "https://api.example"]), key,
                                  typ="at+jwt"), keys)["sub"] == "user-1"
    with pytest.raises(jose.InvalidType):
        decode(jose.encode_jwt(claims(), key, typ="JWT"), keys)
    assert decode(jose.encode_jwt(claims(), key, typ="application/AT+JWT"), keys)


def test_id_token_shaped_tokens_are_not_access_tokens(key: jose.Key) -> None:
    """A token with no typ or typ JWT (an id_token) is refused where at+jwt is required."""
    import orjson
    keys = verifying(key)
    payload = orjson.dumps(claims(nonce="n", azp="client"))
    untyped = jose.encode_jws(payload, key)
    with pytest.raises(jose.InvalidType):
        decode(untyped, keys)


@pytest.mark.parametrize("bad", [{"exp": "tomorrow"}, {"exp": True}, {"nbf": [1]},
                                 {"iat": {"t": 1}}, {"aud": 5}, {"aud": [1, 2]}])
def test_wrongly_typed_claims_are_invalid(es256: jose.Key, bad: dict[str, object]) -> None:
    """Registered claims of the wrong JSON type are refused."""
    token = jose.encode_jwt(claims(**bad), es256, typ="at+jwt")
    with pytest.raises((jose.InvalidClaim, jose.InvalidAudience)):
        decode(token, verifying(es256))


def test_missing_required_claims(es256: jose.Key) -> None:
    """exp is required by default; callers can require more."""
    with pytest.raises(jose.MissingClaim):
        decode(jose.encode_jwt(claims(exp=None), es256, typ="at+jwt"), verifying(es256))
    with pytest.raises(jose.MissingClaim):
        decode(jose.encode_jwt(claims(jti=None), es256, typ="at+jwt"), verifying(es256),
               required=("exp", "jti"))


def test_duplicate_members_are_refused(es256: jose.Key) -> None:
    """Duplicate JSON members in the header or payload are refused, signature or not."""
    header = b'{"alg":"ES256","kid":"' + es256.kid.encode() + b'","typ":"at+jwt","alg":"ES256"}'
    body = b64(__import__("orjson").dumps(claims()))
    signing_input = f"{b64(header)}.{body}".encode()
    with pytest.raises(jose.MalformedToken):
        decode(signing_input.decode() + "." + b64(es256.sign(signing_input)), verifying(es256))
    good_header = b64(b'{"alg":"ES256","kid":"' + es256.kid.encode() + b'","typ":"at+jwt"}')
    dup_body = b64(b'{"sub":"a","sub":"b","iss":"https://auth.example","aud":"https://api.example",'
                   b'"exp":1700000300}')
    signing_input = f"{good_header}.{dup_body}".encode()
    with pytest.raises(jose.MalformedToken):
        decode(signing_input.decode() + "." + b64(es256.sign(signing_input)), verifying(es256))


GARBAGE = ["", ".", "..", "...", "a.b", "a.b.c.d", "a.b.c.d.e", "eyJ.eyJ.", "\u00e9.\u00e9.\u00e9",
           " eyJhbGciOiJFUzI1NiJ9.e30.AA", "eyJhbGciOiJFUzI1NiJ9.e30.AA ", "e30.e30.e30",
           "W10.e30.AA", "bnVsbA.e30.AA", "eyJhbGciOiJFUzI1NiJ9==.e30.AA",
           "eyJhbGciOiJFUzI1NiJ9.e30+.AA", "eyJhbGciOiJFUzI1NiJ9.e3/.AA",
           "eyJhbGciOiJFUzI1NiJ9.e31.AA", "eyJhbGciOiAxfQ.e30.AA", "a" * 9000,
           "eyJhbGciOiJFUzI1NiJ9\n.e30.AA"]


@pytest.mark.parametrize("token", GARBAGE)
def test_garbage_is_malformed_or_otherwise_invalid(es256: jose.Key, token: str) -> None:
    """Garbage, non-canonical base64url and oversized input raise InvalidToken subclasses only."""
    with pytest.raises(jose.InvalidToken):
        decode(token, verifying(es256))


def test_size_cap_is_checked_before_parsing(es256: jose.Key) -> None:
    """A token over the cap is TokenTooLarge without being parsed."""
    with pytest.raises(jose.TokenTooLarge):
        decode("x" * 8193, verifying(es256))
    big = jose.encode_jwt(claims(pad="p" * 9000), es256, typ="at+jwt")
    with pytest.raises(jose.TokenTooLarge):
        decode(big, verifying(es256))
    assert decode(big, verifying(es256), max_size=20_000)["pad"]


def test_non_canonical_trailing_bits_are_refused(es256: jose.Key) -> None:
    """Two encodings of one signature never both verify: stray low bits are refused."""
    token = jose.encode_jwt(claims(), es256, typ="at+jwt")
    head, body, sig = token.split(".")
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    last = alphabet.index(sig[-1])
    assert len(sig) % 4 == 2  # 64 bytes -> 86 chars: the last carries 4 unused bits
    mutated = sig[:-1] + alphabet[last | 1]
    with pytest.raises(jose.MalformedToken):
        decode(f"{head}.{body}.{mutated}", verifying(es256))


def test_decode_raises_only_invalid_token_for_random_input(es256: jose.Key) -> None:
    """Fuzz: random strings and byte strings never escape as another exception type."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    keys = verifying(es256)

    @settings(max_examples=400, deadline=None)
    @given(st.one_of(st.text(max_size=300), st.binary(max_size=300),
                     st.lists(st.text(alphabet="AZaz09-_=+/ .", max_size=40), min_size=1,
                              max_size=5).map(".".join)))
    def check(token: str | bytes) -> None:
        try:
            decode(token, keys)
        except jose.InvalidToken:
            return
        raise AssertionError("garbage was accepted")

    check()


def test_now_is_a_parameter(es256: jose.Key) -> None:
    """Time is passed in: the same token is valid then expired by the clock given."""
    token = jose.encode_jwt(claims(), es256, typ="at+jwt")
    assert decode(token, verifying(es256), now=NOW + 299)
    with pytest.raises(jose.ExpiredToken):
        decode(token, verifying(es256), now=NOW + 300)


def test_base64url_padding_or_foreign_characters_anywhere_are_refused(es256: jose.Key) -> None:
    """'=', '+', '/', '*' or whitespace at any place in any segment make the token malformed."""
    token = jose.encode_jwt(claims(), es256, typ="at+jwt")
    keys = verifying(es256)
    parts = token.split(".")
    for index, part in enumerate(parts):
        for bad in ("=", "==", "+", "/", "*", " "):
            for position in (0, len(part) // 2, len(part)):
                changed = list(parts)
                changed[index] = part[:position] + bad + part[position:]
                with pytest.raises(jose.InvalidToken):
                    decode(".".join(changed), keys)


def _token_with_header(signer: jose.Key, header: dict[str, object]) -> str:
    import orjson

    signing_input = f"{b64(orjson.dumps(header))}.{b64(orjson.dumps(claims()))}".encode()
    return signing_input.decode() + "." + b64(signer.sign(signing_input))


def test_a_cached_header_never_vouches_for_another_key(es256: jose.Key) -> None:
    """Once a header is cached, a token with that header signed by another key still fails."""
    other = jose.generate_key("ES256")
    keys = jose.KeySet([es256.public_key(), other.public_key()])
    header = {"alg": "ES256", "kid": es256.kid, "typ": "at+jwt"}
    decode(_token_with_header(es256, header), keys)  # now cached
    with pytest.raises(jose.BadSignature):
        decode(_token_with_header(other, header), keys)
    assert decode(_token_with_header(other, {**header, "kid": other.kid}), keys)


def test_the_header_cache_belongs_to_one_key_set(es256: jose.Key) -> None:
    """A header cached under one JWKS means nothing to the next: a new key under the same kid
    verifies only its own tokens, and a key set without the kid refuses them."""
    header = {"alg": "ES256", "kid": es256.kid, "typ": "at+jwt"}
    old_token = _token_with_header(es256, header)
    decode(old_token, verifying(es256))
    replacement = jose.generate_key("ES256")
    rotated = jose.KeySet([jose.key_from_jwk({**replacement.public_jwk(), "kid": es256.kid})])
    with pytest.raises(jose.BadSignature):
        decode(old_token, rotated)
    assert decode(_token_with_header(replacement, header), rotated)
    with pytest.raises(jose.UnknownKey):
        decode(old_token, verifying(jose.generate_key("ES256")))


def test_refused_headers_are_never_cached(es256: jose.Key) -> None:
    """A header refused once is refused every time: failures are not remembered as anything."""
    keys = verifying(es256)
    for header in ({"alg": "ES256", "kid": es256.kid, "crit": ["exp"]},
                   {"alg": "HS256", "kid": es256.kid}, {"alg": "ES256", "kid": "nope"}):
        token = _token_with_header(es256, header)
        for _ in range(2):
            with pytest.raises(jose.InvalidToken):
                decode(token, keys)
    assert not keys._headers


def test_changing_a_returned_header_does_not_change_later_tokens(es256: jose.Key) -> None:
    """decode_jws hands out a copy: a caller editing it cannot make the next token pass typ."""
    keys = verifying(es256)
    token = jose.encode_jwt(claims(), es256, typ="JWT")
    header, _ = jose.decode_jws(token, keys)
    header["typ"] = "at+jwt"
    with pytest.raises(jose.InvalidType):
        decode(token, keys)
    assert jose.decode_jws(token, keys)[0]["typ"] == "JWT"


def test_the_header_cache_is_bounded(es256: jose.Key) -> None:
    """A flood of distinct valid headers (or one huge one) cannot grow the cache without bound."""
    from authd.jose._jws import _HEADER_CACHE_SIZE, _MAX_CACHED_SEGMENT

    keys = verifying(es256)
    for i in range(3 * _HEADER_CACHE_SIZE):
        jose.decode_jws(_token_with_header(es256, {"alg": "ES256", "kid": es256.kid,
                                                   "cty": f"c{i}"}), keys)
        assert len(keys._headers) <= _HEADER_CACHE_SIZE
    keys = verifying(es256)
    huge = _token_with_header(es256, {"alg": "ES256", "kid": es256.kid,
                                      "cty": "c" * _MAX_CACHED_SEGMENT})
    assert jose.decode_jws(huge, keys)[0]["cty"] == "c" * _MAX_CACHED_SEGMENT
    assert not keys._headers
