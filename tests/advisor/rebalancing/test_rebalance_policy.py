"""The policy a relationship manager can defend, rule by rule, on generated books (demo universe)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from advisor.rebalancing.metrics import round_trip_value, run_summary
from advisor.rebalancing.plan import TRADE_REASONS
from advisor.rebalancing.settings import DEFAULT_SETTINGS
from advisor.rebalancing.universe_facts import fund_facts
from tests.advisor.rebalancing.rebalance_helpers import AS_OF, fund_of, on_target_lots, run

SALES = ["sell", "switch_out"]
BUYS = ["buy", "switch_in"]


def _class_targets(universe, targets, level: int) -> pd.Series:
    t = targets(level, 3.0, False)
    return t.groupby(universe.funds.loc[t.index, "asset_class"].astype(str)).sum()


def _own_funds_book(universe, targets, cid: str, level: int, total: float, tilt: dict[str, float] | None = None,
                    days: int = 1000) -> tuple[list[tuple], float]:
    """Suitable, not weak funds outside the model in each class, at the model's class weights (tilted); the
    cash class as cash at the bank. Returns (lots, cash)."""
    model = set(targets(level, 3.0, False).index)
    classes = _class_targets(universe, targets, level).to_dict()
    for cls, shift in (tilt or {}).items():
        others = [c for c in classes if c != cls]
        classes[cls] = classes.get(cls, 0.0) + shift
        for c in others:
            classes[c] -= shift * classes[c] / sum(classes[o] for o in others)
    lots, cash = [], 0.0
    for cls, weight in classes.items():
        if cls == "cash":
            cash = weight * total
            continue
        picks = []
        while len(picks) < 2:
            picks.append(fund_of(universe, asset_class=cls, weak=False, exclude=(*model, *picks), share_class="A"))
            if universe.funds.loc[picks[-1], "risk_level"] > level:
                picks.pop()
                model.add(fund_of(universe, asset_class=cls, weak=False, exclude=(*model, *picks)))
        lots += [(cid, code, weight * total / 2, days) for code in picks]
    return lots, cash


def test_held_suitable_funds_on_target_by_class_are_kept(universe, targets) -> None:
    """Funds outside the model but suitable, tradable and not weak, at the model's class weights: no trade."""
    lots, cash = _own_funds_book(universe, targets, "k1", 3, 200_000.0)
    result = run(universe, targets, [{"customer_id": "k1", "risk_level": "C3", "cash": cash}], lots)
    s = result.summary.iloc[0]
    assert s["drift_before"] < 1e-9 and s["reason"] == "within_bands" and result.trades.empty


def test_class_drift_sells_overweight_classes_and_buys_underweight_ones(universe, targets) -> None:
    lots, cash = _own_funds_book(universe, targets, "d1", 3, 300_000.0, tilt={"cn_equity": 0.12})
    result = run(universe, targets, [{"customer_id": "d1", "risk_level": "C3", "cash": cash}], lots)
    s, t = result.summary.iloc[0], result.trades
    assert s["status"] == "trade" and s["drift_after"] < s["drift_before"] / 4
    sold = t[t["action"].isin(SALES)]
    bought = t[t["action"].isin(BUYS)]
    assert (sold["asset_class"] == "cn_equity").all() and (sold["reason"] == "class_drift").all()
    assert not (bought["asset_class"] == "cn_equity").any()
    assert set(bought["reason"]) <= {"class_drift", "idle_cash"}
    assert round_trip_value(t) == 0.0  # nothing sold is bought back in its class
    # the kept bond funds are not touched: a purchase for drift goes to the model's funds of the class
    model = set(targets(3, 3.0, False).index)
    assert set(bought["code"].astype(str)) <= model


def test_a_turnover_cap_never_spends_the_cash_the_cash_class_needs(universe, targets) -> None:
    """Capped, the class sales shrink and so do the purchases: the cash above its goal and what the sales
    raise pay for them, and the cash class never ends below its goal when it started above it."""
    lots, cash = _own_funds_book(universe, targets, "cap1", 3, 300_000.0, tilt={"cn_equity": 0.35})
    result = run(universe, targets, [{"customer_id": "cap1", "risk_level": "C3", "cash": cash + 60_000.0}], lots,
                 settings=DEFAULT_SETTINGS.with_(turnover_cap=0.1))
    s = result.summary.iloc[0]
    assert s["status"] == "trade" and bool(s["turnover_capped"])
    assert s["before_cash"] > s["target_cash"]
    assert s["after_cash"] >= s["target_cash"] - DEFAULT_SETTINGS.min_trade_share - 0.001  # (the floor: 1%)
    assert s["drift_after"] < s["drift_before"]


def test_every_trade_has_a_reason_and_drift_trades_follow_the_class_gaps(universe, targets) -> None:
    rng = np.random.default_rng(5)
    customers, lots = [], []
    for i in range(40):
        level = int(rng.integers(2, 6))
        cid = f"g{i}"
        customers.append({"customer_id": cid, "risk_level": f"C{level}", "cash": float(rng.choice([0, 20_000])),
                          "cash_flow": float(rng.choice([0.0, 0.0, 15_000.0, -8_000.0]))})
        for _ in range(int(rng.integers(2, 7))):
            lots.append((cid, universe.codes[int(rng.integers(0, 79))], float(rng.uniform(2_000, 60_000)),
                         int(rng.integers(10, 1500))))
    result = run(universe, targets, customers, lots)
    t, s = result.trades, result.summary.set_index("customer_id")
    assert len(t) > 50
    assert set(t["reason"].astype(str)) <= set(TRADE_REASONS[1:])
    before = s[[f"before_{c}" for c in ("cash", "bond", "cn_equity", "global_equity", "gold")]]
    target = s[[f"target_{c}" for c in ("cash", "bond", "cn_equity", "global_equity", "gold")]].to_numpy()
    gap = pd.DataFrame(before.to_numpy() - target, index=s.index, columns=["cash", "bond", "cn_equity",
                                                                          "global_equity", "gold"])
    drift = t[t["reason"] == "class_drift"]
    over = np.array([gap.loc[str(c), str(k)] for c, k in zip(drift["customer_id"], drift["asset_class"], strict=True)])
    sale = drift["action"].isin(SALES).to_numpy()
    # a sale for class drift comes from an overweight class, a purchase for class drift goes to an underweight one
    # (measured after the customer's own cash flow is placed)
    flows = s.loc[drift["customer_id"].astype(str), "cash_flow"].to_numpy()
    assert (over[sale & (flows >= 0)] > -1e-9).all()
    assert (over[~sale & (flows <= 0)] < 1e-9).all()


def test_above_level_holding_is_reduced_and_replaced_in_its_class(universe, targets) -> None:
    lots = on_target_lots(universe, targets, "a1", 3, 200_000.0)
    r4 = fund_of(universe, asset_class="cn_equity", level=4, weak=False)
    lots.append(("a1", r4, 30_000.0, 400))
    result = run(universe, targets, [{"customer_id": "a1", "risk_level": "C3", "previous_risk_level": "C4"}], lots)
    t = result.trades
    out = t[t["code"] == r4]
    assert out["action"].isin(SALES).all() and (out["reason"] == "above_level").all()
    assert out["amount"].sum() == pytest.approx(30_000.0, abs=0.01)
    assert (t.loc[t["action"].isin(BUYS), "fund_risk_level"] <= 3).all()
    assert "lowered_level" in result.summary["triggers"].iloc[0]


def test_weak_fund_is_replaced_only_when_the_plan_trades_anyway(universe, targets) -> None:
    weak_bond = fund_of(universe, asset_class="bond", weak=True, level=2)
    lots = on_target_lots(universe, targets, "q1", 3, 200_000.0)
    bond = next(i for i, lot in enumerate(lots) if universe.funds.loc[lot[1], "asset_class"] == "bond")
    lots[bond] = ("q1", weak_bond, lots[bond][2], lots[bond][3])
    calm = run(universe, targets, [{"customer_id": "q1", "risk_level": "C3"}], lots)
    assert calm.trades.empty and calm.summary["reason"].iloc[0] == "within_bands"
    drifted = [(c, code, v * (1.4 if universe.funds.loc[code, "asset_class"] == "cn_equity" else 1.0), d)
               for c, code, v, d in lots]
    busy = run(universe, targets, [{"customer_id": "q1", "risk_level": "C3"}], drifted)
    t = busy.trades
    out = t[t["code"] == weak_bond]
    assert out["action"].isin(SALES).all() and (out["reason"] == "fund_quality").all()
    assert t.loc[t["code"] != weak_bond, "code"].map(lambda c: c != weak_bond).all()
    assert not t.loc[t["action"].isin(BUYS), "code"].isin([weak_bond]).any()


def _c_and_a_class_pair(universe, max_level: int) -> tuple[str, str]:
    """The first open C-class bond fund within the level whose A class is open, within the level and
    neither is weak (the only reason left to switch is the cost)."""
    from products.taxonomy import share_class_families

    funds = universe.funds
    weak = fund_facts(universe).weak
    _, a_of = share_class_families(funds)
    for i, code in enumerate(funds.index):
        a = int(a_of[i])
        if a < 0:
            continue
        pair = [i, a]
        if ((funds["asset_class"].iloc[pair] == "bond").all() and (funds["status"].iloc[pair] == "open").all()
                and (funds["risk_level"].iloc[pair] <= max_level).all() and not weak[pair].any()):
            return str(code), str(funds.index[a])
    raise AssertionError("the demo universe has no suitable C/A bond pair")


def test_c_class_held_long_switches_to_the_cheaper_a_class_when_the_plan_trades(universe, targets) -> None:
    c_class, a_class = _c_and_a_class_pair(universe, max_level=3)
    lots = on_target_lots(universe, targets, "c1", 3, 400_000.0, tilt={"cn_equity": 0.1})
    lots.append(("c1", c_class, 60_000.0, 900))
    result = run(universe, targets, [{"customer_id": "c1", "risk_level": "C3", "horizon_years": 10.0}], lots)
    t = result.trades
    out, into = t[t["code"] == c_class], t[t["code"] == a_class]
    assert (out["reason"] == "cost_saving").all() and out["amount"].sum() == pytest.approx(60_000.0, abs=0.01)
    assert (into.loc[into["reason"] == "cost_saving", "action"] == "switch_in").all()
    # units held under a year are not switched (the health check's rule); the C class may still be trimmed
    young = [*lots[:-1], ("c1", c_class, 60_000.0, 200)]
    short = run(universe, targets, [{"customer_id": "c1", "risk_level": "C3", "horizon_years": 10.0}], young)
    assert not (short.trades["reason"] == "cost_saving").any()


def test_no_money_market_to_money_market_swap(universe, targets) -> None:
    """A money fund outside the model is never swapped for the model's money fund."""
    money = set(universe.funds.index[universe.funds["fund_type"] == "money_market"])
    model_mm = set(targets(3, 3.0, False).index) & money
    own_mm = next(c for c in sorted(money) if c not in model_mm)
    lots = [lot for lot in on_target_lots(universe, targets, "m1", 3, 100_000.0, tilt={"bond": -0.1})
            if lot[1] not in model_mm]
    lots.append(("m1", own_mm, 25_000.0, 300))
    for expenses in (0.0, 50_000.0):  # with the reserve full, and short (then cash is held in the money fund)
        result = run(universe, targets, [{"customer_id": "m1", "risk_level": "C3", "monthly_expenses": expenses}], lots)
        t = result.trades
        mm = t[t["asset_class"] == "cash"]
        assert not (mm["action"].isin(SALES).any() and mm["action"].isin(BUYS).any())
        assert round_trip_value(t[t["asset_class"] == "cash"]) == 0.0


def test_idle_cash_pays_for_purchases_before_anything_is_sold(universe, targets) -> None:
    lots = on_target_lots(universe, targets, "i1", 3, 100_000.0)
    result = run(universe, targets, [{"customer_id": "i1", "risk_level": "C3", "cash": 40_000.0,
                                      "monthly_expenses": 2_000.0}], lots)
    t, s = result.trades, result.summary.iloc[0]
    assert not t.empty and t["action"].isin(BUYS).all() and (t["reason"] == "idle_cash").all()
    # the reserve (3 months of expenses) stays: only cash above it is invested
    assert s["cash_after"] >= 6_000.0 - 0.01
    assert s["investable_cash"] == pytest.approx(34_000.0)


def test_withdrawal_sells_what_it_needs_and_no_more(universe, targets) -> None:
    lots = on_target_lots(universe, targets, "w1", 3, 200_000.0, tilt={"cn_equity": 0.01})
    for cash, need in ((0.0, 20_000.0), (15_000.0, 5_000.0)):
        result = run(universe, targets, [{"customer_id": "w1", "risk_level": "C3", "cash": cash,
                                          "cash_flow": -20_000.0}], lots)
        t, s = result.trades, result.summary.iloc[0]
        sold = t[t["action"].isin(SALES)]
        assert t["action"].isin(SALES).all(), "a withdrawal inside the bands buys nothing"
        assert (sold["reason"] == "withdrawal").all()
        net = (sold["amount"] - sold["fee"]).sum()
        assert need - 0.01 <= net <= need + 0.02
        assert s["cash_after"] == pytest.approx(cash - 20_000.0 + net, abs=0.02)


def test_sizes_minimum_purchase_increment_floor_and_minimum_holding(universe, targets) -> None:
    rng = np.random.default_rng(9)
    customers, lots = [], []
    for i in range(60):
        cid = f"z{i}"
        customers.append({"customer_id": cid, "risk_level": f"C{int(rng.integers(2, 6))}",
                          "cash": float(rng.choice([0.0, 3_000.0, 50_000.0]))})
        for _ in range(int(rng.integers(1, 6))):
            lots.append((cid, universe.codes[int(rng.integers(0, 79))], float(np.exp(rng.uniform(4, 11))),
                         int(rng.integers(10, 1500))))
    result = run(universe, targets, customers, lots)
    t, s = result.trades, result.summary.set_index("customer_id")
    funds = universe.funds
    buys = t["action"].isin(BUYS).to_numpy()
    # purchases per fund: at least the fund's minimum and the floor, in the fund's increment (a share-class
    # switch carries the proceeds of its sale)
    purchases = t[buys & (t["reason"] != "cost_saving").to_numpy()]
    per_fund = purchases.groupby(["customer_id", "code"], observed=True)["amount"].sum()
    fund_code = per_fund.index.get_level_values("code").astype(str)
    owner = per_fund.index.get_level_values("customer_id").astype(str)
    fund_floor = np.maximum(DEFAULT_SETTINGS.min_trade, DEFAULT_SETTINGS.min_trade_share * (
        s["value_before"] + s["investable_cash"]).reindex(owner).to_numpy())
    assert (per_fund.to_numpy() >= np.maximum(funds.loc[fund_code, "min_purchase"].to_numpy(), fund_floor) - 0.01).all()
    inc = funds.loc[fund_code, "purchase_increment"].to_numpy()
    assert np.allclose(np.round(per_fund.to_numpy() / inc) * inc, per_fund.to_numpy(), atol=0.011)
    # sales: at least the floor unless a full exit for suitability / an event
    by_pair = t[~buys].groupby(["customer_id", "code"], observed=True)["amount"].sum()
    pos = result.positions.set_index(["customer_id", "code"])
    held = pos.loc[by_pair.index, "value_before"].to_numpy()
    after = pos.loc[by_pair.index, "value_after"].to_numpy()
    pair_floor = np.maximum(DEFAULT_SETTINGS.min_trade, DEFAULT_SETTINGS.min_trade_share * (
        s["value_before"] + s["investable_cash"]).reindex(by_pair.index.get_level_values(0).astype(str)).to_numpy())
    exits = after < 0.01
    assert ((by_pair.to_numpy() >= pair_floor - 0.01) | exits).all()
    # a partial sale leaves at least the minimum holding
    partial = (after > 0.01) & (after < held - 0.01)
    assert (after[partial] >= DEFAULT_SETTINGS.min_holding - 0.01).all()
    assert not (buys & (t["amount"].to_numpy() < 0.01)).any()


def test_expired_or_missing_assessment_gets_no_trades(universe, targets) -> None:
    lots = on_target_lots(universe, targets, "x1", 3, 100_000.0, tilt={"cn_equity": 0.2})
    lots += [("x2", code, v, d) for _, code, v, d in lots] + [("x3", code, v, d) for _, code, v, d in lots]
    customers = [{"customer_id": "x1", "risk_level": "C3", "assessment_expires_on": pd.Timestamp(AS_OF)},
                 {"customer_id": "x2", "risk_level": "C3", "assessment_expires_on": pd.NaT},
                 {"customer_id": "x3", "risk_level": "C3", "assessment_expires_on": pd.Timestamp("2027-01-01")}]
    result = run(universe, targets, customers, lots)
    s = result.summary.set_index("customer_id")
    assert s.loc["x1", "status"] == "assessment_expired" and s.loc["x1", "reason"] == "assessment_expired"
    assert s.loc["x2", "status"] == "assessment_expired" and s.loc["x2", "reason"] == "assessment_missing"
    assert s.loc["x3", "status"] == "trade"
    assert set(result.trades["customer_id"].astype(str)) == {"x3"}


def test_a_kept_plan_strictly_reduces_drift_unless_suitability_an_event_or_a_withdrawal(universe, targets) -> None:
    from advisor import demo_customers

    customers, holdings = demo_customers.generate(universe, 400, seed=4, as_of=AS_OF)
    from advisor.rebalancing import rebalance_book

    customers = customers.to_pandas().drop(columns="assessment_expires_on")
    result = rebalance_book(universe, customers, holdings.to_pandas(), as_of=AS_OF, targets=targets)
    s = result.summary
    kept = s[s["status"] == "trade"]
    assert len(kept) > 100
    plain = kept[kept["reason"] == "trade"]
    assert (plain["drift_after"] < plain["drift_before"] - 1e-4).all()
    # the outcome shares a batch summary reports add up
    outcome = run_summary(s, result.trades)
    assert sum(outcome["by_status"].values()) == pytest.approx(1.0)
    assert sum(outcome["value_by_trade_reason"].values()) == pytest.approx(1.0, abs=1e-5)
    assert outcome["round_trip_share_of_sold_without_replacements"] < 0.01


def test_lots_after_reduce_fifo_and_add_purchases_dated_the_trade_day(universe, targets) -> None:
    eq = fund_of(universe, asset_class="cn_equity", level=3, weak=False)
    lots = [("f1", eq, 50_000.0, 900), ("f1", eq, 30_000.0, 400), ("f1", eq, 20_000.0, 100)]
    result = run(universe, targets, [{"customer_id": "f1", "risk_level": "C3"}], lots)
    sold = result.trades.loc[(result.trades["code"] == eq) & result.trades["action"].isin(SALES), "amount"].sum()
    after = result.lots_after
    left = after[after["code"] == eq].sort_values("purchase_date")
    assert left["amount"].sum() == pytest.approx(100_000.0 - sold, abs=0.05)
    # the oldest lot goes first: what is left are the youngest lots
    assert pd.Timestamp(left["purchase_date"].iloc[-1]).date() == AS_OF - pd.Timedelta(days=100)
    new = after[after["purchase_date"] == pd.Timestamp(AS_OF)]
    bought = result.trades[result.trades["action"].isin(BUYS)]
    assert set(new["code"]) == set(bought["code"].astype(str))
    assert new["amount"].sum() == pytest.approx((bought["amount"] - bought["fee"]).sum(), abs=0.05)


def test_a_withdrawal_is_paid_in_full_even_beside_a_share_class_switch(universe, targets) -> None:
    """The switch's proceeds go into the other share class: they never count toward the withdrawal."""
    c_class, _ = _c_and_a_class_pair(universe, max_level=3)
    lots = on_target_lots(universe, targets, "ws", 3, 300_000.0, tilt={"cn_equity": 0.1})
    lots.append(("ws", c_class, 60_000.0, 900))
    result = run(universe, targets, [{"customer_id": "ws", "risk_level": "C3", "horizon_years": 10.0,
                                      "cash_flow": -25_000.0}], lots)
    s, t = result.summary.iloc[0], result.trades
    assert (t["reason"] == "cost_saving").any()
    assert s["reason"] != "withdrawal_shortfall" and s["cash_remainder"] >= -0.01


def test_a_withdrawal_larger_than_what_the_sales_raise_leaves_no_negative_cash(universe, targets) -> None:
    """Selling everything does not cover the sale fees on top: the customer gets what there is, the cash
    stays at zero (so the plan can be chained) and the unpaid rest is reported."""
    money = fund_of(universe, asset_class="cash")
    bond = fund_of(universe, asset_class="bond", level=2)  # above a C1 customer's level, bought today
    lots = [("x1", money, 200.0, 0), ("x1", bond, 9_800.0, 0)]
    result = run(universe, targets, [{"customer_id": "x1", "risk_level": "C1", "cash_flow": -9_990.0}], lots)
    s = result.summary.iloc[0]
    assert s["fee"] > 10.0 and s["cash_after"] == 0.0
    assert s["withdrawal_unpaid"] == pytest.approx(9_990.0 - (s["sell_amount"] - s["fee"]), abs=0.02)
