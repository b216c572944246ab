"""Property-based fuzzing of every operation in the app's own OpenAPI spec (Schemathesis, in-process ASGI),
on SQLite and PostgreSQL.

Generated requests — valid and invalid — go out with an ops token and with the prepared customer's own
token (so the routes only a customer may use are reached too). Every answer must match its documented
status code, content type, headers and response schema, never be a 5xx, and schema-invalid requests must
be refused (negative data rejection). Examples are bounded so the run stays around a minute per database.
"""

from __future__ import annotations

import itertools

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    allow_header_conformance,
    content_type_conformance,
    negative_data_rejection,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
    unsupported_method,
)

from api.app import build_state, create_app
from api.auth import mint_token
from api.settings import Settings
from tests.api.conftest import UNLIMITED, answers_for

CUSTOMER = "fuzz-customer"
# What a schema-valid request may still be told: who may do it, what exists, what the stored state allows
# (401/403/404/409/429) — and 422 from a domain rule the schema cannot express (an unknown fund code, an
# unanswered question, a product within the customer's level), never 422 `validation_error` or a 400:
# those would mean the published schema and the service's validation disagree (#15: "valid-by-schema
# bodies refused").
ACCEPTABLE = {*range(200, 300), 401, 403, 404, 409, 429}


def schema_valid_requests_pass_validation(ctx, response, case) -> bool | None:
    """schemathesis check: the service's request validation accepts every request the spec says is valid."""
    if case.meta is None or case.meta.generation.mode.is_negative or response.status_code in ACCEPTABLE:
        return None
    try:
        code = response.json().get("code")
    except ValueError:
        code = None
    if response.status_code == 422 and code not in (None, "validation_error"):
        return None  # a domain rule, named by its own code
    raise AssertionError(f"schema-valid request refused: {response.status_code} {response.text[:300]}")


CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
          response_headers_conformance, negative_data_rejection, unsupported_method, allow_header_conformance,
          schema_valid_requests_pass_validation]
# Not `ignored_auth` / `missing_required_header`: every case carries a valid token (set below), so those two
# would judge our token, not the service; tests/api/test_auth_matrix.py sends every route without a token,
# with malformed ones and with each other role's.


@pytest.fixture(scope="module")
def fuzz_app(db_url, demo_universe):
    from fastapi.testclient import TestClient

    settings_ = Settings(database_url=db_url, demo=True, jwt_secret="fuzz-secret-0123456789abcdef0123456789",
                         **UNLIMITED)
    app = create_app(settings_, universe=demo_universe)
    app.state.advisor = build_state(settings_, demo_universe)
    ops = {"Authorization": f"Bearer {mint_token(settings_, 'ops', 'fuzz-ops')}"}
    own = {"Authorization": f"Bearer {mint_token(settings_, 'customer', CUSTOMER)}"}
    with TestClient(app) as client:
        # a customer with a valid assessment and stored holdings, so the deeper paths run too
        assert client.post(f"/v1/customers/{CUSTOMER}/risk-assessments", headers=own,
                           json={"answers": answers_for(client, own)}).status_code == 201
        code = client.get("/v1/funds?max_risk_level=2&limit=1", headers=ops).json()["items"][0]["code"]
        client.put(f"/v1/customers/{CUSTOMER}/holdings", headers=ops,
                   json={"holdings": [{"code": code, "amount": 5000, "purchase_date": "2025-01-02"}]})
    app.state.fuzz_callers = itertools.cycle([ops, own])
    return app


@pytest.fixture
def api_schema(fuzz_app):
    return schemathesis.openapi.from_asgi("/openapi.json", fuzz_app)


schema = schemathesis.pytest.from_fixture("api_schema")
_alternate = itertools.cycle([True, False])


@schema.parametrize()
@settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_every_operation_conforms(case, fuzz_app):
    positive = case.meta is None or not case.meta.generation.mode.is_negative
    # Half of the valid customer-scoped requests go to the prepared customer, so the deeper paths
    # (proposals, diagnosis, rebalancing, mismatch warnings) see generated bodies too; an invalid request
    # keeps its generated path, so what makes it invalid is still sent.
    if positive and "customer_id" in (case.path_parameters or {}) and next(_alternate):
        case.path_parameters["customer_id"] = CUSTOMER
    # the token goes into the case itself, so the negative-data check knows the request carries one
    case.headers = {**(case.headers or {}), **next(fuzz_app.state.fuzz_callers)}
    case.call_and_validate(checks=CHECKS)
