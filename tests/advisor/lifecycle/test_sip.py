"""SIP plans: minimums, suitability, the calendar, the smart split, target-profit rules, the simulation."""

from __future__ import annotations

import itertools
from datetime import date

import numpy as np
import pytest

from advisor.lifecycle.sip import (
    SipPlan,
    debit_dates,
    enforce_minimums,
    leg_facts,
    plan_from_model,
    simulate_plan,
    smart_split,
    validate_plan,
)
from products.errors import BadInputError, SuitabilityError
from tests.advisor.lifecycle.lifecycle_helpers import brentq_xirr


def funds_of(universe, **where):
    f = universe.funds
    mask = np.ones(len(f), bool)
    for key, value in where.items():
        mask &= (f[key] == value).to_numpy()
    return list(f.index[mask & (f["status"] == "open").to_numpy()])


def test_each_leg_meets_its_minimum_sip(demo_universe):
    bond = funds_of(demo_universe, asset_class="bond", min_sip=100.0)[0]
    cash = funds_of(demo_universe, asset_class="cash")[0]
    plan = SipPlan.build(amount=150, legs=[{"code": bond, "weight": 0.6}, {"code": cash, "weight": 0.4}])
    with pytest.raises(BadInputError) as err:
        validate_plan(demo_universe, plan, 3)
    assert err.value.details["field"] == "legs[0].weight" and err.value.code == "below_min_sip"
    ok = SipPlan.build(amount=200, legs=[{"code": bond, "weight": 0.6}, {"code": cash, "weight": 0.4}])
    validate_plan(demo_universe, ok, 3)
    smart = SipPlan.build(amount=50, mode="smart", legs=[{"code": bond, "weight": 0.5}, {"code": cash, "weight": 0.5}])
    with pytest.raises(BadInputError) as err:
        validate_plan(demo_universe, smart, 3)
    assert err.value.details["field"] == "amount"


def test_a_plan_never_holds_a_fund_above_the_level(demo_universe):
    risky = demo_universe.funds.index[(demo_universe.funds["risk_level"] == 4).to_numpy()
                                      & (demo_universe.funds["status"] == "open").to_numpy()][0]
    plan = SipPlan.build(amount=1000, legs={risky: 1.0})
    with pytest.raises(SuitabilityError):
        validate_plan(demo_universe, plan, 3)
    with pytest.raises(SuitabilityError):
        validate_plan(demo_universe, plan, 5, lowest_category=True)
    validate_plan(demo_universe, plan, 4)


def test_a_fund_closed_to_subscriptions_is_refused(demo_universe):
    closed = demo_universe.funds.index[~demo_universe.funds["status"].isin(["open", "limited"]).to_numpy()][0]
    with pytest.raises(BadInputError) as err:
        validate_plan(demo_universe, SipPlan.build(amount=1000, legs={closed: 1.0}))
    assert err.value.code == "fund_not_open"


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"amount": 0, "legs": {"900001": 1}}, "amount"),
    ({"amount": 100, "frequency": "daily", "legs": {"900001": 1}}, "frequency"),
    ({"amount": 100, "day": 31, "legs": {"900001": 1}}, "day"),
    ({"amount": 100, "frequency": "weekly", "day": 6, "legs": {"900001": 1}}, "day"),
    ({"amount": 100, "legs": []}, "legs"),
    ({"amount": 100, "legs": {"900001": -1}}, "legs[0].weight"),
    ({"amount": 100, "legs": {"900001": 1}, "target_return": -0.1}, "target_return"),
    ({"amount": 100, "legs": {"900001": 1}, "on_target": "sell"}, "on_target"),
])
def test_bad_plan_inputs_name_the_field(kwargs, field):
    with pytest.raises(BadInputError) as err:
        SipPlan.build(**kwargs)
    assert err.value.details["field"] == field


def test_calendar_weekly_fortnightly_monthly():
    plan = SipPlan.build(amount=100, frequency="weekly", day=3, legs={"900001": 1})
    dates = debit_dates(plan, date(2024, 1, 1), date(2024, 3, 1))
    assert all(d.weekday() == 2 for d in dates) and len(dates) == 9
    fortnightly = debit_dates(SipPlan.build(amount=100, frequency="fortnightly", day=1, legs={"900001": 1}),
                              date(2024, 1, 2), date(2024, 3, 1))
    assert [(b - a).days for a, b in itertools.pairwise(fortnightly)] == [14, 14, 14]
    monthly = debit_dates(SipPlan.build(amount=100, day=28, legs={"900001": 1}), date(2024, 1, 29), date(2024, 6, 1))
    assert monthly == [date(2024, m, 28) for m in (2, 3, 4, 5)]


def test_smart_split_buys_the_underweight_class_first(demo_universe):
    bond = funds_of(demo_universe, asset_class="bond", min_sip=100.0)[0]
    equity = funds_of(demo_universe, asset_class="cn_equity", min_sip=100.0)[0]
    plan = SipPlan.build(amount=1000, mode="smart", legs={bond: 0.5, equity: 0.5})
    facts = leg_facts(demo_universe, plan)
    values = np.zeros(5)
    values[1] = 10_000.0  # all in bonds: equity is 5,500 short of half
    split = smart_split(1000.0, facts, values)
    assert split.tolist() == [0.0, 1000.0]
    values[2] = 9_800.0  # nearly balanced: the 100 gap is closed and the rest follows the targets
    split = smart_split(1000.0, facts, values)
    assert split.sum() == pytest.approx(1000.0) and split[1] > split[0]
    assert split[1] - split[0] == pytest.approx(200.0)


def test_legs_below_their_minimum_get_nothing():
    legs = enforce_minimums(np.array([50.0, 450.0, 500.0]), np.array([100.0, 100.0, 100.0]), 1000.0)
    assert legs[0] == 0.0 and legs.sum() == pytest.approx(1000.0) and (legs[1:] >= 100).all()
    alone = enforce_minimums(np.array([60.0, 40.0]), np.array([100.0, 100.0]), 100.0)
    assert alone.tolist() == [100.0, 0.0]


@pytest.fixture(scope="module")
def c3_plan(demo_universe):
    return plan_from_model(demo_universe, 3, 1000.0, 5.0)


def test_model_plan_meets_minimums_and_suitability(demo_universe, c3_plan):
    facts = validate_plan(demo_universe, c3_plan, 3)
    assert (1000.0 * facts.weight >= facts.min_sip - 1e-9).all()
    assert (facts.risk_level <= 3).all()


def test_simulation_ledger_agrees_with_brentq_and_the_daily_chain(demo_universe, c3_plan):
    result = simulate_plan(demo_universe, c3_plan, date(2020, 1, 1), date(2024, 12, 31), customer_level=3,
                           include_ledger=True)
    assert result["debits"] == 60
    assert result["invested"] == pytest.approx(60_000.0)
    assert result["twr"] == pytest.approx(result["check"]["twr_daily_chain"], abs=1e-9)
    ledger = result["ledger"]
    start = date.fromisoformat(ledger[0]["date"])
    days = [(date.fromisoformat(r["date"]) - start).days for r in ledger]
    assert all(r["paid"] == pytest.approx(r["amount"] + r["fee"], abs=0.011) for r in ledger)
    flows = [-r["paid"] for r in ledger]
    expected = brentq_xirr([*days, (date(2024, 12, 31) - start).days], [*flows, result["final_value"]])
    assert result["xirr"] == pytest.approx(expected, abs=1e-5)
    assert result["volatility"] > 0 and result["max_drawdown"] <= 0
    assert "最大回撤" in result["explanation_zh"] and "_" not in result["explanation_zh"]


def test_target_profit_stop_ends_debits_once_the_return_is_reached(demo_universe):
    equity = funds_of(demo_universe, asset_class="cn_equity", min_sip=100.0)[:2]
    plan = SipPlan.build(amount=1000, legs={equity[0]: 0.5, equity[1]: 0.5}, target_return=0.10, on_target="stop")
    result = simulate_plan(demo_universe, plan, date(2017, 1, 1), include_ledger=True)
    stop = result["stopped_on"]
    assert stop is not None
    assert result["profit_events"][0]["return"] >= 0.10
    assert all(r["date"] <= stop for r in result["ledger"])
    assert result["redeemed"] == 0.0


def test_take_profit_redeems_everything_and_starts_a_new_cycle(demo_universe):
    equity = funds_of(demo_universe, asset_class="cn_equity", min_sip=100.0)[:2]
    plan = SipPlan.build(amount=1000, legs={equity[0]: 0.5, equity[1]: 0.5}, target_return=0.10,
                         on_target="take_profit")
    result = simulate_plan(demo_universe, plan, date(2017, 1, 1), include_ledger=True)
    events = result["profit_events"]
    assert events and all(e["return"] >= 0.10 for e in events)
    first = events[0]
    sells = [r for r in result["ledger"] if r["kind"] == "redemption" and r["date"] == first["date"]]
    assert sum(r["received"] for r in sells) == pytest.approx(first["cash"], abs=0.02)
    assert all(r["received"] == pytest.approx(r["amount"] - r["fee"], abs=0.011) for r in sells)
    bought_before = sum(r["shares"] for r in result["ledger"] if r["kind"] == "subscription"
                        and r["date"] < first["date"] and r["code"] == sells[0]["code"])
    assert sells[0]["shares"] == pytest.approx(bought_before, rel=1e-6)  # everything held was sold
    assert any(r["kind"] == "subscription" and r["date"] > first["date"] for r in result["ledger"])  # new cycle
    assert result["redeemed"] > 0


def test_real_nav_c3_monthly_plan_from_2018(real_universe):
    """The issue's example: ¥1,000 a month from 2018 on a C3 model, shown with volatility and drawdown."""
    plan = plan_from_model(real_universe, 3, 1000.0, 5.0)
    facts = validate_plan(real_universe, plan, 3)
    assert (facts.risk_level <= 3).all()
    result = simulate_plan(real_universe, plan, date(2018, 1, 1), customer_level=3)
    assert result["debits"] >= 96
    assert result["invested"] == pytest.approx(1000.0 * result["debits"])
    assert 0 < result["volatility"] < 0.15  # a C3 mix: well below equity volatility
    assert -0.25 < result["max_drawdown"] < 0
    assert result["twr"] == pytest.approx(result["check"]["twr_daily_chain"], abs=1e-9)
