"""Reading what clients send, defensively: size caps, strict forms and JSON, client identity.

Every malformed input becomes an ``InvalidRequest`` (400) or another 4xx;
nothing a client sends may reach the core as an unexpected type.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any
from urllib.parse import parse_qsl, unquote

import orjson
from starlette.requests import Request

from authd.core.models import ClientInfo
from authd.errors import (
    InvalidClient,
    InvalidRequest,
    PayloadTooLarge,
    Unauthenticated,
    UnsupportedMediaType,
)
from authd.http.client_ip import client_address, trusted_networks

MAX_FIELDS = 64


async def read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.isdigit():
            raise InvalidRequest("bad Content-Length")
        if int(declared) > limit:
            raise PayloadTooLarge()
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge()
        chunks.append(chunk)
    return b"".join(chunks)


def _media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";", 1)[0].strip().lower()


async def read_params(request: Request, limit: int) -> dict[str, str]:
    """OAuth-style parameters: a form (also when no content type is given) or a flat JSON object."""
    body = await read_body(request, limit)
    media = _media_type(request)
    if media in ("", "application/x-www-form-urlencoded"):
        return _parse_form(body)
    if media == "application/json" or media.endswith("+json"):
        data = _parse_json_object(body)
        bad = [k for k, v in data.items() if not isinstance(v, str)]
        if bad:
            raise InvalidRequest(f"parameter {bad[0][:40]!r} must be a string")
        return data
    raise UnsupportedMediaType("send application/x-www-form-urlencoded or application/json")


async def read_json(request: Request, limit: int) -> dict[str, Any]:
    body = await read_body(request, limit)
    media = _media_type(request)
    if media and media != "application/json" and not media.endswith("+json"):
        if media == "application/x-www-form-urlencoded":
            return dict(_parse_form(body))
        raise UnsupportedMediaType("send application/json")
    return _parse_json_object(body)


async def read_json_only(request: Request, limit: int) -> dict[str, Any]:
    """A JSON object sent as ``application/json``; 415 for anything else, a missing type included.

    A cross-site HTML form or ``fetch`` without CORS can only send a form,
    ``text/plain`` or no content type at all; requiring JSON forces the
    browser's CORS preflight, which only the configured origins pass.
    """
    body = await read_body(request, limit)  # the size cap first, whatever the type
    media = _media_type(request)
    if media != "application/json" and not media.endswith("+json"):
        raise UnsupportedMediaType("send the body as application/json")
    return _parse_json_object(body)


def _parse_form(body: bytes) -> dict[str, str]:
    try:
        text = body.decode("utf-8")
        pairs = parse_qsl(text, keep_blank_values=True, max_num_fields=MAX_FIELDS,
                          errors="strict")
    except (UnicodeDecodeError, ValueError):
        raise InvalidRequest("the form body is not valid UTF-8 url-encoding") from None
    params: dict[str, str] = {}
    for key, value in pairs:
        _refuse_nul(key)
        _refuse_nul(value)
        if key in params:  # RFC 6749 3.2: parameters must not be repeated
            raise InvalidRequest(f"parameter {key[:40]!r} is repeated")
        params[key] = value
    return params


def _parse_json_object(body: bytes) -> dict[str, Any]:
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise InvalidRequest("the body is not valid JSON") from None
    if not isinstance(data, dict):
        raise InvalidRequest("the body must be a JSON object")
    for key, value in data.items():
        _refuse_nul(key)
        if isinstance(value, str):
            _refuse_nul(value)
    return data


def _refuse_nul(text: str) -> None:
    # No identifier, password or token contains NUL, and PostgreSQL cannot store one.
    if "\x00" in text:
        raise InvalidRequest("NUL characters are not allowed")


def client_info(request: Request) -> ClientInfo:
    """Who is calling. The one place that reads a client's address: rate limits, session
    addresses and the audit trail all take it from here, so all of them see the client
    behind a trusted proxy (``trusted_proxies``) and none believes a header otherwise."""
    peer = request.client.host if request.client else None
    trusted = trusted_networks(request.app.state.use_cases.settings.trusted_proxies)
    ip = client_address(peer, trusted, forwarded_for=request.headers.getlist("x-forwarded-for"),
                        forwarded=request.headers.getlist("forwarded"))
    agent = request.headers.get("user-agent")
    return ClientInfo(ip=ip, user_agent=agent[:512] if agent else None)


def bearer_token(request: Request) -> str:
    """The Bearer token from the Authorization header; Unauthenticated if there is none."""
    header = request.headers.get("authorization")
    if not header:
        raise Unauthenticated("authentication required")
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise Unauthenticated("use the Bearer scheme")
    return token


def basic_credentials(request: Request) -> tuple[str, str] | None:
    """client_secret_basic (RFC 6749 2.3.1: both parts form-url-encoded)."""
    header = request.headers.get("authorization")
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise InvalidClient("malformed Basic credentials") from None
    client_id, sep, secret = decoded.partition(":")
    if not sep:
        raise InvalidClient("malformed Basic credentials")
    return unquote(client_id.replace("+", " ")), unquote(secret.replace("+", " "))


def read_query(request: Request) -> dict[str, str]:
    """Query parameters with the same strictness as forms: UTF-8, no NUL, no repeats."""
    return _parse_form(request.url.query.encode("latin-1", "replace"))
