"""Schemathesis fuzzes a real authd process against its served /openapi.json.

The document is the API's contract: clients generate code from it and API
gateways validate traffic with it. These tests hold the server to it from the
outside, over HTTP: for every operation, generated requests (valid and
invalid) never get a 5xx, and every answer has a declared status, a declared
content type and a body matching the declared schema. A stateful run then
walks the document's links (sign-up → token → userinfo / refresh / revoke /
sessions) the way an application does.

Bounded and deterministic: derandomized Hypothesis (a fixed seed per test), a
fixed number of examples, no deadline; rate limits are relaxed on the server
so the fuzzer is never throttled into a different answer.
"""

from __future__ import annotations

import base64
import contextlib
import re
import secrets
from collections import Counter
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Flaky
from schemathesis import Case, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.core.transport import Response
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.specs.openapi.schemas import OpenApiSchema

from authd.core.clients import hash_secret
from authd.http.openapi import openapi_document
from tests.e2e.conftest import PASSWORD, serving
from tests.e2e.social import write_config
from tests.serverproc import AuthdServer

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]
CLIENT_ID, CLIENT_SECRET = "fuzz_client", "fuzz-client-secret-" + "x" * 24  # env keys are lower-cased
PROVIDER = "down"  # configured, but its discovery endpoint cannot be reached
EXAMPLES_PER_OPERATION = 10  # x 37 operations x 2 backends
STATEFUL_SCENARIOS = 40  # of up to 8 linked steps each
COMMON = settings(deadline=None, derandomize=True, database=None, print_blob=False,
                  suppress_health_check=list(HealthCheck),
                  phases=[Phase.explicit, Phase.generate])
# Operations after whose success the fuzzer's own credentials are gone.
ENDS_CREDENTIALS = {"DELETE /v1/session", "DELETE /v1/sessions", "DELETE /v1/sessions/{session_id}",
                    "POST /v1/password"}
OPERATIONS = sorted(f"{method.upper()} {path}" for path, ops in openapi_document()["paths"].items()
                    for method in ops)


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def fuzzed(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
           ) -> Iterator[AuthdServer]:
    """One real server per backend, with a confidential client and a login provider."""
    tmp = tmp_path_factory.mktemp(f"fuzz-{request.param}")
    config = write_config(tmp / "authd.toml", {PROVIDER: {
        "issuer": "http://127.0.0.1:9", "client_id": "x", "client_secret": "y"}})
    with serving(tmp, request.param, {
        "AUTHD_CONFIG": str(config),
        f"AUTHD_CLIENTS__{CLIENT_ID.upper().replace('-', '_')}__SECRET_HASH": hash_secret(CLIENT_SECRET),
        # the same client administers, so the admin API is fuzzed past its authentication
        f"AUTHD_CLIENTS__{CLIENT_ID.upper().replace('-', '_')}__SCOPES": '["authd:admin"]',
    }) as server:
        yield server


@pytest.fixture(scope="module")
def api(fuzzed: AuthdServer) -> OpenApiSchema:
    """The document the server serves, loaded by schemathesis.

    The stateful run walks the document's own links only: schemathesis's dependency
    analysis would also join operations by field names (a passkey challenge's
    ``challenge_id`` into every token request), spending the walk on pairs no app makes.
    """
    config = SchemathesisConfig.from_dict(
        {"phases": {"stateful": {"inference": {"algorithms": ["location-headers"]}}}})
    return schemathesis.openapi.from_url(fuzzed.url + "/openapi.json", config=config)


class Caller:
    """A signed-up user with a Bearer token and a cookie session, renewed when the fuzzer ends them
    (and signed up again when it deletes the account); admin operations get the client's own
    admin token."""

    def __init__(self, server: AuthdServer) -> None:
        self.http = server.client()
        self.headers: dict[str, str] = {}
        self.cookies: dict[str, str] = {}
        self.sign_up()

    def sign_up(self) -> None:
        """A new account (the first, or after the fuzzer deleted the last one), signed in."""
        self.email = f"fuzz-{secrets.token_hex(6)}@example.com"
        created = self.http.post("/v1/users", json={"email": self.email, "password": PASSWORD})
        assert created.status_code == 201, created.text
        self.renew()

    def admin_headers(self) -> dict[str, str]:
        """A fresh admin token (client_credentials), so none expires during a long run."""
        token = self.http.post("/v1/token", data={"grant_type": "client_credentials"},
                               auth=(CLIENT_ID, CLIENT_SECRET))
        assert token.status_code == 200, token.text
        return {"Authorization": f"Bearer {token.json()['access_token']}"}

    def renew(self) -> None:
        token = self.http.post("/v1/token", data={"grant_type": "password", "username": self.email,
                                                  "password": PASSWORD})
        assert token.status_code == 200, token.text
        with httpx.Client(base_url=str(self.http.base_url), timeout=30) as browser:
            login = browser.post("/v1/session", json={"email": self.email, "password": PASSWORD})
            assert login.status_code == 200, login.text
            self.cookies = dict(browser.cookies)
        self.headers = {"Authorization": f"Bearer {token.json()['access_token']}",
                        "X-CSRF-Token": login.json()["csrf_token"]}

    def for_operation(self, label: str) -> dict[str, Any]:
        """Credentials as the operation takes them; cookie-only operations ignore the Bearer."""
        if label == "POST /v1/introspect":
            basic = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
            return {"headers": {"Authorization": f"Basic {basic}"}}
        if " /admin/" in label:
            return {"headers": self.admin_headers()}
        return {"headers": dict(self.headers), "cookies": dict(self.cookies)}


@pytest.fixture(scope="module")
def caller(fuzzed: AuthdServer) -> Iterator[Caller]:
    """A signed-up user with a Bearer token, a cookie session and its CSRF token."""
    who = Caller(fuzzed)
    yield who
    who.http.close()


def _strategy(api: OpenApiSchema, label: str) -> st.SearchStrategy[Case]:
    method, path = label.split(" ", 1)
    operation = api[path][method]
    fixed = {"provider": PROVIDER} if "{provider}" in path else None
    modes = [operation.as_strategy(GenerationMode.POSITIVE),
             operation.as_strategy(GenerationMode.NEGATIVE)]
    if fixed:
        modes.append(operation.as_strategy(GenerationMode.POSITIVE, path_parameters=fixed))
    return st.one_of(modes)


def test_the_served_document_is_the_one_in_the_code(fuzzed: AuthdServer) -> None:
    """/openapi.json serves the document the suite checks, so client generators see the contract."""
    served = httpx.get(fuzzed.url + "/openapi.json", timeout=30).json()
    assert served == openapi_document()


@pytest.mark.parametrize("label", OPERATIONS)
def test_every_operation_keeps_its_contract(api: OpenApiSchema, caller: Caller, label: str) -> None:
    """Valid and invalid requests to each operation get a documented 2xx-4xx answer, never a 5xx.

    Each answer's status, content type and body match the document, so a
    client generated from it can handle everything authd says.
    """

    @settings(COMMON, max_examples=EXAMPLES_PER_OPERATION)
    @given(case=_strategy(api, label))
    def run(case: Case) -> None:
        response = case.call(**caller.for_operation(label), timeout=30)
        case.validate_response(response, checks=CHECKS)
        if label in ENDS_CREDENTIALS and response.status_code < 300:
            caller.renew()
        if label == "DELETE /v1/me" and response.status_code < 300:
            caller.sign_up()

    run()


def test_the_linked_flows_keep_their_contract(api: OpenApiSchema) -> None:
    """Walking the links (sign-up → token → userinfo, refresh, revoke, sessions) as an app does.

    Every step's answer conforms to the document; links that carry a token
    from one answer to the next request reach authenticated answers.
    """

    failures: list[str] = []
    answered: Counter[tuple[str, int]] = Counter()

    class Flows(api.as_state_machine()):  # type: ignore[misc]
        def before_call(self, case: Case) -> None:
            # A fresh mailbox per sign-up: a replayed example must not meet its earlier account
            # (409), or the same steps would reach different states.
            body = case.body
            if case.operation.label == "POST /v1/users" and isinstance(body, dict) \
                    and isinstance(body.get("email"), str):
                body["email"] = f"f{secrets.token_hex(6)}{body['email']}"

        def call(self, case: Case, **kwargs: Any) -> Response:
            return case.call(timeout=30, **kwargs)

        def validate_response(self, response: Response, case: Case,
                              additional_checks: Any = None, **kwargs: Any) -> None:
            # Recorded, not raised: the server's state moves on, so Hypothesis could not replay
            # a failing sequence faithfully; the test reports every failure at the end instead.
            answered[case.operation.label, response.status_code] += 1
            try:
                case.validate_response(response, checks=CHECKS)
            except Exception as exc:
                failures.append(f"{case.operation.label} -> {response.status_code}: {exc}\n"
                                f"{case.as_curl_command()}")

    # Hypothesis reports a replay that reached other states as Flaky: the server is not reset
    # between scenarios (a refresh token used by one is spent for the next). Failures still count.
    with contextlib.suppress(Flaky):
        Flows.run(settings=settings(COMMON, max_examples=STATEFUL_SCENARIOS, stateful_step_count=8))
    assert not failures, "\n\n".join(failures)
    # How deep a random walk gets past sign-up and login varies with the server's answers
    # (spent refresh tokens, taken emails); that the links themselves work is proven
    # step by step in test_every_token_link_leads_to_a_working_call.
    assert answered["POST /v1/users", 201] and answered["POST /v1/token", 200], answered


def _resolve(value: Any, body: dict[str, Any]) -> Any:
    """An OpenAPI runtime expression (``$response.body#/x``, or embedded in ``{...}``) filled in."""
    if not isinstance(value, str):
        return value
    if value.startswith("$response.body#/"):
        return body[value.removeprefix("$response.body#/")]
    return re.sub(r"\{\$response\.body#/(\w+)\}", lambda m: str(body[m.group(1)]), value)


def test_every_token_link_leads_to_a_working_call(fuzzed: AuthdServer) -> None:
    """Each link the document declares on a token response, followed exactly as written, is
    answered 2xx: a client generated from the document can walk login -> use -> refresh -> revoke."""
    document = openapi_document()
    operations = {op["operationId"]: (path, method) for path, ops in document["paths"].items()
                  for method, op in ops.items()}
    links = document["paths"]["/v1/token"]["post"]["responses"]["200"]["links"]
    email = f"links-{secrets.token_hex(6)}@example.com"
    with httpx.Client(base_url=fuzzed.url, timeout=30) as http:
        assert http.post("/v1/users", json={"email": email, "password": PASSWORD}).status_code == 201
        for name, link in links.items():
            tokens = http.post("/v1/token", data={"grant_type": "password", "username": email,
                                                  "password": PASSWORD})
            assert tokens.status_code == 200, tokens.text
            path, method = operations[link["operationId"]]
            headers = {key.removeprefix("header."): _resolve(value, tokens.json())
                       for key, value in link.get("parameters", {}).items()}
            body = {key: _resolve(value, tokens.json())
                    for key, value in link.get("requestBody", {}).items()}
            answer = http.request(method.upper(), path, headers=headers, data=body or None)
            assert 200 <= answer.status_code < 300, (name, answer.status_code, answer.text)


def test_document_links_name_real_operations() -> None:
    """Each link targets a documented operation, so the flows in the contract are walkable."""
    ids = {op["operationId"] for ops in openapi_document()["paths"].values() for op in ops.values()}
    for path, ops in openapi_document()["paths"].items():
        for op in ops.values():
            for response in op["responses"].values():
                for name, link in response.get("links", {}).items():
                    assert link["operationId"] in ids, (path, name)
