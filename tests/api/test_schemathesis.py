"""Schemathesis against the generated OpenAPI document, through the Flask app (WSGI, no network).

Every operation is called with generated, schema-valid requests using a token of a role the
operation allows (its `x-roles`), so the success paths are exercised, not only the 403s. Checked:
no 5xx, every status and content type documented, every response body and header conforming to
the document. (Business refusals of schema-valid input, 409/412/422, are documented answers.)
A second pass sends schema-violating requests: never a 5xx, always a problem document.

One test per operation, parametrized from the route registry (Schemathesis's own lazy pytest
loader does not run under pytest 9); each draws its cases from `operation.as_strategy()`.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from marketplace.web.api.openapi import _path
from marketplace.web.api.registry import OPERATIONS

from .conftest import District

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
          response_headers_conformance]
#: Examples per operation: enough to reach the success paths and the refusals, few enough to stay fast.
MAX_EXAMPLES = 12
#: Schema-violating examples per operation (wrong types, missing fields, bad parameters).
MAX_NEGATIVE = 8
LABELS = sorted({(op.method, _path(op.rule)[0]) for op in OPERATIONS})


@pytest.fixture(scope="module")
def api_schema(shared_app):
    district: District = shared_app.config["TEST_DISTRICT"]
    return schemathesis.openapi.from_wsgi("/api/openapi.json", shared_app, headers=district.headers("planner"))


def test_every_operation_is_fuzzed(api_schema):
    documented = {(op.ok().method.upper(), op.ok().path) for op in api_schema.get_all_operations()}
    assert documented == set(LABELS)


@pytest.mark.parametrize(("method", "path"), LABELS, ids=[f"{m} {p}" for m, p in LABELS])
def test_api_conforms_to_its_openapi_document(api_schema, shared_app, method, path):
    district: District = shared_app.config["TEST_DISTRICT"]
    operation = api_schema[path][method]
    role = operation.definition.raw["x-roles"][0]
    headers = {"Authorization": district.headers(role)["Authorization"]}

    @given(case=operation.as_strategy())
    @settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
    def run(case: schemathesis.Case) -> None:
        case.call_and_validate(headers=headers, checks=CHECKS)

    run()


@pytest.mark.parametrize(("method", "path"), LABELS, ids=[f"{m} {p}" for m, p in LABELS])
def test_invalid_requests_are_4xx_problems(api_schema, shared_app, method, path):
    district: District = shared_app.config["TEST_DISTRICT"]
    operation = api_schema[path][method]
    role = operation.definition.raw["x-roles"][0]
    headers = {"Authorization": district.headers(role)["Authorization"]}

    @given(case=operation.as_strategy(generation_mode=GenerationMode.NEGATIVE))
    @settings(max_examples=MAX_NEGATIVE, deadline=None, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
    def run(case: schemathesis.Case) -> None:
        response = case.call(headers=headers)
        assert response.status_code < 500, response.text[:300]
        if response.status_code >= 400:
            content_type = {k.lower(): v for k, v in response.headers.items()}["content-type"][0]
            assert content_type.startswith("application/problem+json"), response.headers

    run()
