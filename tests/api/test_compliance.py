"""Who may act for a customer, recorded on every act; RM assignments revoked through the API; idempotency
keys scoped per customer (#15 items 7 and 8), on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import text

from api.db import make_engine
from tests.api.conftest import answers_for, assess, new_customer_id

SESSION = {"Assisted-Session-Id": "sr-2026-0001"}


def customer_with_rm(client, tokens, rm: str) -> str:
    cid = new_customer_id("act")
    assert client.put(f"/v1/customers/{cid}", headers=tokens.ops(), json={"rm_ids": [rm], "age": 50}
                      ).status_code == 200
    return cid


def test_ops_may_not_assess_for_a_customer(client, tokens):
    cid = customer_with_rm(client, tokens, "rm-act-1")
    ops = tokens.ops()
    response = client.post(f"/v1/customers/{cid}/risk-assessments", headers={**ops, **SESSION},
                           json={"answers": answers_for(client, ops)})
    assert response.status_code == 403 and response.json()["code"] == "not_permitted_on_behalf"
    assert client.get(f"/v1/customers/{cid}/risk-profile", headers=ops).status_code == 404


def test_an_rm_assesses_only_in_a_recorded_in_person_session_and_it_is_recorded(client, tokens, db_url):
    rm = "rm-act-2"
    cid = customer_with_rm(client, tokens, rm)
    body = {"answers": answers_for(client, tokens.rm(rm))}
    without = client.post(f"/v1/customers/{cid}/risk-assessments", headers=tokens.rm(rm), json=body)
    assert without.status_code == 403 and without.json()["code"] == "in_person_session_required"
    assert without.json()["details"]["field"] == "header.Assisted-Session-Id"
    other_rm = client.post(f"/v1/customers/{cid}/risk-assessments", headers={**tokens.rm("rm-x"), **SESSION},
                           json=body)
    assert other_rm.status_code == 403
    done = client.post(f"/v1/customers/{cid}/risk-assessments", headers={**tokens.rm(rm), **SESSION}, json=body)
    assert done.status_code == 201, done.text
    stored = done.json()
    assert (stored["created_by"], stored["created_by_role"]) == (rm, "rm")
    assert (stored["acting_capacity"], stored["assisted_session_id"]) == ("rm_in_person", "sr-2026-0001")
    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            row = conn.execute(text("SELECT acting_capacity, assisted_session_id FROM risk_assessments "
                                    "WHERE id = :id"), {"id": stored["id"]}).one()
    finally:
        engine.dispose()
    assert tuple(row) == ("rm_in_person", "sr-2026-0001")


def test_the_customers_own_acts_are_recorded_as_self(client, tokens):
    cid = new_customer_id("act")
    stored = assess(client, tokens, cid)
    assert (stored["acting_capacity"], stored["assisted_session_id"]) == ("self", None)
    proposal = client.post(f"/v1/customers/{cid}/proposals", headers=tokens.customer(cid),
                           json={"amount": 30_000, "horizon_years": 3}).json()
    confirmed = client.post(f"/v1/proposals/{proposal['id']}/confirm",
                            headers={**tokens.customer(cid), "Idempotency-Key": "self-" + cid})
    assert confirmed.status_code == 201 and confirmed.json()["acting_capacity"] == "self"


def test_confirmation_on_behalf_follows_the_same_rule(client, tokens):
    rm = "rm-act-3"
    cid = customer_with_rm(client, tokens, rm)
    assess(client, tokens, cid)
    proposal = client.post(f"/v1/customers/{cid}/proposals", headers=tokens.rm(rm),
                           json={"amount": 30_000, "horizon_years": 3})
    assert proposal.status_code == 201, proposal.text  # an RM may prepare a proposal ...
    url = f"/v1/proposals/{proposal.json()['id']}/confirm"
    key = {"Idempotency-Key": "behalf-" + cid}
    by_ops = client.post(url, headers={**tokens.ops(), **key, **SESSION})
    assert by_ops.status_code == 403 and by_ops.json()["code"] == "not_permitted_on_behalf"
    by_rm_alone = client.post(url, headers={**tokens.rm(rm), **key})  # ... but not confirm it alone
    assert by_rm_alone.status_code == 403 and by_rm_alone.json()["code"] == "in_person_session_required"
    by_rm = client.post(url, headers={**tokens.rm(rm), **key, **SESSION})
    assert by_rm.status_code == 201, by_rm.text
    assert (by_rm.json()["acting_capacity"], by_rm.json()["assisted_session_id"]) == ("rm_in_person",
                                                                                     "sr-2026-0001")


def test_revoked_rm_loses_access_at_once_and_history_is_kept(client, tokens, db_url):
    rm = "rm-revoke"
    cid = customer_with_rm(client, tokens, rm)
    assert client.get(f"/v1/customers/{cid}/holdings", headers=tokens.rm(rm)).status_code == 200
    assert client.delete(f"/v1/customers/{cid}/rm-assignments/{rm}", headers=tokens.rm(rm)).status_code == 403
    assert client.delete(f"/v1/customers/{cid}/rm-assignments/{rm}", headers=tokens.ops()).status_code == 204
    assert client.get(f"/v1/customers/{cid}/holdings", headers=tokens.rm(rm)).status_code == 403
    worklist = client.get("/v1/rm/clients", headers=tokens.rm(rm)).json()
    assert cid not in {item["customer_id"] for item in worklist["items"]}
    again = client.delete(f"/v1/customers/{cid}/rm-assignments/{rm}", headers=tokens.ops())
    assert again.status_code == 404 and again.json()["code"] == "assignment_not_found"
    customer = client.put(f"/v1/customers/{cid}", headers=tokens.ops(), json={"rm_ids": [rm]}).json()
    assert customer["rm_ids"] == [rm]  # assigned anew
    assert client.get(f"/v1/customers/{cid}/holdings", headers=tokens.rm(rm)).status_code == 200
    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT revoked_at IS NOT NULL, revoked_by, created_by FROM rm_assignments "
                                     "WHERE customer_id = :c ORDER BY id"), {"c": cid}).all()
    finally:
        engine.dispose()
    assert [tuple(r) for r in rows] == [(True, "ops-1", "ops-1"), (False, None, "ops-1")]


def test_idempotency_keys_are_scoped_per_customer(client, tokens):
    key = {"Idempotency-Key": "the-same-key-for-both"}
    answers = []
    for _ in range(2):
        cid = new_customer_id("idem")
        assess(client, tokens, cid)
        proposal = client.post(f"/v1/customers/{cid}/proposals", headers=tokens.customer(cid),
                               json={"amount": 10_000, "horizon_years": 2}).json()
        answers.append(client.post(f"/v1/proposals/{proposal['id']}/confirm",
                                   headers={**tokens.customer(cid), **key}))
    assert [a.status_code for a in answers] == [201, 201], [a.text for a in answers]
    assert answers[0].json()["id"] != answers[1].json()["id"]
    assert "Idempotent-Replayed" not in answers[1].headers


def test_sip_plans_are_agreed_by_the_customer_and_ops_may_only_pause_them(client, tokens):
    rm = "rm-act-sip"
    cid = customer_with_rm(client, tokens, rm)
    assess(client, tokens, cid)
    url = f"/v1/customers/{cid}/sip-plans"
    by_ops = client.post(url, headers={**tokens.ops(), **SESSION}, json={"amount": 1000})
    assert by_ops.status_code == 403 and by_ops.json()["code"] == "not_permitted_on_behalf"
    by_rm = client.post(url, headers={**tokens.rm(rm), **SESSION}, json={"amount": 1000})
    assert by_rm.status_code == 201, by_rm.text
    assert (by_rm.json()["acting_capacity"], by_rm.json()["assisted_session_id"]) == ("rm_in_person",
                                                                                     "sr-2026-0001")
    plan = f"{url}/{by_rm.json()['id']}"
    assert client.patch(plan, headers=tokens.ops(), json={"status": "paused"}).status_code == 200
    resumed_by_ops = client.patch(plan, headers=tokens.ops(), json={"status": "active"})
    assert resumed_by_ops.status_code == 403 and resumed_by_ops.json()["code"] == "not_permitted_on_behalf"
    resumed = client.patch(plan, headers=tokens.customer(cid), json={"status": "active"})
    assert resumed.status_code == 200 and resumed.json()["acting_capacity"] == "self"
