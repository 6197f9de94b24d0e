"""The WebAuthn protocol as authd uses it, over py_webauthn: options out, checked results in.

py_webauthn is pure (bytes in, results or exceptions out, no I/O), so it
may sit in the core like ``cryptography``. This module is the only one that
imports it: it builds the options a browser passes to
``navigator.credentials.create()`` / ``get()``, and turns a browser's answer
into a checked result or one of authd's errors. Anything the library raises
on client bytes (it raises its own exceptions, and a few ``ValueError`` and
``KeyError`` from its parsers) is the client's fault: a 400 for bytes that
are not a credential at all, ``InvalidCredentials`` for a credential that
does not verify.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import orjson
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import (
    options_to_json_dict,
    parse_authentication_credential_json,
    parse_client_data_json,
    parse_registration_credential_json,
)
from webauthn.helpers.cose import COSEAlgorithmIdentifier
from webauthn.helpers.structs import (
    AuthenticationCredential,
    AuthenticatorSelectionCriteria,
    AuthenticatorTransport,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from authd.core.policies import PasskeyPolicy
from authd.errors import InvalidCredentials, InvalidRequest

T = TypeVar("T")
# ES256, EdDSA, RS256: what platform authenticators and security keys use.
ALGORITHMS = [-7, -8, -257]
MAX_CREDENTIAL_CHARS = 32_768
_TRANSPORTS = frozenset(t.value for t in AuthenticatorTransport)


@dataclass(frozen=True, slots=True)
class Assertion:
    """A parsed (not yet verified) ``navigator.credentials.get()`` answer."""

    credential: AuthenticationCredential
    credential_id: bytes
    challenge: bytes
    user_handle: bytes | None


@dataclass(frozen=True, slots=True)
class NewCredential:
    """A verified registration: what is stored of the new passkey."""

    credential_id: bytes
    public_key: bytes
    sign_count: int
    transports: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Verified:
    """A verified assertion: the authenticator's new counter and whether it verified the user."""

    sign_count: int
    user_verified: bool


def _descriptors(credentials: Sequence[tuple[bytes, Sequence[str]]]
                 ) -> list[PublicKeyCredentialDescriptor]:
    return [PublicKeyCredentialDescriptor(
        id=cid, transports=[AuthenticatorTransport(t) for t in transports if t in _TRANSPORTS] or None)
        for cid, transports in credentials]


def creation_options(policy: PasskeyPolicy, challenge: bytes, user_id: str, user_name: str,
                     display_name: str, exclude: Sequence[tuple[bytes, Sequence[str]]]
                     ) -> dict[str, Any]:
    """``PublicKeyCredentialCreationOptionsJSON``: a discoverable credential (so sign-in needs
    no email), user verification preferred, no attestation, the user's passkeys excluded."""
    options = generate_registration_options(
        rp_id=policy.rp_id, rp_name=policy.rp_name, user_name=user_name,
        user_id=user_id.encode(), user_display_name=display_name, challenge=challenge,
        timeout=policy.challenge_ttl * 1000,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.REQUIRED, require_resident_key=True,
            user_verification=UserVerificationRequirement.PREFERRED),
        exclude_credentials=_descriptors(exclude),
        supported_pub_key_algs=[_alg(a) for a in ALGORITHMS])
    return options_to_json_dict(options)


def request_options(policy: PasskeyPolicy, challenge: bytes,
                    allow: Sequence[tuple[bytes, Sequence[str]]], *, require_uv: bool
                    ) -> dict[str, Any]:
    """``PublicKeyCredentialRequestOptionsJSON``; an empty ``allow`` asks for a discoverable
    credential (the browser offers the user's passkeys for this relying party)."""
    options = generate_authentication_options(
        rp_id=policy.rp_id, challenge=challenge, timeout=policy.challenge_ttl * 1000,
        allow_credentials=_descriptors(allow),
        user_verification=(UserVerificationRequirement.REQUIRED if require_uv
                           else UserVerificationRequirement.PREFERRED))
    return options_to_json_dict(options)


def parse_assertion(raw: object) -> Assertion:
    """The credential of a sign-in, or InvalidRequest (400) when it is not one at all."""
    credential = _parse(raw, parse_authentication_credential_json)
    client_data = _bad_input(lambda: parse_client_data_json(credential.response.client_data_json))
    return Assertion(credential, credential.raw_id, client_data.challenge,
                     credential.response.user_handle)


def verify_assertion(policy: PasskeyPolicy, assertion: Assertion, challenge: bytes,
                     public_key: bytes, *, require_uv: bool) -> Verified:
    """Origin, type, challenge, rp id hash, user presence (and verification if required) and the
    signature; InvalidCredentials otherwise. The counter is judged by the caller (it audits)."""
    result = _not_verified(lambda: verify_authentication_response(
        credential=assertion.credential, expected_challenge=challenge,
        expected_rp_id=policy.rp_id, expected_origin=list(policy.origins),
        credential_public_key=public_key, credential_current_sign_count=0,
        require_user_verification=require_uv))
    return Verified(result.new_sign_count, result.user_verified)


def verify_registration(policy: PasskeyPolicy, raw: object, challenge: bytes) -> NewCredential:
    """A new passkey from ``navigator.credentials.create()``'s answer (attestation ``none`` or
    self/unverified: authd trusts the user who is signed in, not an authenticator maker).
    InvalidRequest (400) for anything that does not verify."""
    credential = _parse(raw, parse_registration_credential_json)
    try:
        result = verify_registration_response(
            credential=credential, expected_challenge=challenge, expected_rp_id=policy.rp_id,
            expected_origin=list(policy.origins), supported_pub_key_algs=[_alg(a) for a in ALGORITHMS])
    except Exception:  # pure code over client bytes: every failure is the credential's
        raise InvalidRequest("the passkey could not be verified") from None
    transports = tuple(t.value for t in credential.response.transports or ())
    return NewCredential(result.credential_id, result.credential_public_key, result.sign_count,
                         transports)


def _parse(raw: object, parse: Callable[[dict[str, Any]], T]) -> T:
    """A credential given as a JSON object, or as a string holding one (a form field)."""
    if isinstance(raw, str):
        if len(raw) > MAX_CREDENTIAL_CHARS:
            raise InvalidRequest("credential is too large")
        try:
            raw = orjson.loads(raw)
        except orjson.JSONDecodeError:
            raise InvalidRequest("credential must be the JSON of a PublicKeyCredential") from None
    if not isinstance(raw, Mapping):
        raise InvalidRequest("credential must be the JSON of a PublicKeyCredential")
    data = dict(raw)
    return _bad_input(lambda: parse(data))


def _bad_input(call: Callable[[], T]) -> T:
    try:
        return call()
    except Exception:  # pure parsing of client bytes: every failure is the client's
        raise InvalidRequest("credential is not a valid PublicKeyCredential") from None


def _not_verified(call: Callable[[], T]) -> T:
    try:
        return call()
    except Exception:  # pure verification of client bytes: every failure is the credential's
        raise InvalidCredentials("the passkey could not be verified") from None


def _alg(value: int) -> COSEAlgorithmIdentifier:
    return COSEAlgorithmIdentifier(value)


__all__ = ["ALGORITHMS", "Assertion", "NewCredential", "Verified",
           "creation_options", "parse_assertion", "request_options", "verify_assertion",
           "verify_registration"]
