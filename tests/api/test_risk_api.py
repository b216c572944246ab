"""Risk questionnaire, assessments (append-only) and the risk profile, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from api.db import make_engine
from tests.api.conftest import answers_for, assess, new_customer_id


def test_questionnaire_is_versioned_and_bilingual(client, tokens):
    body = client.get("/v1/risk/questionnaire", headers={**tokens.ops(), "Accept-Language": "*"}).json()
    assert body["version"]
    assert len(body["questions"]) >= 12
    first = body["questions"][0]
    assert first["text_zh"] and first["text_en"] and first["options"]


def test_assessment_is_stored_and_becomes_the_profile(client, tokens):
    cid = new_customer_id()
    stored = assess(client, tokens, cid)
    assert stored["customer_id"] == cid and stored["created_by"] == cid
    assert stored["level"] in {"C1", "C2", "C3", "C4", "C5"}
    assert stored["questionnaire_version"] == "v1"
    profile = client.get(f"/v1/customers/{cid}/risk-profile", headers=tokens.customer(cid)).json()
    assert profile["assessment_id"] == stored["id"]
    assert profile["level"] == stored["level"] and profile["expired"] is False


def test_boldest_answers_rate_higher_than_most_cautious(client, tokens):
    cautious, bold = new_customer_id(), new_customer_id()
    low = assess(client, tokens, cautious, pick="A")
    headers = tokens.customer(bold)
    qn = client.get("/v1/risk/questionnaire", headers=headers).json()
    best = {q["id"]: max(q["options"], key=lambda o: o["score"])["id"] for q in qn["questions"]}
    best.update({q["id"]: q["options"][2]["id"] for q in qn["questions"] if q["dimension"] == "basic"})
    response = client.post(f"/v1/customers/{bold}/risk-assessments", headers=headers, json={"answers": best})
    assert response.status_code == 201, response.text
    assert int(response.json()["level"][1]) > int(low["level"][1])


def test_unknown_option_is_422_naming_the_question(client, tokens):
    cid = new_customer_id()
    headers = tokens.customer(cid)
    answers = answers_for(client, headers)
    first = next(iter(answers))
    answers[first] = "ZZ"
    response = client.post(f"/v1/customers/{cid}/risk-assessments", headers=headers, json={"answers": answers})
    assert response.status_code == 422
    body = response.json()
    assert set(body) == {"code", "message", "details"}
    assert first in body["message"]


def test_missing_answers_and_unknown_fields_are_named(client, tokens):
    cid = new_customer_id()
    headers = tokens.customer(cid)
    response = client.post(f"/v1/customers/{cid}/risk-assessments", headers=headers, json={})
    assert response.status_code == 422 and response.json()["details"]["field"] == "body.answers"
    response = client.post(f"/v1/customers/{cid}/risk-assessments", headers=headers,
                           json={"answers": {}, "color": "red"})
    assert response.status_code == 422 and response.json()["details"]["field"] == "body.color"
    response = client.post(f"/v1/customers/{cid}/risk-assessments", headers=headers,
                           json={"answers": answers_for(client, headers), "facts": {"age": 7}})
    assert response.status_code == 422 and response.json()["details"]["field"] == "body.facts.age"


def test_refusal_is_c1(client, tokens):
    cid = new_customer_id()
    response = client.post(f"/v1/customers/{cid}/risk-assessments", headers=tokens.customer(cid),
                           json={"refused": True})
    assert response.status_code == 201, response.text
    assert response.json()["level"] == "C1"


def test_no_assessment_is_404_assessment_required(client, tokens):
    cid = new_customer_id()
    response = client.get(f"/v1/customers/{cid}/risk-profile", headers=tokens.customer(cid))
    assert response.status_code == 404 and response.json()["code"] == "assessment_required"


def test_bad_input_loses_nothing_and_history_is_append_only(client, tokens, db_url):
    cid = new_customer_id()
    first = assess(client, tokens, cid, pick="A")
    client.post(f"/v1/customers/{cid}/risk-assessments", headers=tokens.customer(cid), json={"answers": {"x": "y"}})
    second = assess(client, tokens, cid)
    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            ids = {r[0] for r in conn.execute(text("SELECT id FROM risk_assessments WHERE customer_id = :c"),
                                              {"c": cid})}
        assert ids == {first["id"], second["id"]}
        for statement in ("UPDATE risk_assessments SET level = 5 WHERE customer_id = :c",
                          "DELETE FROM risk_assessments WHERE customer_id = :c"):
            with pytest.raises(DBAPIError), engine.begin() as conn:
                conn.execute(text(statement), {"c": cid})
    finally:
        engine.dispose()
    profile = client.get(f"/v1/customers/{cid}/risk-profile", headers=tokens.customer(cid)).json()
    assert profile["assessment_id"] == second["id"]
