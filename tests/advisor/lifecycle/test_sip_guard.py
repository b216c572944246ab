"""Holds on SIP debits: a stored plan is re-checked for suitability before every debit, over a whole book."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

from advisor.lifecycle.sip_guard import hold_plans, hold_texts, plan_hold
from tests.advisor.test_zh_texts import offenders

TODAY = date(2025, 6, 30)


def first_fund(universe, *, level=None, status="open"):
    f = universe.funds
    mask = f["status"].astype(str) == status
    if level is not None:
        mask &= f["risk_level"] == level
    return str(f.index[mask.to_numpy()][0])


def test_each_reason_holds_the_plan_and_a_suitable_plan_debits(demo_universe):
    u = demo_universe
    r2, r4 = first_fund(u, level=2), first_fund(u, level=4)
    closed = str(u.funds.index[~u.funds["status"].isin(["open", "limited"]).to_numpy()][0])
    later = TODAY + timedelta(days=200)
    customers = pd.DataFrame([
        {"customer_id": "ok", "risk_level": "C3", "lowest_category": False, "assessment_expires_on": later},
        {"customer_id": "rerated", "risk_level": "C3", "lowest_category": False, "assessment_expires_on": later},
        {"customer_id": "lowest", "risk_level": "C4", "lowest_category": True, "assessment_expires_on": later},
        {"customer_id": "expires_today", "risk_level": "C5", "lowest_category": False, "assessment_expires_on": TODAY},
        {"customer_id": "never", "risk_level": None, "lowest_category": False, "assessment_expires_on": None},
        {"customer_id": "closed", "risk_level": "C5", "lowest_category": False, "assessment_expires_on": later},
    ])
    plans = pd.DataFrame([
        {"customer_id": "ok", "plan_id": "p-ok", "status": "active", "codes": [r2]},
        {"customer_id": "rerated", "plan_id": "p-above", "status": "active", "codes": [r2, r4]},
        {"customer_id": "rerated", "plan_id": "p-paused", "status": "paused", "codes": [r4]},
        {"customer_id": "lowest", "plan_id": "p-lowest", "status": "active", "codes": [r2]},
        {"customer_id": "expires_today", "plan_id": "p-expired", "status": "active", "codes": [r2]},
        {"customer_id": "never", "plan_id": "p-never", "status": "active", "codes": [r2]},
        {"customer_id": "closed", "plan_id": "p-closed", "status": "active", "codes": [r2, closed]},
        {"customer_id": "unknown", "plan_id": "p-unknown", "status": "active", "codes": [r2]},
    ])
    holds = hold_plans(u, plans, customers, TODAY).set_index("plan_id")
    assert set(holds.index) == {"p-above", "p-lowest", "p-expired", "p-never", "p-closed", "p-unknown"}
    assert holds.loc["p-above", "reason"] == "above_level" and holds.loc["p-above", "codes"] == [r4]
    assert holds.loc["p-above", "allowed_max"] == "R3"
    assert holds.loc["p-lowest", "reason"] == "above_level" and holds.loc["p-lowest", "allowed_max"] == "R1"
    assert holds.loc["p-expired", "reason"] == "assessment_expired"  # expired on its expiry day
    assert holds.loc["p-never", "reason"] == holds.loc["p-unknown", "reason"] == "assessment_expired"
    assert holds.loc["p-closed", "reason"] == "fund_closed" and holds.loc["p-closed", "codes"] == [closed]
    # the API's door gives the same answer for one plan
    one = plan_hold(u, [r2, r4], 3, False, later, TODAY)
    assert one == {"ok": False, "reason": "above_level", "allowed_max": "R3", "above": [r4], "closed": []}
    assert plan_hold(u, [r2], 3, False, later, TODAY)["ok"] is True


def test_a_plans_funds_come_from_its_ledger_rows_without_a_funds_column(demo_universe):
    r4 = first_fund(demo_universe, level=4)
    customers = pd.DataFrame([{"customer_id": "a", "risk_level": "C2", "lowest_category": False,
                               "assessment_expires_on": TODAY + timedelta(days=30)}])
    plans = pd.DataFrame([{"customer_id": "a", "plan_id": "p1"}])
    ledger = pd.DataFrame([{"customer_id": "a", "plan_id": "p1", "code": r4},
                           {"customer_id": "a", "plan_id": None, "code": first_fund(demo_universe, level=5)}])
    holds = hold_plans(demo_universe, plans, customers, TODAY, ledger=ledger)
    assert holds["codes"].tolist() == [[r4]]


def test_hold_messages_are_clean_zh_and_en():
    texts = []
    for reason in ("assessment_expired", "above_level", "fund_closed"):
        zh, en = hold_texts(reason, "养老定投", ["000001"], "R3")
        assert "暂停扣款" in zh and "on hold" in en
        texts.append((reason, zh))
    assert offenders(texts) == {}


def test_the_nightly_run_writes_holds_an_alert_and_an_rm_task(tmp_path, demo_universe):
    """A demo book where some plan owners' assessments expired and some were re-assessed C1: each active plan
    is held exactly when a plain check of its owner's assessment and its funds says so; each hold is a
    critical alert and an RM task."""
    import json

    from typer.testing import CliRunner

    from advisor.cli import app

    day = date(2026, 2, 12)
    result = CliRunner().invoke(app, ["plan", "demo-data", "--out", str(tmp_path), "--n", "300", "--seed", "5",
                                      "--as-of", str(day)])
    assert result.exit_code == 0, result.output
    customers = pd.read_parquet(tmp_path / "customers.parquet")
    plans = pd.read_parquet(tmp_path / "sip_plans.parquet")
    owners = plans["customer_id"].drop_duplicates().tolist()
    expired, lowered = owners[: len(owners) // 3], owners[len(owners) // 3: 2 * len(owners) // 3]
    customers.loc[customers["customer_id"].isin(expired), "assessment_expires_on"] = pd.Timestamp(day)
    customers.loc[customers["customer_id"].isin(lowered), "risk_level"] = "C1"
    customers.to_parquet(tmp_path / "customers.parquet")
    args = ["plan", "alerts", "--outbox", str(tmp_path / "outbox"), "--as-of", str(day), "--json"]
    for option, name in (("--customers", "customers"), ("--holdings", "holdings"), ("--ledger", "ledger"),
                         ("--plans", "sip_plans")):
        args += [option, str(tmp_path / f"{name}.parquet")]
    run = CliRunner().invoke(app, args)
    assert run.exit_code == 0, run.output
    summary = json.loads(run.stdout)
    part = tmp_path / "outbox" / f"as_of={day}"
    holds = pd.read_parquet(part / "sip_holds.parquet").set_index("plan_id")
    assert summary["sip_holds"] == len(holds) > 0
    active = plans[plans["status"].astype(str) == "active"]
    ledger = pd.read_parquet(tmp_path / "ledger.parquet")
    bought = ledger.dropna(subset=["plan_id"]).groupby("plan_id")["code"].agg(set)
    risk = demo_universe.funds["risk_level"]
    status = demo_universe.funds["status"].astype(str)
    profile = customers.set_index("customer_id")
    due = pd.to_datetime(customers["assessment_expires_on"])
    lapsed = set(customers.loc[due.isna() | (due <= pd.Timestamp(day)), "customer_id"])  # incl. the demo's own
    assert set(expired) <= lapsed
    for plan_id, owner in zip(active["plan_id"], active["customer_id"], strict=True):
        allowed = 1 if profile.loc[owner, "lowest_category"] else int(str(profile.loc[owner, "risk_level"])[1])
        funds = bought.get(plan_id, set())
        if owner in lapsed:
            expected = "assessment_expired"
        elif any(risk[c] > allowed for c in funds):
            expected = "above_level"
        elif any(status[c] not in ("open", "limited") for c in funds):
            expected = "fund_closed"
        else:
            expected = None
        assert (holds.loc[plan_id, "reason"] if plan_id in holds.index else None) == expected, plan_id
    assert {"assessment_expired", "above_level"} <= set(holds["reason"])
    alerts = pd.read_parquet(part / "alerts.parquet")
    tasks = pd.read_parquet(part / "rm_tasks.parquet")
    held_owners = set(active.set_index("plan_id").loc[holds.index, "customer_id"])
    assert held_owners <= set(alerts.loc[alerts["kind"] == "sip_hold", "customer_id"]) | set(
        tasks.loc[tasks["kind"] == "sip_hold", "customer_id"])
    assert held_owners <= set(tasks.loc[tasks["kind"] == "sip_hold", "customer_id"])
    texts = alerts.loc[alerts["kind"] == "sip_hold", "text_zh"].tolist()
    assert texts and all("暂停扣款" in t for t in texts)


@pytest.mark.parametrize(("value", "day"), [
    (None, None), (float("nan"), None), (pd.NaT, None), ("", None), ("garbage", None), ("2026-02-30", None),
    ("2026-02-13", "2026-02-13"), ("2026/02/13", "2026-02-13"), (date(2025, 1, 2), "2025-01-02"),
    (pd.Timestamp("2024-05-06 13:05"), "2024-05-06"), (np.datetime64("2024-05-07"), "2024-05-07"),
])
def test_a_hold_names_its_expiry_day_whatever_form_the_date_came_in(value, day):
    from advisor.lifecycle.sip_guard import _day

    assert _day(value) == day


def test_a_hold_reaches_the_customer_whose_plan_it_is_when_plan_ids_repeat(demo_universe):
    """Plan ids are a customer's own (the ledger names a plan by customer and id): two customers may both
    have a plan 'P1'. The hold alert goes to the owner of the held plan, with that plan's name and amount."""
    from advisor.lifecycle.nightly import prepare_tables, run_chunk
    from tests.advisor.lifecycle.lifecycle_helpers import AS_OF, customers

    book = customers("A", "B").assign(assessment_expires_on=[pd.Timestamp("2026-01-05"), pd.Timestamp("2026-12-31")])
    code = first_fund(demo_universe, level=1)
    lots = pd.DataFrame({"customer_id": ["A", "B"], "code": [code, code], "amount": [5000.0, 5000.0],
                         "purchase_date": ["2025-01-02", "2025-01-02"]})
    plans = pd.DataFrame({"customer_id": ["A", "B"], "plan_id": ["P1", "P1"], "name": ["甲的定投", "乙的定投"],
                          "amount": [300.0, 800.0], "status": ["active", "active"]})
    tables = prepare_tables(demo_universe, book, as_of=AS_OF, holdings=lots, plans=plans)
    outbox = run_chunk(tables, 0, 2).alerts.outbox
    held = outbox[outbox["kind"] == "sip_hold"]
    assert held["customer_id"].tolist() == ["A"]
    assert "甲的定投" in held["text_zh"].iloc[0] and "¥300.00" in held["text_zh"].iloc[0]


def test_a_failed_debit_is_counted_and_named_within_its_customers_plan(demo_universe):
    """Two customers' plans both called 'P1': each failed-debit alert names its own customer's plan, and a
    plan's repeated failures are its own (B's earlier failure does not make A's a repeat)."""
    from advisor.lifecycle.nightly import prepare_tables, run_chunk
    from tests.advisor.lifecycle.lifecycle_helpers import AS_OF, customers

    code = first_fund(demo_universe, level=1)
    lots = pd.DataFrame({"customer_id": ["A", "B"], "code": [code, code], "amount": [5000.0, 5000.0],
                         "purchase_date": ["2025-01-02", "2025-01-02"]})
    plans = pd.DataFrame({"customer_id": ["A", "B"], "plan_id": ["P1", "P1"], "name": ["甲的定投", "乙的定投"],
                          "amount": [300.0, 800.0], "status": ["active", "active"]})
    yesterday, earlier = AS_OF - timedelta(days=1), AS_OF - timedelta(days=10)
    debits = pd.DataFrame({"customer_id": ["A", "B", "B"], "plan_id": ["P1", "P1", "P1"],
                           "date": [yesterday, yesterday, earlier], "status": ["failed"] * 3,
                           "amount": [300.0, 800.0, 800.0]})
    tables = prepare_tables(demo_universe, customers("A", "B"), as_of=AS_OF, holdings=lots, plans=plans,
                            debits=debits)
    outbox = run_chunk(tables, 0, 2).alerts.outbox
    failed = outbox[outbox["kind"] == "sip_failed"].set_index("customer_id")
    assert "甲的定投" in failed.loc["A", "text_zh"] and "乙的定投" not in failed.loc["A", "text_zh"]
    assert "乙的定投" in failed.loc["B", "text_zh"]
    assert failed.loc["A", "severity"] == "info" and failed.loc["B", "severity"] == "warning"
