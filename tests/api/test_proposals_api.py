"""Proposals, confirmations (exactly once) and mismatch acknowledgements, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from api.db import make_engine
from tests.api.conftest import assess, insert_expired_assessment, new_customer_id

BODY = {"amount": 100_000, "horizon_years": 3}


def count(db_url: str, sql: str, **params: object) -> int:
    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(text(sql), params).scalar_one())
    finally:
        engine.dispose()


def test_no_assessment_means_no_strategy(client, tokens):
    cid = new_customer_id()
    response = client.post(f"/v1/customers/{cid}/proposals", headers=tokens.customer(cid), json=BODY)
    assert response.status_code == 409
    assert response.json()["code"] == "assessment_required"


def test_expired_assessment_is_refused(client, tokens, db_url):
    cid = new_customer_id()
    insert_expired_assessment(db_url, cid)
    response = client.post(f"/v1/customers/{cid}/proposals", headers=tokens.customer(cid), json=BODY)
    assert response.status_code == 409
    assert response.json()["code"] == "assessment_expired"


def test_proposal_is_stored_suitable_and_readable(client, tokens):
    cid = new_customer_id()
    level = int(assess(client, tokens, cid)["level"][1])
    response = client.post(f"/v1/customers/{cid}/proposals", headers=tokens.customer(cid),
                           json={**BODY, "target_return": 0.04})
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["status"] == "open" and created["level"] == f"C{level}"
    lines = created["proposal"]["lines"]
    assert lines and all(int(str(line["risk_level"]).lstrip("R")) <= level for line in lines)
    assert created["universe_version"] and created["model_version"] and created["questionnaire_version"] == "v1"
    again = client.get(f"/v1/proposals/{created['id']}", headers=tokens.customer(cid)).json()
    assert again["proposal"] == created["proposal"]


def test_bad_proposal_input_names_the_field(client, tokens):
    cid = new_customer_id()
    assess(client, tokens, cid)
    for body, field in (({"amount": -5, "horizon_years": 3}, "body.amount"),
                        ({"amount": 1000}, "body.horizon_years"),
                        ({"amount": 1000, "horizon_years": 3, "target_return": 9}, "body.target_return"),
                        ({"amount": "lots", "horizon_years": 3}, "body.amount")):
        response = client.post(f"/v1/customers/{cid}/proposals", headers=tokens.customer(cid), json=body)
        assert response.status_code == 422, body
        assert response.json()["details"]["field"] == field


def make_proposal(client, tokens, cid: str, assessed: bool = False) -> dict:
    if not assessed:
        assess(client, tokens, cid)
    response = client.post(f"/v1/customers/{cid}/proposals", headers=tokens.customer(cid), json=BODY)
    assert response.status_code == 201, response.text
    return response.json()


def test_confirmation_is_recorded_once_however_often_retried(client, tokens, db_url):
    cid = new_customer_id()
    proposal = make_proposal(client, tokens, cid)
    headers = {**tokens.customer(cid), "Idempotency-Key": "key-" + cid}
    first = client.post(f"/v1/proposals/{proposal['id']}/confirm", headers=headers)
    assert first.status_code == 201, first.text
    orders = first.json()["orders"]
    assert [o["fund_code"] for o in orders] == [line["code"] for line in proposal["proposal"]["lines"]]
    assert sum(o["amount"] for o in orders) > 0
    for _ in range(3):
        retry = client.post(f"/v1/proposals/{proposal['id']}/confirm", headers=headers)
        assert retry.status_code == 200 and retry.json()["id"] == first.json()["id"]
        assert retry.json()["replayed"] is True
    other_key = client.post(f"/v1/proposals/{proposal['id']}/confirm",
                            headers={**tokens.customer(cid), "Idempotency-Key": "another-" + cid})
    assert other_key.status_code == 409 and other_key.json()["code"] == "proposal_already_confirmed"
    assert count(db_url, "SELECT count(*) FROM confirmations WHERE proposal_id = :p", p=proposal["id"]) == 1
    status = client.get(f"/v1/proposals/{proposal['id']}", headers=tokens.customer(cid)).json()["status"]
    assert status == "confirmed"


def test_confirm_needs_a_well_formed_idempotency_key(client, tokens):
    cid = new_customer_id()
    proposal = make_proposal(client, tokens, cid)
    missing = client.post(f"/v1/proposals/{proposal['id']}/confirm", headers=tokens.customer(cid))
    assert missing.status_code == 422 and missing.json()["details"]["field"] == "header.Idempotency-Key"
    short = client.post(f"/v1/proposals/{proposal['id']}/confirm",
                        headers={**tokens.customer(cid), "Idempotency-Key": "x"})
    assert short.status_code == 422


def test_key_reused_for_another_proposal_is_refused(client, tokens):
    cid = new_customer_id()
    p1, p2 = make_proposal(client, tokens, cid), make_proposal(client, tokens, cid, assessed=True)
    headers = {**tokens.customer(cid), "Idempotency-Key": "shared-" + cid}
    assert client.post(f"/v1/proposals/{p1['id']}/confirm", headers=headers).status_code == 201
    reused = client.post(f"/v1/proposals/{p2['id']}/confirm", headers=headers)
    assert reused.status_code == 422 and reused.json()["code"] == "idempotency_key_reused"


def test_expired_proposal_cannot_be_confirmed(client, tokens, db_url):
    cid = new_customer_id()
    proposal = make_proposal(client, tokens, cid)
    # proposals are append-only, so an old proposal is written as old rather than aged in place
    engine = make_engine(db_url)
    old = datetime.now(UTC) - timedelta(hours=2)
    pid = "00000000-0000-4000-8000-" + cid[-12:]
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO proposals (id, customer_id, assessment_id, level, amount, horizon_years, target_return, "
            "expires_at, universe_version, model_version, questionnaire_version, body, created_by_role, created_by, "
            "created_at) SELECT :pid, customer_id, assessment_id, level, amount, horizon_years, target_return, "
            ":exp, universe_version, model_version, questionnaire_version, body, created_by_role, created_by, :old "
            "FROM proposals WHERE id = :src"), {"pid": pid, "exp": old + timedelta(minutes=30), "old": old,
                                                "src": proposal["id"]})
    engine.dispose()
    assert client.get(f"/v1/proposals/{pid}", headers=tokens.customer(cid)).json()["status"] == "expired"
    response = client.post(f"/v1/proposals/{pid}/confirm",
                           headers={**tokens.customer(cid), "Idempotency-Key": "late-" + cid})
    assert response.status_code == 409 and response.json()["code"] == "proposal_expired"


def test_unknown_proposal_is_404(client, tokens):
    response = client.get("/v1/proposals/00000000-0000-4000-8000-000000000000", headers=tokens.ops())
    assert response.status_code == 404 and response.json()["code"] == "proposal_not_found"


def high_risk_fund(client, tokens, above: int) -> str:
    funds = client.get("/v1/funds?limit=200", headers=tokens.ops()).json()["items"]
    return next(f["code"] for f in funds if int(f["risk_level"][1]) > above)


def test_mismatch_warning_then_recorded_confirmation(client, tokens, db_url):
    cid = new_customer_id()
    level = int(assess(client, tokens, cid, pick="B")["level"][1])
    code = high_risk_fund(client, tokens, level)
    url = f"/v1/customers/{cid}/mismatch-acknowledgements"
    both = {**tokens.customer(cid), "Accept-Language": "zh-CN, en"}  # the RM's tools ask for both languages
    preview = client.post(url, headers=both, json={"product_code": code, "acknowledged": False})
    assert preview.status_code == 200, preview.text
    assert preview.json()["recorded"] is False and preview.json()["warning_zh"] and preview.json()["warning_en"]
    assert count(db_url, "SELECT count(*) FROM mismatch_acknowledgements WHERE customer_id = :c", c=cid) == 0
    recorded = client.post(url, headers=tokens.customer(cid), json={"product_code": code, "acknowledged": True})
    assert recorded.status_code == 201 and recorded.json()["recorded"] is True
    assert count(db_url, "SELECT count(*) FROM mismatch_acknowledgements WHERE customer_id = :c", c=cid) == 1


def test_mismatch_refused_for_wealth_products_and_lowest_category(client, tokens):
    cid = new_customer_id()
    level = int(assess(client, tokens, cid, pick="B")["level"][1])
    assert level < 5
    url = f"/v1/customers/{cid}/mismatch-acknowledgements"
    blocked = client.post(url, headers=tokens.customer(cid), json={
        "product_code": "WM001", "product_kind": "wealth_management", "product_level": level + 1,
        "acknowledged": True})
    assert blocked.status_code == 403, blocked.text
    missing_level = client.post(url, headers=tokens.customer(cid), json={
        "product_code": "WM001", "product_kind": "wealth_management", "acknowledged": True})
    assert missing_level.status_code == 422 and missing_level.json()["details"]["field"] == "body.product_level"
    funds = client.get("/v1/funds?limit=200", headers=tokens.ops()).json()["items"]
    within = next(f["code"] for f in funds if int(f["risk_level"][1]) <= level)
    not_needed = client.post(url, headers=tokens.customer(cid), json={"product_code": within, "acknowledged": True})
    assert not_needed.status_code == 422
    lowest = new_customer_id()
    response = client.post(f"/v1/customers/{lowest}/risk-assessments", headers=tokens.customer(lowest),
                           json={"refused": True})
    assert response.json()["lowest_category"] is True
    refused = client.post(f"/v1/customers/{lowest}/mismatch-acknowledgements", headers=tokens.customer(lowest),
                          json={"product_code": high_risk_fund(client, tokens, 1), "acknowledged": True})
    assert refused.status_code == 403


def confirm(client, tokens, cid: str, pid: str, key: str):
    return client.post(f"/v1/proposals/{pid}/confirm", headers={**tokens.customer(cid), "Idempotency-Key": key})


def test_confirmation_rechecks_suitability_against_the_current_assessment(client, tokens, db_url):
    """A proposal made at the boldest level is not executed after the customer re-assessed to the
    lowest category: no order for an R4/R5 fund is created."""
    cid = new_customer_id()
    assert assess(client, tokens, cid, pick="E")["level"] == "C5"
    response = client.post(f"/v1/customers/{cid}/proposals", headers=tokens.customer(cid),
                           json={"amount": 500_000, "horizon_years": 10})
    proposal = response.json()
    assert max(int(line["risk_level"][1]) for line in proposal["proposal"]["lines"]) >= 4
    refused = client.post(f"/v1/customers/{cid}/risk-assessments", headers=tokens.customer(cid),
                          json={"refused": True})
    assert refused.json()["lowest_category"] is True
    answer = confirm(client, tokens, cid, proposal["id"], "after-reassess-" + cid)
    assert answer.status_code == 409 and answer.json()["code"] == "assessment_changed", answer.text
    assert count(db_url, "SELECT count(*) FROM confirmations WHERE customer_id = :c", c=cid) == 0


def test_proposal_without_lines_cannot_be_confirmed(client, tokens, db_url):
    cid = new_customer_id()
    assess(client, tokens, cid)
    tiny = client.post(f"/v1/customers/{cid}/proposals", headers=tokens.customer(cid),
                       json={"amount": 1, "horizon_years": 2}).json()
    assert tiny["proposal"]["lines"] == []
    answer = confirm(client, tokens, cid, tiny["id"], "empty-" + cid)
    assert answer.status_code == 409 and answer.json()["code"] == "proposal_empty"
    assert count(db_url, "SELECT count(*) FROM confirmations WHERE customer_id = :c", c=cid) == 0


def test_foreign_proposal_is_404_like_an_unknown_one(client, tokens):
    owner, stranger = new_customer_id(), new_customer_id()
    proposal = make_proposal(client, tokens, owner)
    for response in (client.get(f"/v1/proposals/{proposal['id']}", headers=tokens.customer(stranger)),
                     confirm(client, tokens, stranger, proposal["id"], "foreign-" + stranger),
                     client.get(f"/v1/proposals/{proposal['id']}", headers=tokens.rm("rm-not-assigned"))):
        assert response.status_code == 404, response.text
        assert response.json()["code"] == "proposal_not_found"
        assert owner not in response.text


def test_a_proposal_says_how_old_its_data_is(client, tokens, monkeypatch):
    """The demo data ends 2026-02-13: served more than 10 days later, the proposal carries the stale-data
    warning (zh/en) and the data's date; served the next day it does not."""
    from datetime import date

    import api.clock

    cid = new_customer_id()
    assess(client, tokens, cid)
    monkeypatch.setattr(api.clock, "business_today", lambda: date(2026, 6, 1))
    created = client.post(f"/v1/customers/{cid}/proposals", headers=tokens.customer(cid), json=BODY).json()
    fresh = created["proposal"]["data_freshness"]
    assert fresh["data_as_of"] == "2026-02-13" and fresh["stale"] is True and fresh["days_beyond_data"] == 108
    assert fresh["warning"]["code"] == "stale_data" and "2026-02-13" in fresh["warning"]["zh"]
    monkeypatch.setattr(api.clock, "business_today", lambda: date(2026, 2, 14))
    created = client.post(f"/v1/customers/{cid}/proposals", headers=tokens.customer(cid), json=BODY).json()
    assert created["proposal"]["data_freshness"]["stale"] is False
