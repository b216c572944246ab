"""One-click rebalancing: stored, versioned, expiring plans confirmed into orders exactly once (SQLite and
PostgreSQL)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from api.db import make_engine
from tests.api.conftest import assess, insert_expired_assessment, new_customer_id

# A C3-ish portfolio far from its model: all in one equity fund and one bond fund, cash above the reserve
HOLDINGS = [{"code": "900026", "amount": 60_000, "purchase_date": "2024-01-05"},
            {"code": "900005", "amount": 5_000, "purchase_date": "2023-03-01"}]
BODY = {"holdings": HOLDINGS, "cash": 20_000, "monthly_expenses": 2_000}


def count(db_url: str, sql: str, **params: object) -> int:
    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(text(sql), params).scalar_one())
    finally:
        engine.dispose()


def plan(client, tokens, cid: str, body: dict | None = None):
    return client.post(f"/v1/customers/{cid}/rebalance", headers=tokens.customer(cid), json=body or BODY)


def confirm(client, tokens, cid: str, plan_id: str, key: str):
    return client.post(f"/v1/rebalance-plans/{plan_id}/confirm", headers={**tokens.customer(cid),
                                                                         "Idempotency-Key": key})


def test_plan_is_stored_versioned_and_readable(client, tokens):
    cid = new_customer_id()
    level = int(assess(client, tokens, cid)["level"][1])
    first = plan(client, tokens, cid)
    assert first.status_code == 201, first.text
    body = first.json()
    assert body["version"] == 1 and body["status"] == "open" and body["level"] == f"C{level}"
    trades = body["plan"]["trades"]
    assert trades and all(t["reason"] and t["reason_zh"] and "reason_en" not in t for t in trades)  # zh by default
    assert all(int(t["fund_risk_level"][1]) <= level for t in trades if t["action"] in ("buy", "switch_in"))
    second = plan(client, tokens, cid).json()
    assert second["version"] == 2
    assert client.get(f"/v1/rebalance-plans/{body['id']}", headers=tokens.customer(cid)).json()["status"] == \
        "superseded"
    listing = client.get(f"/v1/customers/{cid}/rebalance-plans", headers=tokens.customer(cid)).json()
    assert [p["version"] for p in listing["items"]] == [2, 1]


def test_confirmation_turns_the_plan_into_orders_exactly_once(client, tokens, db_url):
    cid = new_customer_id()
    assess(client, tokens, cid)
    created = plan(client, tokens, cid).json()
    trades = created["plan"]["trades"]
    key = "rebal-" + cid
    with ThreadPoolExecutor(max_workers=4) as pool:  # racing retries: one confirmation, the same answer
        answers = list(pool.map(lambda _: confirm(client, tokens, cid, created["id"], key), range(4)))
    codes = sorted(a.status_code for a in answers)
    assert codes == [200, 200, 200, 201], [a.text for a in answers]
    orders = answers[0].json()["orders"]
    assert {a.json()["id"] for a in answers} == {answers[0].json()["id"]}
    assert count(db_url, "SELECT count(*) FROM rebalance_confirmations WHERE customer_id = :c", c=cid) == 1
    sides = [o["side"] for o in orders]
    assert sides == sorted(sides, key=["redeem", "switch", "subscribe"].index)  # sales fund purchases
    # every trade is in the orders: redeemed + switched out = sold; subscribed + switched in = bought
    sold = sum(t["amount"] for t in trades if t["action"] in ("sell", "switch_out"))
    out = sum(o["amount"] for o in orders if o["side"] in ("redeem", "switch"))
    assert abs(sold - out) < 0.05
    bought = sum(t["amount"] for t in trades if t["action"] == "buy")
    assert abs(bought - sum(o["amount"] for o in orders if o["side"] == "subscribe")) < 0.05
    assert client.get(f"/v1/rebalance-plans/{created['id']}", headers=tokens.customer(cid)).json()["status"] == \
        "confirmed"
    again = confirm(client, tokens, cid, created["id"], "other-key-" + cid)
    assert again.status_code == 409 and again.json()["code"] == "plan_already_confirmed"


def test_confirmation_rechecks_the_current_assessment(client, tokens, db_url):
    """A plan made at C5 is not executed after the customer re-assessed to the lowest category."""
    cid = new_customer_id()
    assert assess(client, tokens, cid, pick="E")["level"] == "C5"
    created = plan(client, tokens, cid, {"holdings": HOLDINGS, "cash": 200_000}).json()
    assert any(int(t["fund_risk_level"][1]) >= 4 for t in created["plan"]["trades"] if t["action"] == "buy")
    refused = client.post(f"/v1/customers/{cid}/risk-assessments", headers=tokens.customer(cid),
                          json={"refused": True})
    assert refused.json()["lowest_category"] is True
    answer = confirm(client, tokens, cid, created["id"], "after-reassess-" + cid)
    assert answer.status_code == 409 and answer.json()["code"] == "assessment_changed", answer.text
    assert count(db_url, "SELECT count(*) FROM rebalance_confirmations WHERE customer_id = :c", c=cid) == 0


def test_expired_plan_and_expired_assessment_are_refused(client, tokens, db_url):
    cid = new_customer_id()
    assess(client, tokens, cid)
    created = plan(client, tokens, cid).json()
    engine = make_engine(db_url)  # an old plan: its expiry passed (written as an old record would be)
    with engine.begin() as conn:
        old = dict(conn.execute(text("SELECT * FROM rebalance_plans WHERE id = :i"), {"i": created["id"]})
                   .mappings().one())
        old.update(id="00000000-0000-4000-8000-" + cid[-12:], version=old["version"] + 1,
                   expires_at=datetime.now(UTC) - timedelta(minutes=1))
        columns = ", ".join(old)
        conn.execute(text(f"INSERT INTO rebalance_plans ({columns}) VALUES ({', '.join(':' + c for c in old)})"),
                     {k: (v if not isinstance(v, dict) else __import__("json").dumps(v)) for k, v in old.items()})
    engine.dispose()
    expired = confirm(client, tokens, cid, old["id"], "expired-" + cid)
    assert expired.status_code == 409 and expired.json()["code"] == "plan_expired"
    superseded = confirm(client, tokens, cid, created["id"], "superseded-" + cid)
    assert superseded.status_code == 409 and superseded.json()["code"] == "plan_superseded"
    lapsed = new_customer_id()
    insert_expired_assessment(db_url, lapsed)
    refused = plan(client, tokens, lapsed)
    assert refused.status_code == 409 and refused.json()["code"] == "assessment_expired"
    assert count(db_url, "SELECT count(*) FROM rebalance_plans WHERE customer_id = :c", c=lapsed) == 0


def test_plans_are_append_only_and_foreign_plans_are_not_found(client, tokens, db_url):
    cid = new_customer_id()
    assess(client, tokens, cid)
    created = plan(client, tokens, cid).json()
    engine = make_engine(db_url)
    for sql in ("UPDATE rebalance_plans SET level = 5 WHERE id = :i", "DELETE FROM rebalance_plans WHERE id = :i"):
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(text(sql), {"i": created["id"]})
    engine.dispose()
    stranger = new_customer_id()
    seen = client.get(f"/v1/rebalance-plans/{created['id']}", headers=tokens.customer(stranger))
    assert seen.status_code == 404 and seen.json()["code"] == "plan_not_found"
    taken = confirm(client, tokens, stranger, created["id"], "stranger-" + stranger)
    assert taken.status_code == 404


def test_plan_without_trades_cannot_be_confirmed_and_bad_input_names_the_field(client, tokens):
    cid = new_customer_id()
    assess(client, tokens, cid)
    calm = plan(client, tokens, cid, {"holdings": [], "cash": 0}).json()
    assert calm["status"] == "nothing_to_do" and calm["plan"]["trades"] == []
    answer = confirm(client, tokens, cid, calm["id"], "calm-" + cid)
    assert answer.status_code == 409 and answer.json()["code"] == "plan_empty"
    bad = plan(client, tokens, cid, {"holdings": [{"code": "900026", "amount": -1, "purchase_date": "2024-01-05"}]})
    assert bad.status_code == 422 and "holdings" in bad.json()["details"]["field"]
    short_key = client.post(f"/v1/rebalance-plans/{calm['id']}/confirm",
                            headers={**tokens.customer(cid), "Idempotency-Key": "x"})
    assert short_key.status_code == 422
