"""SIP plans: minimums, suitability, the calendar, the smart split, target-profit rules, the simulation."""

from __future__ import annotations

import itertools
from datetime import date

import numpy as np
import pandas as pd
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


def test_a_leg_below_its_minimum_joins_its_class_and_a_class_too_small_its_substitute():
    """Classes: cash 0, bond 1, cn_equity 2. Two equity legs of 80 and 70 (each below 100) make one equity leg
    of 150 (the class keeps its 15%); an equity class of 90 in total closes into bonds, never into cash."""
    cls = np.array([0, 1, 1, 2, 2])
    mins = np.array([10.0, 100.0, 100.0, 100.0, 100.0])
    legs = enforce_minimums(np.array([50.0, 400.0, 400.0, 80.0, 70.0]), mins, 1000.0, cls)
    assert legs.tolist() == [50.0, 400.0, 400.0, 150.0, 0.0]
    small = enforce_minimums(np.array([50.0, 430.0, 430.0, 50.0, 40.0]), mins, 1000.0, cls)
    assert small[3:].sum() == 0.0 and small[0] == 50.0 and small.sum() == pytest.approx(1000.0)


def test_every_model_plan_keeps_the_models_class_mix_when_each_class_can_hold_a_leg(real_universe):
    """For every level and a ¥1,000 and ¥3,000 debit: each class of the model whose share of the debit
    reaches the smallest minimum SIP among its funds keeps at least its model weight (it may receive a closed
    class's share), and the plan never holds more risk assets than the model."""
    from advisor.proposal import target_fund_weights

    funds = real_universe.funds
    for level in range(1, 6):
        model = target_fund_weights(real_universe, level, 5.0)
        model = model[model > 0]
        by_class = model.groupby(funds["asset_class"].reindex(model.index).astype(str)).sum()
        cheapest = funds["min_sip"].reindex(model.index).fillna(100.0).groupby(
            funds["asset_class"].reindex(model.index).astype(str)).min()
        for amount in (1_000.0, 3_000.0):
            plan = plan_from_model(real_universe, level, amount, 5.0)
            held = pd.Series({leg.code: leg.weight for leg in plan.legs})
            held_by_class = held.groupby(funds["asset_class"].reindex(held.index).astype(str)).sum()
            for cls, weight in by_class.items():
                if weight * amount >= cheapest[cls]:
                    assert held_by_class.get(cls, 0.0) >= weight - 0.01, (level, amount, cls)
            risky = ["cn_equity", "global_equity", "gold"]
            assert held_by_class.reindex(risky).fillna(0).sum() <= by_class.reindex(risky).fillna(0).sum() + 1e-6


@pytest.fixture(scope="module")
def c3_plan(demo_universe):
    return plan_from_model(demo_universe, 3, 1000.0, 5.0)


def test_model_plan_meets_minimums_and_suitability(demo_universe, c3_plan):
    facts = validate_plan(demo_universe, c3_plan, 3)
    assert (1000.0 * facts.weight >= facts.min_sip - 1e-9).all()
    assert (facts.risk_level <= 3).all()


def _row_on_or_after(universe, day) -> int:
    return int(universe.returns.index.searchsorted(pd.Timestamp(day), side="left"))


def one_fund_per_class(universe, amount):
    """Rule: per asset class, the first open fund whose minimum SIP the amount meets."""
    f = universe.funds
    ok = (f["status"] == "open") & (pd.to_numeric(f["min_sip"]) <= amount)
    return [str(f.index[ok & (f["asset_class"] == c)][0]) for c in f.loc[ok, "asset_class"].unique()]


def check_against_nav(u, code, plan, start, end):
    """Each debit buys (amount − subscription fee) / NAV on its day (moved to the next trading day when the
    market is closed); the final value is the units at the last NAV; computed here from the returns alone."""
    total = u.returns.iloc[:, u.code_index[code]].fillna(0.0).add(1.0).cumprod()  # adjusted NAV
    result = simulate_plan(u, plan, start, end, include_ledger=True)
    idx = u.returns.index
    rows = [_row_on_or_after(u, d) for d in debit_dates(plan, start, end)]
    rows = [r for r in rows if idx[r] <= pd.Timestamp(end)]
    fee = float(u.fees.subscription_fee(np.array([u.code_index[code]]), np.array([plan.amount]), u.fee_discount)[0])
    last = int(idx.searchsorted(pd.Timestamp(end), side="right")) - 1
    units = sum((plan.amount - fee) / total.iloc[r] for r in rows)
    assert result["debits"] == len(rows), code
    assert result["invested"] == pytest.approx(plan.amount * len(rows))
    assert result["fees"] == pytest.approx(fee * len(rows), abs=0.01)
    assert result["final_value"] == pytest.approx(units * total.iloc[last], abs=0.01 * len(rows)), code
    bought = sorted({r["date"] for r in result["ledger"]})
    assert bought == sorted({str(idx[r].date()) for r in rows})  # a bank's debit days
    assert result["cash_check"] < 1e-6


@pytest.mark.parametrize("frequency", ["monthly", "weekly", "fortnightly"])
def test_a_plain_fixed_fund_plan_agrees_with_a_direct_computation_on_nav(demo_universe, frequency):
    for code in one_fund_per_class(demo_universe, 500.0):
        plan = SipPlan.build(amount=500, legs={code: 1.0}, frequency=frequency,
                             day=3 if frequency != "monthly" else 15)
        check_against_nav(demo_universe, code, plan, date(2019, 1, 1), date(2021, 6, 30))


def test_real_nav_every_qdii_plan_agrees_with_a_direct_computation(real_universe):
    """Every open yuan QDII fund priced since 2018 whose minimum SIP ¥1,000 meets: a monthly plan from 2019."""
    u = real_universe
    f = u.funds
    first = u.returns.notna().idxmax()
    rule = (f["fund_type"].astype(str).str.startswith("qdii") & (f["status"] == "open") & (f["currency"] == "CNY")
            & (first.reindex(f.index) < pd.Timestamp("2018-12-01")) & (pd.to_numeric(f["min_sip"]) <= 1000))
    codes = list(f.index[rule.to_numpy()])
    assert len(codes) >= 5
    for code in codes:
        check_against_nav(u, code, SipPlan.build(amount=1000, legs={code: 1.0}, day=8), date(2019, 1, 1),
                          date(2025, 12, 31))


def test_every_purchase_meets_its_fund_minimum_sip(demo_universe, c3_walk_forward):
    """Smart plans of named funds and the walk-forward model plan: no purchase below the fund's minimum SIP."""
    u = demo_universe
    legs = one_fund_per_class(u, 100.0)
    smart = SipPlan.build(amount=len(legs) * 100.0, mode="smart", legs={c: 1.0 for c in legs})
    results = [simulate_plan(u, smart, date(2020, 1, 1), date(2022, 12, 31), include_ledger=True), c3_walk_forward]
    for result in results:
        buys = [r for r in result["ledger"] if r["kind"] == "subscription"]
        assert buys
        minimum = pd.to_numeric(u.funds["min_sip"])
        assert all(r["paid"] >= minimum[r["code"]] - 1e-9 for r in buys), result["plan"]
    # smart: underweight classes first, so a debit seldom buys every leg
    per_day = pd.DataFrame([r for r in results[0]["ledger"] if r["kind"] == "subscription"]).groupby("date").size()
    assert per_day.min() < len(legs)


def test_cash_is_conserved(demo_universe):
    """Every yuan debited is in a purchase (paid) or still in the account; every yuan a take-profit raised is
    paid out."""
    equity = funds_of(demo_universe, asset_class="cn_equity", min_sip=100.0)[:2]
    plan = SipPlan.build(amount=1000, legs={equity[0]: 0.5, equity[1]: 0.5}, target_return=0.10,
                         on_target="take_profit")
    result = simulate_plan(demo_universe, plan, date(2017, 1, 1), include_ledger=True)
    ledger = pd.DataFrame(result["ledger"])
    paid = ledger["paid"].dropna().sum()
    received = ledger["received"].dropna().sum()
    assert 0 <= result["invested"] - paid < 0.01 * result["debits"]
    assert result["paid_out"] == pytest.approx(received, abs=0.01)
    assert result["cash_check"] < 1e-6
    subs = ledger[ledger["kind"] == "subscription"]
    assert (subs["paid"] - subs["amount"] - subs["fee"]).abs().max() < 0.011
    sales = ledger[ledger["kind"] == "redemption"]
    assert (sales["amount"] - sales["fee"] - sales["received"]).abs().max() < 0.011


def test_money_weighted_return_agrees_with_brentq(demo_universe):
    code = one_fund_per_class(demo_universe, 1000.0)[-1]
    plan = SipPlan.build(amount=1000, legs={code: 1.0})
    result = simulate_plan(demo_universe, plan, date(2020, 1, 1), date(2024, 12, 31), include_ledger=True)
    idx = demo_universe.returns.index
    bought = sorted({r["date"] for r in result["ledger"]})
    paid_in = [idx[idx.searchsorted(pd.Timestamp(d)) - 1] for d in bought]  # the evening before each debit day
    end = idx[idx.searchsorted(pd.Timestamp("2024-12-31"), side="right") - 1]
    days = [(d - paid_in[0]).days for d in [*paid_in, end]]
    expected = brentq_xirr(days, [-1000.0] * len(paid_in) + [result["final_value"]])
    assert result["xirr"] == pytest.approx(expected, abs=1e-6)
    assert result["volatility"] > 0 and result["max_drawdown"] <= 0
    assert "最大回撤" in result["explanation_zh"] and "_" not in result["explanation_zh"]


def test_target_profit_stop_ends_debits_once_the_return_is_reached(demo_universe):
    equity = funds_of(demo_universe, asset_class="cn_equity", min_sip=100.0)[:2]
    plan = SipPlan.build(amount=1000, legs={equity[0]: 0.5, equity[1]: 0.5}, target_return=0.10, on_target="stop")
    result = simulate_plan(demo_universe, plan, date(2017, 1, 1), include_ledger=True)
    stop = result["stopped_on"]
    assert stop is not None
    assert len(result["profit_events"]) == 1 and result["profit_events"][0]["return"] >= 0.10
    assert all(r["date"] <= stop for r in result["ledger"])
    assert result["paid_out"] == 0.0 and result["final_value"] > result["invested"]  # holdings stay
    # the first close at the target: at the month-ends before it the plan's return was below the target
    before = [p for p in result["monthly_values"] if p["date"] < stop[:7]]
    assert all(p["value"] / p["net_invested"] - 1 < 0.10 for p in before)


def test_take_profit_redeems_everything_and_starts_a_new_cycle(demo_universe):
    equity = funds_of(demo_universe, asset_class="cn_equity", min_sip=100.0)[:2]
    plan = SipPlan.build(amount=1000, legs={equity[0]: 0.5, equity[1]: 0.5}, target_return=0.10,
                         on_target="take_profit")
    result = simulate_plan(demo_universe, plan, date(2017, 1, 1), include_ledger=True)
    events = result["profit_events"]
    assert len(events) >= 2 and all(e["return"] >= 0.10 for e in events)
    idx = demo_universe.returns.index
    ledger = pd.DataFrame(result["ledger"])
    for e in events:
        # sold at the next trading day's NAV, everything held, and paid out
        assert e["date"] == str(idx[idx.searchsorted(pd.Timestamp(e["reached"]), side="right")].date())
        sells = ledger[(ledger["kind"] == "redemption") & (ledger["date"] == e["date"])]
        assert set(sells["code"]) == set(equity)
        assert sells["received"].sum() == pytest.approx(e["cash"], abs=0.01)
    assert (ledger["date"] > events[0]["date"]).any()  # a new cycle
    assert result["paid_out"] == pytest.approx(sum(e["cash"] for e in events), abs=0.02)


@pytest.fixture(scope="module")
def c3_walk_forward(demo_universe, c3_plan):
    """A ¥300 smart C3 plan on the model as the service knew it at each debit (walk-forward research)."""
    plan = plan_from_model(demo_universe, 3, 300.0, 5.0, mode="smart")
    return simulate_plan(demo_universe, plan, date(2023, 6, 1), date(2024, 12, 31), customer_level=3,
                         include_ledger=True)


def test_walk_forward_model_plan_is_labelled_out_of_sample(c3_walk_forward):
    r = c3_walk_forward
    assert r["basis"] == "model" and r["kind"] == "simulated_walk_forward"
    assert "样本外" in r["explanation_zh"] and "out of sample" in r["explanation_en"]
    assert r["invested"] == pytest.approx(300.0 * r["debits"]) and r["debits"] == 19
    assert r["volatility"] > 0 and r["max_drawdown"] <= 0 and r["xirr"] is not None


def test_walk_forward_plan_to_t_ignores_later_data(demo_universe):
    """No look-ahead (the simulator's pattern): the plan simulated to t equals the plan simulated on data cut at t."""
    from advisor.simulation.pointintime import truncated

    plan = plan_from_model(demo_universe, 4, 1000.0, 2.0, mode="smart", frequency="weekly", day=2)
    end = date(2024, 7, 19)
    full = simulate_plan(demo_universe, plan, date(2024, 3, 1), end, include_ledger=True)
    cut = simulate_plan(truncated(demo_universe, str(end)), plan, date(2024, 3, 1), include_ledger=True)
    assert full["ledger"] == cut["ledger"] and full["monthly_values"] == cut["monthly_values"]
    assert full["final_value"] == cut["final_value"] and full["funds_bought"] == cut["funds_bought"]


def test_real_nav_c3_monthly_walk_forward_plan(real_universe):
    """The issue's example, a ¥1,000 monthly plan on a C3 model, walk-forward (from 2025 to keep the suite
    lean: research is recomputed each quarter; docs/lifecycle.md has the run from 2018)."""
    plan = plan_from_model(real_universe, 3, 1000.0, 5.0)
    result = simulate_plan(real_universe, plan, date(2025, 1, 1), customer_level=3, include_ledger=True)
    assert result["debits"] >= 13 and result["basis"] == "model"
    assert result["invested"] == pytest.approx(1000.0 * result["debits"])
    assert 0 < result["volatility"] < 0.08  # within C3's volatility budget
    assert -0.12 < result["max_drawdown"] < 0  # and its drawdown tolerance
    levels = real_universe.funds["risk_level"].reindex(result["funds_bought"]).to_numpy()
    assert (levels <= 3).all()  # point-in-time funds, never above the level
    assert result["cash_check"] < 1e-6
