"""One error shape and a 4xx naming the field for every kind of bad input (no 5xx)."""

from __future__ import annotations

import re

import pytest

from tests.api.conftest import assess, new_customer_id


@pytest.fixture(scope="module")
def db_url(tmp_path_factory):
    """Input validation does not touch storage semantics; SQLite keeps it quick."""
    return f"sqlite:///{tmp_path_factory.mktemp('errors') / 'advisor.db'}"


def assert_error(response, status: int, field: str | None = None, code: str | None = None) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"code", "message", "details"}
    if field is not None:
        assert body["details"]["field"] == field, body
    if code is not None:
        assert body["code"] == code
    return body


def test_oversized_body_is_413(client, tokens):
    cid = new_customer_id()
    huge = {"answers": {f"q{i}": "A" * 200 for i in range(10_000)}}
    assert_error(client.post(f"/v1/customers/{cid}/risk-assessments", headers=tokens.customer(cid), json=huge),
                 413, code="payload_too_large")


def test_malformed_json_and_wrong_types_name_the_body(client, tokens):
    cid = new_customer_id()
    headers = {**tokens.customer(cid), "Content-Type": "application/json"}
    assert_error(client.post(f"/v1/customers/{cid}/proposals", headers=headers, content=b"{not json"),
                 422, field="body")
    assert_error(client.post(f"/v1/customers/{cid}/proposals", headers=headers, content=b"[1, 2]"), 422)
    assert_error(client.post(f"/v1/customers/{cid}/proposals", headers=headers,
                             content=b'{"amount": NaN, "horizon_years": 3}'), 422)


def test_bad_path_and_query_parameters_are_named(client, tokens):
    ops = tokens.ops()
    assert_error(client.get("/v1/customers/bad%20id/risk-profile", headers=ops), 422, field="path.customer_id")
    assert_error(client.get("/v1/proposals/not-a-uuid", headers=ops), 422, field="path.proposal_id")
    assert_error(client.get("/v1/funds/%E4%B8%AD", headers=ops), 422, field="path.code")
    assert_error(client.get("/v1/funds?max_risk_level=9", headers=ops), 422, field="query.max_risk_level")
    assert_error(client.get("/v1/funds?fund_type=crypto", headers=ops), 422, field="query.fund_type")
    assert_error(client.get("/v1/funds?offset=-1", headers=ops), 422, field="query.offset")
    assert_error(client.get("/v1/funds/999999", headers=ops), 404, code="fund_not_found")


def test_holdings_in_body_are_validated_per_field(client, tokens):
    cid = new_customer_id()
    assess(client, tokens, cid)
    url = f"/v1/customers/{cid}/diagnosis"
    headers = tokens.customer(cid)
    no_size = {"holdings": [{"code": "900001", "purchase_date": "2024-01-01"}]}
    assert_error(client.post(url, headers=headers, json=no_size),
                 422, field="body.holdings.0")
    assert_error(client.post(url, headers=headers, json={"holdings": [
        {"code": "900001", "amount": -1, "purchase_date": "2024-01-01"}]}), 422, field="body.holdings.0.amount")
    assert_error(client.post(url, headers=headers, json={"holdings": [
        {"code": "123456", "amount": 10, "purchase_date": "2024-01-01"}]}), 422, field="body.holdings")
    assert_error(client.post(url, headers=headers, json={"cash": "plenty"}), 422, field="body.cash")


def test_unknown_route_and_method_use_the_error_shape(client, tokens):
    assert_error(client.get("/v1/nothing-here", headers=tokens.ops()), 404)
    assert_error(client.delete("/v1/funds", headers=tokens.ops()), 405)


def test_unsupported_methods_answer_405_allowing_exactly_what_the_spec_declares(client, tokens):
    """Starlette named only the first matching route's method: OPTIONS on holdings said `Allow: PUT`."""
    spec = client.get("/openapi.json").json()
    verbs = {"get", "put", "post", "delete", "patch"}
    for path, operations in spec["paths"].items():
        url = re.sub(r"\{[^}]+\}", "x-1", path)
        declared = sorted(m.upper() for m in operations if m in verbs)
        for method in ("OPTIONS", *(sorted(verbs - set(operations)))):
            response = client.request(method.upper(), url, headers=tokens.ops())
            assert_error(response, 405)
            assert response.headers["allow"] == ", ".join(declared), (method, path)


def test_diagnosis_and_rebalance_answer_for_a_batch_of_one(client, tokens):
    cid = new_customer_id()
    assess(client, tokens, cid)
    body = {"holdings": [{"code": "900001", "amount": 20_000, "purchase_date": "2024-03-01"}], "cash": 1000,
            "monthly_expenses": 3000}
    diagnosis = client.post(f"/v1/customers/{cid}/diagnosis", headers=tokens.customer(cid), json=body)
    assert diagnosis.status_code == 200, diagnosis.text
    assert diagnosis.json()["holdings_source"] == "body"
    assert 0 <= diagnosis.json()["result"]["health_score"] <= 100
    rebalance = client.post(f"/v1/customers/{cid}/rebalance", headers=tokens.customer(cid), json=body)
    assert rebalance.status_code == 201, rebalance.text
    assert rebalance.json()["plan"]["customer_id"] == cid and rebalance.json()["holdings_source"] == "body"
