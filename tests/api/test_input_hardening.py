"""Abuse inputs: strict types, control characters, oversized streamed bodies, future dates, hostile
tokens — each a 4xx in the one error shape, never a 500 and never a library's internal message."""

from __future__ import annotations

import base64
import json
import time
from datetime import timedelta

import jwt
import pytest

from api.clock import business_today
from tests.api.conftest import assess, new_customer_id


def assert_error(response, status: int, field: str | None = None, code: str | None = None) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"code", "message", "details"}
    if field is not None:
        assert body["details"]["field"] == field, body
    if code is not None:
        assert body["code"] == code, body
    return body


def test_streamed_body_over_the_limit_is_413_not_422(client, tokens, settings):
    cid = new_customer_id()
    row = b'"q%d": "' + b"A" * 200 + b'",'

    def chunks():
        yield b'{"answers": {'
        for i in range(settings.max_body_bytes // 200 + 10):
            yield row % i
        yield b'"z": "A"}}'

    response = client.post(f"/v1/customers/{cid}/risk-assessments", content=chunks(),
                           headers={**tokens.customer(cid), "Content-Type": "application/json"})
    assert response.request.headers.get("transfer-encoding") == "chunked"
    assert_error(response, 413, code="payload_too_large")


@pytest.mark.parametrize(("body", "field"), [
    ({"amount": True, "horizon_years": 3}, "body.amount"),          # was a ¥1 proposal
    ({"amount": "50000", "horizon_years": 3}, "body.amount"),       # strings are not numbers
    ({"amount": 50000, "horizon_years": "3"}, "body.horizon_years"),
    ({"amount": 50000, "horizon_years": 3, "target_return": "0.05"}, "body.target_return"),
    ({"amount": 50000, "horizon_years": True}, "body.horizon_years"),
])
def test_numbers_are_not_coerced(client, tokens, body, field):
    cid = new_customer_id()
    assess(client, tokens, cid)
    assert_error(client.post(f"/v1/customers/{cid}/proposals", headers=tokens.customer(cid), json=body), 422,
                 field=field)


def test_booleans_dates_and_integers_are_not_coerced(client, tokens):
    cid = new_customer_id()
    assess(client, tokens, cid)
    url = f"/v1/customers/{cid}/mismatch-acknowledgements"
    body = {"product_code": "900001", "acknowledged": "true"}
    assert_error(client.post(url, headers=tokens.customer(cid), json=body), 422, field="body.acknowledged")
    holdings = f"/v1/customers/{cid}/holdings"
    for day in (1_700_000_000, "2024-01-02T00:00:00", "20240102"):
        lot = {"code": "900001", "amount": 100, "purchase_date": day}
        assert_error(client.put(holdings, headers=tokens.ops(), json={"holdings": [lot]}), 422,
                     field="body.holdings.0.purchase_date")
    assert_error(client.put(f"/v1/customers/{cid}", headers=tokens.ops(), json={"age": "41"}), 422, field="body.age")


def test_whole_number_json_is_accepted_for_money(client, tokens):
    cid = new_customer_id()
    assess(client, tokens, cid)
    response = client.post(f"/v1/customers/{cid}/proposals", headers=tokens.customer(cid),
                           json={"amount": 50000, "horizon_years": 3})
    assert response.status_code == 201, response.text


def test_target_return_bounds_agree_with_the_core(client, tokens):
    cid = new_customer_id()
    assess(client, tokens, cid)
    for target in (-0.5, 1.0):  # the schema's bounds are accepted by the core too
        response = client.post(f"/v1/customers/{cid}/proposals", headers=tokens.customer(cid),
                               json={"amount": 50000, "horizon_years": 3, "target_return": target})
        assert response.status_code == 201, (target, response.text)
    for target in (-0.51, 1.01):
        response = client.post(f"/v1/customers/{cid}/proposals", headers=tokens.customer(cid),
                               json={"amount": 50000, "horizon_years": 3, "target_return": target})
        assert_error(response, 422, field="body.target_return")


@pytest.mark.parametrize("text", ["a\x00b", "line\nbreak", "tab\there", "bell\x07"])
def test_control_characters_in_text_are_refused(client, tokens, text):
    cid = new_customer_id()
    headers = tokens.customer(cid)
    response = client.post(f"/v1/customers/{cid}/risk-assessments", headers=headers,
                           json={"answers": {"Q01": text}})
    assert_error(response, 422, field="body.answers")
    response = client.post(f"/v1/customers/{cid}/risk-assessments", headers=headers,
                           json={"refused": True, "facts": {"occupation": text}})
    assert_error(response, 422, field="body.facts.occupation")


def test_purchase_dates_in_the_future_are_refused(client, tokens):
    cid = new_customer_id()
    tomorrow = (business_today() + timedelta(days=1)).isoformat()
    lot = {"code": "900001", "amount": 1000, "purchase_date": tomorrow}
    assert_error(client.put(f"/v1/customers/{cid}/holdings", headers=tokens.ops(), json={"holdings": [lot]}), 422,
                 field="body.holdings.0.purchase_date", code="date_in_future")  # a rule of the day, not the schema
    ancient = assert_error(client.put(f"/v1/customers/{cid}/holdings", headers=tokens.ops(),
                                      json={"holdings": [{**lot, "purchase_date": "1989-12-31"}]}), 422,
                           field="body.holdings.0.purchase_date", code="validation_error")
    assert "1990-01-01" in ancient["message"] and "datetime" not in ancient["message"]
    assess(client, tokens, cid)
    assert_error(client.post(f"/v1/customers/{cid}/diagnosis", headers=tokens.customer(cid),
                             json={"holdings": [lot]}), 422, field="body.holdings.0.purchase_date")
    today = {**lot, "purchase_date": business_today().isoformat()}
    assert client.put(f"/v1/customers/{cid}/holdings", headers=tokens.ops(), json={"holdings": [today]}
                      ).status_code == 200


def signed(settings, **claims) -> dict[str, str]:
    now = int(time.time())
    payload = {"role": "customer", "iat": now, "exp": now + 600, "iss": settings.jwt_issuer, **claims}
    return {"Authorization": "Bearer " + jwt.encode(payload, settings.signing_key, algorithm="HS256")}


@pytest.mark.parametrize("sub", ["c\x00nul", "c\nnewline", "c with space", "c'quote", "x" * 65, ""])
def test_token_subject_with_control_characters_is_401_on_every_database(client, settings, sub):
    response = client.post("/v1/customers/c1/risk-assessments", headers=signed(settings, sub=sub),
                           json={"refused": True})
    assert_error(response, 401, code="invalid_token")


def test_tokens_have_a_maximum_lifetime(client, settings):
    now = int(time.time())
    too_long = signed(settings, sub="c-life", iat=now, exp=now + settings.jwt_max_lifetime_minutes * 60 + 120)
    assert_error(client.get("/v1/funds?limit=1", headers=too_long), 401, code="invalid_token")
    future = signed(settings, sub="c-life", iat=now + 3600, exp=now + 7200)
    assert_error(client.get("/v1/funds?limit=1", headers=future), 401, code="invalid_token")
    fine = signed(settings, sub="c-life", iat=now, exp=now + 3600)
    assert client.get("/v1/funds?limit=1", headers=fine).status_code == 200


def test_error_messages_do_not_echo_library_internals(client):
    garbage = base64.urlsafe_b64encode(b"\xff\xfe\xfa").decode().rstrip("=")
    for token in (f"{garbage}.{garbage}.{garbage}", "a.b.c", "x" * 100):
        body = assert_error(client.get("/v1/funds", headers={"Authorization": f"Bearer {token}"}), 401)
        assert "codec" not in body["message"] and "utf-8" not in body["message"].lower(), body


def test_invalid_utf8_body_is_a_plain_422(client, tokens):
    cid = new_customer_id()
    headers = {**tokens.customer(cid), "Content-Type": "application/json"}
    body = assert_error(client.post(f"/v1/customers/{cid}/proposals", content=b'{"amount": "\xff"}',
                                    headers=headers), 422, field="body")
    assert "codec" not in json.dumps(body)


def test_docs_are_served_without_a_cdn(client):
    for page in ("/docs", "/redoc"):
        html = client.get(page).text
        assert "cdn." not in html and "unpkg" not in html and "fonts.googleapis" not in html, page
        assets = [part.split('"')[0] for part in html.split('"/docs-assets/')[1:]]
        assert assets, page
        for asset in assets:
            response = client.get("/docs-assets/" + asset)
            assert response.status_code == 200 and len(response.content) > 100, asset
