"""Property tests on random books: minimum sizes, lots under 7 days, and a plan being a fixed point."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from advisor.rebalancing import rebalance_batch
from advisor.rebalancing.settings import DEFAULT_SETTINGS
from products.fees import SHORT_HOLD_DAYS
from tests.advisor.rebalancing.rebalance_helpers import AS_OF, lots_frame

SALES = ["sell", "switch_out"]
BUYS = ["buy", "switch_in"]

lot_strategy = st.tuples(st.integers(0, 78), st.floats(200, 300_000), st.integers(0, 2000))
customer_strategy = st.fixed_dictionaries({
    "level": st.integers(1, 5), "lowest": st.booleans(), "previous": st.integers(1, 5),
    "flow": st.one_of(st.just(0.0), st.just(0.0), st.floats(-50_000, 80_000)),
    "cash": st.one_of(st.just(0.0), st.floats(0, 200_000)), "expenses": st.sampled_from([0.0, 3_000.0, 20_000.0]),
    "horizon": st.sampled_from([0.5, 2.0, 5.0, 10.0]),
    "lots": st.lists(lot_strategy, min_size=1, max_size=8),
})


def _book(universe, draws: list[dict]) -> tuple[pd.DataFrame, pd.DataFrame]:
    customers, lots = [], []
    for i, d in enumerate(draws):
        cid = f"h{i}"
        customers.append({"customer_id": cid, "risk_level": f"C{d['level']}", "lowest_category": d["lowest"],
                          "previous_risk_level": f"C{d['previous']}", "cash_flow": d["flow"], "cash": d["cash"],
                          "monthly_expenses": d["expenses"], "horizon_years": d["horizon"]})
        lots += [(cid, universe.codes[f], v, days) for f, v, days in d["lots"]]
    return pd.DataFrame(customers), lots_frame(universe, lots)


def _apply(universe, customers: pd.DataFrame, result) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The customers and valued lots after the plan, the same day (cash updated, the flow done)."""
    after = result.lots_after
    lots = pd.DataFrame({"customer_id": after["customer_id"], "code": after["code"], "value": after["amount"],
                         "purchase_date": after["purchase_date"]})
    lots["fund_idx"] = universe.index_of(lots["code"].to_numpy())
    lots["holding_days"] = (pd.Timestamp(AS_OF) - pd.to_datetime(lots["purchase_date"])).dt.days
    cash = result.summary.set_index("customer_id")["cash_after"]
    again = customers.assign(cash=customers["customer_id"].map(cash).to_numpy(), cash_flow=0.0)
    return again, lots


def _draw(level: int, flow: float, horizon: float, lots: list, previous: int | None = None) -> dict:
    return {"level": level, "lowest": False, "previous": previous or level, "flow": flow, "cash": 0.0,
            "expenses": 0.0, "horizon": horizon, "lots": lots}


# Hypothesis draws some values from the constants of the project modules imported when it runs (its "local
# constants"), so even derandomized the books depend on which other test files the run collected: books
# found that way are pinned here.
@settings(max_examples=30, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(st.lists(customer_strategy, min_size=1, max_size=6))
# a withdrawal in full mode: the money-market sale paid the purchases only up to the cash class's excess after
# the withdrawal, although the withdrawal took its own share of the sales — the next plan sold the rest
@example(draws=[_draw(5, -44904.31179285544, 10.0, [(43, 251340.56441320508, 650), (2, 106451.7130206593, 218),
                                                     (62, 259094.76097323626, 157)], previous=4)])
# a switch into a second purchase of the company carried the cents left of its sales: a ¥0.01 switch-in
@example(draws=[_draw(5, 0.0, 5.0, [(11, 236796.28282331693, 1545), (59, 107417.06590180195, 429),
                                    (48, 96125.82277252627, 1065)])])
# a withdrawal: purchases of 1% of what the withdrawal leaves, under 1% of the portfolio before it
@example(draws=[_draw(5, -44904.31179285544, 0.5, [(0, 106451.7130206593, 218)])])
def test_no_trade_below_minimum_no_young_lot_sold_without_a_withdrawal_and_a_fixed_point(universe, targets,
                                                                                         draws: list[dict]) -> None:
    customers, lots = _book(universe, draws)
    result = rebalance_batch(universe, customers, lots, targets=targets, as_of=AS_OF)
    t, s = result.trades, result.summary.set_index("customer_id")
    assert result.rejects.empty and len(s) == len(customers)
    portfolio = s["value_before"] + s["investable_cash"]
    # (1% of the portfolio after the cash flow: what a withdrawal leaves, as the engine measures it)
    floor = np.maximum(DEFAULT_SETTINGS.min_trade,
                       DEFAULT_SETTINGS.min_trade_share * np.maximum(portfolio + s["cash_flow"], 0.0))

    # no purchase below the fund's minimum or the floor (share-class switches carry their sale's proceeds)
    buys = t[t["action"].isin(BUYS) & (t["reason"] != "cost_saving")]
    per_fund = buys.groupby(["customer_id", "code"], observed=True)["amount"].sum()
    if len(per_fund):
        owner = per_fund.index.get_level_values(0).astype(str)
        code = per_fund.index.get_level_values(1).astype(str)
        minimum = np.maximum(universe.funds.loc[code, "min_purchase"].to_numpy(), floor.loc[owner].to_numpy())
        assert (per_fund.to_numpy() >= minimum - 0.01).all()
    # no sale below the floor, except a full exit for suitability or an event, or paying a withdrawal
    sales = t[t["action"].isin(SALES)]
    per_sale = sales.groupby(["customer_id", "code"], observed=True).agg(amount=("amount", "sum"),
                                                                          reason=("reason", "first"))
    if len(per_sale):
        owner = per_sale.index.get_level_values(0).astype(str)
        exempt = per_sale["reason"].astype(str).isin(["above_level", "fund_event", "withdrawal"]).to_numpy()
        assert ((per_sale["amount"].to_numpy() >= floor.loc[owner].to_numpy() - 0.01) | exempt).all()
    # no crumb order left by cent rounding, and no money-market fund sold and bought in one plan
    assert (t["amount"] >= 1.0).all()
    money = t[t["asset_class"] == "cash"]
    sells_mm = set(money.loc[money["action"].isin(SALES), "customer_id"].astype(str))
    buys_mm = set(money.loc[money["action"].isin(BUYS), "customer_id"].astype(str))
    assert not sells_mm & buys_mm
    # lots under 7 days are sold only to pay a withdrawal
    young = sales[sales["min_holding_days"] < SHORT_HOLD_DAYS]
    assert (s.loc[young["customer_id"].astype(str), "cash_flow"] < 0).all()
    # suitability: nothing bought above the customer's level, ever
    allowed = customers.set_index("customer_id").apply(
        lambda c: 1 if c["lowest_category"] else int(str(c["risk_level"])[1]), axis=1)
    all_buys = t[t["action"].isin(BUYS)]
    assert (all_buys["fund_risk_level"].to_numpy() <= allowed.loc[all_buys["customer_id"].astype(str)].to_numpy()).all()

    # a sale for class drift comes from an overweight class and a purchase for class drift goes to an
    # underweight one: measured against the class goals after the cash flow and the replacement sales
    _assert_drift_trades_follow_the_class_gaps(t, s, customers)

    # a fixed point: applied, the plan gives no further trades the same day — for customers whose plan was not
    # cut by the turnover cap, and whose portfolio makes the ¥100 floor at most 1% (smaller ones may need a
    # second small step where the floor bound)
    again_c, again_l = _apply(universe, customers, result)
    second = rebalance_batch(universe, again_c, again_l, targets=targets, as_of=AS_OF)
    s2 = second.summary.set_index("customer_id")
    eligible = (s["status"] == "trade") & ~s["turnover_capped"] & (portfolio >= 10_000)
    assert (s2.loc[eligible[eligible].index, "status"] != "trade").all(), s2.loc[eligible[eligible].index,
                                                                                  ["reason", "trade_reasons"]]


CLASSES = ("cash", "bond", "cn_equity", "global_equity", "gold")
REPLACEMENTS = ["above_level", "fund_event", "fund_quality"]


def _assert_drift_trades_follow_the_class_gaps(t: pd.DataFrame, s: pd.DataFrame, customers: pd.DataFrame) -> None:
    """Class gaps (goal − value, yuan) per customer as the policy sees them before its class moves: the
    funds kept after replacement sales (not share-class switches), and the cash to place — investable cash,
    the cash flow, the replacements' proceeds — in the total and, above what the emergency reserve still
    lacks, in the cash class."""
    c = customers.set_index("customer_id").reindex(s.index)
    funds = pd.DataFrame(s[[f"before_{k}" for k in CLASSES]].to_numpy()
                         * (s["value_before"] + s["investable_cash"]).to_numpy()[:, None], index=s.index,
                         columns=list(CLASSES))
    funds["cash"] -= s["investable_cash"]
    idle = s["investable_cash"] + s["cash_flow"]
    replaced = t[t["action"].isin(SALES) & t["reason"].isin(REPLACEMENTS)]
    if len(replaced):
        owner = replaced["customer_id"].astype(str)
        out = (replaced.groupby([owner, replaced["asset_class"].astype(str)])["amount"].sum().unstack(fill_value=0.0)
               .reindex(index=s.index, columns=list(CLASSES), fill_value=0.0))
        funds = funds - out
        idle = idle + out.sum(axis=1) - replaced.groupby(owner)["fee"].sum().reindex(s.index, fill_value=0.0)
    reserve_gap = np.maximum(DEFAULT_SETTINGS.reserve_months * c["monthly_expenses"] - c["cash"], 0.0)
    total = funds.sum(axis=1) + idle
    value = funds.copy()
    value["cash"] += np.where(idle < 0, idle, np.maximum(idle - reserve_gap, 0.0))
    goal = s[[f"target_{k}" for k in CLASSES]].to_numpy() * total.to_numpy()[:, None]
    gap = pd.DataFrame(goal - value.to_numpy(), index=s.index, columns=list(CLASSES))
    drift = t[t["reason"] == "class_drift"]
    if drift.empty:
        return
    owner = drift["customer_id"].astype(str)
    g = gap.to_numpy()[s.index.get_indexer(owner), [CLASSES.index(str(k)) for k in drift["asset_class"]]]
    tol = 0.01 + 1e-6 * total.loc[owner].to_numpy()
    sale = drift["action"].isin(SALES).to_numpy()
    assert (g[sale] <= tol[sale]).all(), drift[sale][g[sale] > tol[sale]]
    assert (g[~sale] >= -tol[~sale]).all(), drift[~sale][g[~sale] < -tol[~sale]]
