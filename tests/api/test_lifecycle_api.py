"""After the purchase through the API: ledger, returns, statements, goals, SIP plans, alerts, RM tasks.

Runs on SQLite and PostgreSQL (conftest). The numbers are the core's (a customer is a batch of one)."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest
from sqlalchemy import text

from tests.api.conftest import assess, new_customer_id

RM = "lc-rm"


@pytest.fixture(scope="module")
def funds(client, tokens):
    ops = tokens.ops()
    bonds = client.get("/v1/funds?asset_class=bond&max_risk_level=2&status=open&limit=5", headers=ops).json()["items"]
    risky = client.get("/v1/funds?max_risk_level=5&asset_class=cn_equity&status=open&limit=50", headers=ops).json()
    r4 = next(f for f in risky["items"] if f["risk_level"] == "R4")
    return {"bond": bonds[0]["code"], "bond2": bonds[1]["code"], "r4": r4["code"]}


def customer(client, tokens, *, assessed: bool = True) -> str:
    cid = new_customer_id("lc")
    assert client.put(f"/v1/customers/{cid}", headers=tokens.ops(), json={"rm_ids": [RM]}).status_code == 200
    if assessed:
        assess(client, tokens, cid)
    return cid


def post_ledger(client, tokens, cid, rows):
    return client.post(f"/v1/customers/{cid}/transactions", headers=tokens.ops(), json={"transactions": rows})


def test_ledger_is_appended_once_and_refuses_bad_rows(client, tokens, funds):
    cid = customer(client, tokens)
    rows = [{"txn_id": "t1", "date": "2024-03-01", "code": funds["bond"], "kind": "subscription", "amount": 10_000,
             "fee": 8}, {"txn_id": "t2", "date": "2025-03-03", "code": funds["bond"], "kind": "redemption",
                         "shares": 1_000, "fee": 1}]
    first = post_ledger(client, tokens, cid, rows)
    assert first.status_code == 201 and first.json()["recorded"] == 2
    again = post_ledger(client, tokens, cid, rows)
    assert again.status_code == 200 and again.json() == {"customer_id": cid, "recorded": 0, "duplicates": ["t1", "t2"]}
    too_much = post_ledger(client, tokens, cid, [{"txn_id": "t3", "date": "2025-04-01", "code": funds["bond"],
                                                  "kind": "redemption", "shares": 1e9}])
    assert too_much.status_code == 422
    body = too_much.json()
    assert body["details"]["field"] == "body.transactions.0.shares" and set(body) == {"code", "message", "details"}
    unknown = post_ledger(client, tokens, cid, [{"txn_id": "t4", "date": "2025-04-01", "code": "999999",
                                                 "kind": "subscription", "amount": 100}])
    assert unknown.status_code == 422 and unknown.json()["details"]["field"] == "body.transactions.0.code"
    listed = client.get(f"/v1/customers/{cid}/transactions?limit=1", headers=tokens.customer(cid)).json()
    assert listed["page"]["total"] == 2 and listed["items"][0]["txn_id"] == "t2"


def test_the_ledger_is_append_only_in_the_database(client, tokens, funds, db_url):
    from api.db import make_engine

    cid = customer(client, tokens)
    post_ledger(client, tokens, cid, [{"txn_id": "x1", "date": "2024-03-01", "code": funds["bond"],
                                       "kind": "subscription", "amount": 500}])
    engine = make_engine(db_url)
    try:
        for statement in ("UPDATE ledger_transactions SET amount = 1 WHERE customer_id = :c",
                          "DELETE FROM ledger_transactions WHERE customer_id = :c"):
            with pytest.raises(Exception, match="append-only"), engine.begin() as conn:
                conn.execute(text(statement), {"c": cid})
    finally:
        engine.dispose()


def test_returns_and_statements_equal_the_core(client, tokens, funds, demo_universe):
    from advisor.lifecycle.book import load_book
    from advisor.lifecycle.report import customer_returns
    from api.clock import business_today

    cid = customer(client, tokens)
    rows = [{"txn_id": "a", "date": "2024-01-05", "code": funds["bond"], "kind": "subscription", "amount": 20_000,
             "fee": 16}, {"txn_id": "b", "date": "2024-07-01", "code": funds["bond2"], "kind": "subscription",
                          "amount": 5_000}, {"txn_id": "c", "date": "2025-06-02", "code": funds["bond"],
                                             "kind": "dividend_cash", "amount": 120}]
    assert post_ledger(client, tokens, cid, rows).status_code == 201
    got = client.get(f"/v1/customers/{cid}/returns", headers=tokens.customer(cid))
    assert got.status_code == 200 and got.json()["source"] == "ledger"
    result = got.json()["result"]
    frame = pd.DataFrame([{"customer_id": cid, **r} for r in rows])
    book = load_book(demo_universe, pd.DataFrame({"customer_id": [cid], "risk_level": ["C3"]}), ledger=frame,
                     as_of=business_today())
    core = customer_returns(book, 0)
    assert result["market_value"] == pytest.approx(core["market_value"], abs=0.01)
    assert result["windows"]["inception"]["xirr"] == pytest.approx(core["windows"]["inception"]["xirr"], abs=1e-6)
    assert result["dividends"] == pytest.approx(120.0) and result["fees"] == pytest.approx(16.0)
    statement = client.get(f"/v1/customers/{cid}/statements/2025", headers=tokens.customer(cid))
    assert statement.status_code == 200
    s = statement.json()["statement"]
    assert s["summary"]["dividends_cash"] == pytest.approx(120.0)
    assert s["allocation"]["level"] == "C" + s["allocation"]["level"][1] and "账单" in s["title_zh"]
    assert client.get(f"/v1/customers/{cid}/statements/2025-13", headers=tokens.customer(cid)).status_code == 422
    future = client.get(f"/v1/customers/{cid}/statements/2099", headers=tokens.customer(cid))
    assert future.status_code == 422 and future.json()["details"]["field"] == "period"


def test_returns_from_stored_holdings_say_the_cost_is_estimated(client, tokens, funds):
    cid = customer(client, tokens)
    client.put(f"/v1/customers/{cid}/holdings", headers=tokens.ops(), json={"holdings": [
        {"code": funds["bond"], "amount": 3000, "purchase_date": "2024-05-06"}]})
    got = client.get(f"/v1/customers/{cid}/returns", headers=tokens.customer(cid)).json()
    assert got["source"] == "holdings" and got["result"]["cost_basis_estimated"] is True
    nothing = customer(client, tokens)
    assert client.get(f"/v1/customers/{nothing}/returns", headers=tokens.customer(nothing)).status_code == 404


def test_goals_project_advise_and_respect_the_level(client, tokens):
    cid = customer(client, tokens)
    level = client.get(f"/v1/customers/{cid}/risk-profile", headers=tokens.customer(cid)).json()["level"]
    body = {"name": "养老", "target_amount": 800_000, "target_date": "2040-01-01", "current_amount": 50_000,
            "monthly_contribution": 1_000}
    created = client.post(f"/v1/customers/{cid}/goals", headers=tokens.customer(cid), json=body)
    assert created.status_code == 201, created.text
    goal = created.json()
    projection = goal["projection"]
    assert {"probability", "on_track", "required_monthly", "percentiles"} <= set(projection)
    assert projection["level"] == level
    richer = client.patch(f"/v1/customers/{cid}/goals/{goal['id']}", headers=tokens.customer(cid),
                          json={"monthly_contribution": projection["required_monthly"]})
    assert richer.status_code == 200 and richer.json()["projection"]["probability"] >= 0.75  # the advice works
    above = int(level[1]) + 1
    if above <= 5:
        refused = client.post(f"/v1/customers/{cid}/goals", headers=tokens.customer(cid),
                              json={**body, "level": f"C{above}"})
        assert refused.status_code == 403 and refused.json()["details"]["field"] == "body.level"
    past = client.post(f"/v1/customers/{cid}/goals", headers=tokens.customer(cid),
                       json={**body, "target_date": "2020-01-01"})
    assert past.status_code == 422 and past.json()["details"]["field"] == "body.target_date"
    assert client.delete(f"/v1/customers/{cid}/goals/{goal['id']}", headers=tokens.customer(cid)).status_code == 204
    assert client.get(f"/v1/customers/{cid}/goals", headers=tokens.customer(cid)).json()["items"] == []


def test_goals_need_an_assessment_except_the_cash_reserve(client, tokens):
    cid = customer(client, tokens, assessed=False)
    body = {"target_amount": 30_000, "target_date": "2027-06-30", "current_amount": 10_000}
    refused = client.post(f"/v1/customers/{cid}/goals", headers=tokens.customer(cid), json=body)
    assert refused.status_code == 409 and refused.json()["code"] == "assessment_required"
    reserve = client.post(f"/v1/customers/{cid}/goals", headers=tokens.customer(cid), json={**body, "kind": "reserve"})
    assert reserve.status_code == 201 and reserve.json()["projection"]["glide_path"][0]["weights"] == {"cash": 1.0}


def test_sip_plans_meet_minimums_and_the_level(client, tokens, funds):
    cid = customer(client, tokens)
    model = client.post(f"/v1/customers/{cid}/sip-plans", headers=tokens.customer(cid),
                        json={"amount": 1000, "name": "每月定投"})
    assert model.status_code == 201, model.text
    plan = model.json()
    assert all(leg["min_sip"] <= 1000 * leg["weight"] + 1e-6 for leg in plan["legs"])
    assert plan["suitability"]["ok"] is True
    small = client.post(f"/v1/customers/{cid}/sip-plans", headers=tokens.customer(cid),
                        json={"amount": 20, "legs": [{"code": funds["bond"], "weight": 1}]})
    assert small.status_code == 422 and small.json()["details"]["field"] == "legs[0].weight"
    level = client.get(f"/v1/customers/{cid}/risk-profile", headers=tokens.customer(cid)).json()["level"]
    if int(level[1]) < 4:
        above = client.post(f"/v1/customers/{cid}/sip-plans", headers=tokens.customer(cid),
                            json={"amount": 1000, "legs": [{"code": funds["r4"], "weight": 1}]})
        assert above.status_code == 403 and above.json()["code"] == "suitability_violation"
    paused = client.patch(f"/v1/customers/{cid}/sip-plans/{plan['id']}", headers=tokens.customer(cid),
                          json={"status": "paused"})
    assert paused.status_code == 200 and paused.json()["status"] == "paused"
    simulated = client.post(f"/v1/customers/{cid}/sip-plans/{plan['id']}/simulation", headers=tokens.customer(cid),
                            json={"start": "2020-01-01"})
    assert simulated.status_code == 200
    result = simulated.json()["result"]
    assert result["debits"] > 60 and result["volatility"] > 0 and result["max_drawdown"] <= 0
    assert result["basis"] == "legs" and result["invested"] == 1000 * result["debits"]
    walk = client.post(f"/v1/customers/{cid}/sip-plans/{plan['id']}/simulation", headers=tokens.customer(cid),
                       json={"start": "2024-06-01", "basis": "model"})
    assert walk.status_code == 200, walk.text
    walked = walk.json()["result"]
    assert walked["kind"] == "simulated_walk_forward" and "样本外" in walked["label_zh"]
    assert walked["plan"]["model"]["level"] == level
    bad = client.post(f"/v1/customers/{cid}/sip-plans/{plan['id']}/simulation", headers=tokens.customer(cid),
                      json={"start": "2024-06-01", "basis": "hindsight"})
    assert bad.status_code == 422 and "basis" in bad.json()["details"]["field"]
    stopped = client.patch(f"/v1/customers/{cid}/sip-plans/{plan['id']}", headers=tokens.customer(cid),
                           json={"status": "stopped"})
    assert stopped.status_code == 200
    again = client.patch(f"/v1/customers/{cid}/sip-plans/{plan['id']}", headers=tokens.customer(cid),
                         json={"status": "active"})
    assert again.status_code == 409


def test_alerts_are_stored_once_opt_outs_hold_and_reading_marks_them(client, tokens, funds):
    cid = customer(client, tokens)
    client.put(f"/v1/customers/{cid}", headers=tokens.ops(), json={"horizon_years": 5})
    # everything in one bond fund: far from any model with equity (drift), and a goal just set
    post_ledger(client, tokens, cid, [{"txn_id": "s", "date": "2024-01-05", "code": funds["bond"],
                                       "kind": "subscription", "amount": 100_000}])
    client.post(f"/v1/customers/{cid}/goals", headers=tokens.customer(cid),
                json={"target_amount": 5_000_000, "target_date": "2035-01-01", "current_amount": 100_000})
    first = client.post(f"/v1/customers/{cid}/alerts/evaluate", headers=tokens.ops())
    assert first.status_code == 200, first.text
    kinds = {a["kind"] for a in first.json()["alerts"]}
    assert kinds, first.json()
    again = client.post(f"/v1/customers/{cid}/alerts/evaluate", headers=tokens.ops()).json()
    assert again["alerts"] == []  # nothing pushed twice
    listed = client.get(f"/v1/customers/{cid}/alerts",
                        headers={**tokens.customer(cid), "Accept-Language": "zh-CN, en"}).json()
    assert listed["page"]["total"] == len(first.json()["alerts"]) == listed["unread"]
    alert = listed["items"][0]
    assert alert["text_zh"] and alert["text_en"]
    chinese = client.get(f"/v1/customers/{cid}/alerts", headers=tokens.customer(cid)).json()["items"][0]
    assert chinese["text_zh"] == alert["text_zh"] and "text_en" not in chinese  # the app's default language
    read = client.post(f"/v1/customers/{cid}/alerts/{alert['id']}/read", headers=tokens.customer(cid))
    assert read.status_code == 200 and read.json()["read_at"] is not None
    assert client.get(f"/v1/customers/{cid}/alerts", headers=tokens.customer(cid)).json()["unread"] == \
        listed["unread"] - 1
    prefs = client.put(f"/v1/customers/{cid}/alert-preferences", headers=tokens.customer(cid),
                       json={"opted_out": ["drift", "goal_off_track"]})
    assert prefs.status_code == 200 and prefs.json()["opted_out"] == ["drift", "goal_off_track"]
    bad = client.put(f"/v1/customers/{cid}/alert-preferences", headers=tokens.customer(cid),
                     json={"opted_out": ["weather"]})
    assert bad.status_code == 422


def test_critical_alerts_reach_the_rm_worklist(client, tokens):
    from tests.api.test_auth_matrix import seed_alert_and_task

    cid = customer(client, tokens)
    _, task_id = seed_alert_and_task(client, cid, RM)
    tasks = client.get("/v1/rm/tasks", headers=tokens.rm(RM)).json()
    assert task_id in [t["id"] for t in tasks["items"]]
    clients = client.get("/v1/rm/clients", headers=tokens.rm(RM)).json()["items"]
    flagged = next(c for c in clients if c["customer_id"] == cid)
    assert "alert_tasks" in flagged["flags"] and flagged["details"]["alert_tasks"] == 1
    other = client.post(f"/v1/rm/tasks/{task_id}/done", headers=tokens.rm("someone-else"))
    assert other.status_code == 403
    done = client.post(f"/v1/rm/tasks/{task_id}/done", headers=tokens.rm(RM))
    assert done.status_code == 200 and done.json()["status"] == "done" and done.json()["done_by"] == RM


def test_the_nightly_outbox_loads_into_the_database_once(client, tokens, demo_universe, tmp_path):
    from advisor.demo_customers import generate
    from advisor.lifecycle.demo import generate_lifecycle
    from advisor.lifecycle.nightly import run_files
    from api.lifecycle_store import import_outbox

    as_of = date(2026, 2, 13)
    customers, holdings = generate(demo_universe, 30, seed=11, as_of=as_of)
    ids = customers["customer_id"].to_pylist()
    prefix = new_customer_id("ob")
    customers = customers.to_pandas().assign(customer_id=[f"{prefix}-{i}" for i in ids])
    holdings = holdings.to_pandas().assign(customer_id=lambda f: prefix + "-" + f["customer_id"])
    extra = generate_lifecycle(demo_universe, customers.pipe(lambda f: __import__("pyarrow").Table.from_pandas(f)),
                               __import__("pyarrow").Table.from_pandas(holdings), seed=11, as_of=as_of)
    summary = run_files(demo_universe, customers, tmp_path, as_of=as_of, holdings=holdings, ledger=extra["ledger"],
                        goals=extra["goals"])
    folder = tmp_path / f"as_of={as_of}"
    engine = client.app.state.advisor.engine
    loaded = import_outbox(engine, folder)
    assert loaded["alerts"] == summary["alerts"] > 0
    assert import_outbox(engine, folder)["alerts"] == 0  # the same night again adds nothing
    some = pd.read_parquet(folder / "alerts.parquet").iloc[0]
    listed = client.get(f"/v1/customers/{some['customer_id']}/alerts", headers=tokens.customer(some["customer_id"]))
    assert some["alert_id"] in [a["id"] for a in listed.json()["items"]]
