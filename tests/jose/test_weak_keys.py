"""RSA keys that must never be trusted: too short, or with the ROCA fingerprint (CVE-2017-15361)."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from authd import jose
from authd.jose._b64 import b64url_encode
from authd.jose._keys._rsa import RSAKey
from authd.jose._roca import has_roca_fingerprint

# Two 1024-bit primes built as Infineon RSALib built them: p = k * M + (65537**a mod M), with M
# the product of the first 126 primes (RSALib's M for 1984- to 3936-bit keys), random k and a,
# kept when probably prime. Their product is a working 2048-bit RSA modulus with the flaw.
ROCA_P = int(
    "b447b0f2f22eb80bf76a418e4e47f04d5dbacf344c915823e03cb9526e953af022f4939a77bf46afc30d939c991f669a"
    "6854a5342bec3eb3728ab661f25b29d8959065b1e21f4654a5be09b909f0ac7c789cfb7ec9eb9b13cc276f79ebb3e067"
    "20b9b379987e7028c784a2239b2c88587ea04754fc78f96dff79f20987aa1215", 16)
ROCA_Q = int(
    "c75779436625c330ac1970eff429ca46379789df3bc53326d3c8cafa576c2398f089f68e8445653103821cf37bd9f6c4"
    "e2fdf45f33b1f60bdf23e679ea912fbfec2912f3940e2c1620223781df13d8bffa9470e2c06efa2cebed9865b97d15ed"
    "3ad84d7ca6bac190e93f9b85a18c60266a16333d5464fbe9d5dd25069ec4e4d7", 16)
SMALL_PRIMES = [r for r in range(2, 702) if all(r % d for d in range(2, int(r**0.5) + 1))]


def _uint(value: int) -> str:
    return b64url_encode(value.to_bytes((value.bit_length() + 7) // 8, "big"))


def _roca_private_numbers() -> rsa.RSAPrivateNumbers:
    p, q, e = ROCA_P, ROCA_Q, 65537
    d = pow(e, -1, (p - 1) * (q - 1))
    return rsa.RSAPrivateNumbers(p, q, d, d % (p - 1), d % (q - 1), pow(q, -1, p),
                                 rsa.RSAPublicNumbers(e, p * q))


def test_the_roca_test_key_is_a_real_rsalib_shaped_key() -> None:
    """The fixture is sound: prime-looking factors of RSALib's form, a 2048-bit modulus."""
    assert len(SMALL_PRIMES) == 126
    for prime in (ROCA_P, ROCA_Q):
        assert prime.bit_length() == 1024 and pow(2, prime - 1, prime) == 1
        for r in SMALL_PRIMES:  # p mod r is a power of 65537 for every prime r dividing M
            assert prime % r in {pow(65537, k, r) for k in range(r)}
    assert (ROCA_P * ROCA_Q).bit_length() == 2048
    assert has_roca_fingerprint(ROCA_P * ROCA_Q)


def test_roca_vulnerable_public_jwk_is_refused() -> None:
    """A JWK (alone or in a JWKS) whose modulus has the ROCA fingerprint is InvalidKey."""
    jwk = {"kty": "RSA", "alg": "RS256", "n": _uint(ROCA_P * ROCA_Q), "e": "AQAB"}
    with pytest.raises(jose.InvalidKey, match="ROCA"):
        jose.key_from_jwk(jwk)
    with pytest.raises(jose.InvalidKey, match="ROCA"):
        jose.KeySet.from_jwks({"keys": [jwk]})


def test_roca_vulnerable_key_is_refused_in_every_form() -> None:
    """Private JWK, and cryptography key objects (PEM/DER loads) too: the check is in RSAKey."""
    p = _roca_private_numbers()
    private = p.private_key()
    jwk = {"kty": "RSA", "alg": "RS256", "n": _uint(p.public_numbers.n), "e": "AQAB",
           "d": _uint(p.d), "p": _uint(p.p), "q": _uint(p.q), "dp": _uint(p.dmp1),
           "dq": _uint(p.dmq1), "qi": _uint(p.iqmp)}
    with pytest.raises(jose.InvalidKey, match="ROCA"):
        jose.key_from_jwk(jwk)
    for key in (private, private.public_key()):
        with pytest.raises(jose.InvalidKey, match="ROCA"):
            RSAKey(key, "RS256")


def test_sound_rsa_keys_pass_the_fingerprint() -> None:
    """Freshly generated keys (and the RFC examples, in test_vectors) are accepted."""
    for _ in range(5):
        key = jose.generate_key("RS256")
        assert jose.key_from_jwk(key.public_jwk()).kid == key.kid


def test_every_fingerprint_prime_is_tested() -> None:
    """Moving the ROCA modulus off 65537's powers modulo any one prime <= 167 clears it."""
    n = ROCA_P * ROCA_Q
    for r in SMALL_PRIMES[1:39]:
        others = 2
        for s in SMALL_PRIMES[1:39]:
            others *= s if s != r else 1
        moved = n + others * (-n * pow(others, -1, r) % r)  # same residues but 0 modulo r
        assert moved % r == 0 and not has_roca_fingerprint(moved)


@pytest.mark.parametrize("bits", [1024, 1536, 2040])
def test_rsa_keys_shorter_than_2048_bits_are_refused(bits: int) -> None:
    """Short RSA keys are InvalidKey, as a JWK and as a key object."""
    private = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    numbers = private.public_key().public_numbers()
    with pytest.raises(jose.InvalidKey, match="2048"):
        jose.key_from_jwk({"kty": "RSA", "alg": "RS256", "n": _uint(numbers.n), "e": "AQAB"})
    with pytest.raises(jose.InvalidKey, match="2048"):
        RSAKey(private, "RS256")
