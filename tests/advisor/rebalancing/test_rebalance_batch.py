"""Whole-book rebalancing: what a relationship manager relies on beyond the policy rules (demo universe)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from advisor.rebalancing import rebalance_batch
from tests.advisor.rebalancing.rebalance_helpers import AS_OF, fund_of, lots_frame, on_target_lots, run


def test_on_target_portfolio_gives_no_trade(universe, targets) -> None:
    lots, customers = [], []
    for level in range(1, 6):
        cid = f"t{level}"
        customers.append({"customer_id": cid, "risk_level": level, "horizon_years": 3.0})
        lots += on_target_lots(universe, targets, cid, level, 200_000.0)
    result = run(universe, targets, customers, lots)
    assert result.trades.empty
    assert (result.summary["reason"] == "within_bands").all()
    assert result.summary["drift_before"].max() < 1e-9


@pytest.mark.parametrize(("tilt", "expected"), [(0.029, "within_bands"), (0.045, "trade")])
def test_just_inside_the_band_gives_no_trade(universe, targets, tilt: float, expected: str) -> None:
    lots = on_target_lots(universe, targets, "b1", 3, 300_000.0, days=1000, tilt={"cn_equity": tilt})
    result = run(universe, targets, [{"customer_id": "b1", "risk_level": "C3"}], lots)
    s = result.summary.iloc[0]
    assert s["reason"] == expected
    assert s["drift_before"] == pytest.approx(tilt, abs=1e-9)
    if expected == "trade":
        assert s["drift_after"] < tilt / 2 and "drift" in s["triggers"]
    else:
        assert result.trades.empty


def test_young_lots_wait_for_day_7(universe, targets) -> None:
    lots = on_target_lots(universe, targets, "y1", 3, 300_000.0, days=1000)
    equity = next(code for _, code, _, _ in lots if universe.funds.loc[code, "asset_class"] == "cn_equity")
    lots.append(("y1", equity, 40_000.0, 3))
    result = run(universe, targets, [{"customer_id": "y1", "risk_level": "C3"}], lots)
    sold = result.trades[result.trades["action"].isin(["sell", "switch_out"])]
    assert (sold["min_holding_days"] >= 7).all() and (result.summary["short_hold_fee"] == 0.0).all()


def test_withdrawal_may_still_sell_a_young_lot_and_shows_its_fee(universe, targets) -> None:
    eq = fund_of(universe, asset_class="cn_equity", level=3, weak=False)
    result = run(universe, targets, [{"customer_id": "w2", "risk_level": "C3", "cash_flow": -9_000.0}],
                 [("w2", eq, 10_000.0, 2)])
    sold = result.trades[result.trades["action"].isin(["sell", "switch_out"])]
    assert (sold["amount"] - sold["fee"]).sum() >= 9_000 - 0.01 and (sold["short_hold_fee"] > 0).all()
    assert (sold["reason"] == "withdrawal").all()


def test_above_level_lot_under_7_days_waits_for_day_7_with_the_fee_then_and_now(universe, targets) -> None:
    """A C3 with ¥100k of an R4 fund bought 3 days ago: not sold now at ≥ 1.5%, but from day 7."""
    from advisor.rebalancing.report import customer_json

    r4 = fund_of(universe, asset_class="cn_equity", level=4, weak=False)
    lots = [*on_target_lots(universe, targets, "s1", 3, 200_000.0, days=1000), ("s1", r4, 100_000.0, 3)]
    result = run(universe, targets, [{"customer_id": "s1", "risk_level": "C3"}], lots)
    t = result.trades
    assert t.loc[(t["code"] == r4) & t["action"].isin(["sell", "switch_out"])].empty
    s = result.summary.iloc[0]
    assert "above_level" in s["triggers"]
    rate_now = universe.fees.redemption_rate(universe.index_of([r4]), np.array([3.0]))[0]
    rate_then = universe.fees.redemption_rate(universe.index_of([r4]), np.array([7.0]))[0]
    assert rate_now >= 0.015 > rate_then
    assert s["deferred_value"] == pytest.approx(100_000.0)
    assert s["deferred_fee_now"] == pytest.approx(100_000.0 * rate_now)
    assert s["deferred_fee_then"] == pytest.approx(100_000.0 * rate_then)
    assert pd.Timestamp(s["deferred_sell_after"]).date() == AS_OF + pd.Timedelta(days=4)
    if s["status"] == "no_trade":
        assert s["reason"] == "deferred_short_hold"
    answer = customer_json(result, "s1", universe)
    note = next(n for n in answer["notes"] if "sell_after" in n)
    assert note["sell_after"] == (AS_OF + pd.Timedelta(days=4)).isoformat()
    assert "停止加仓" in note["zh"] and "stop adding" in note["en"] and f"{note['fee_then']:,.2f}" in note["en"]


def test_fund_event_sells_the_fund_and_replaces_it_in_its_class(universe, targets) -> None:
    lots = on_target_lots(universe, targets, "e1", 3, 200_000.0)
    held_bond = next(code for _, code, _, _ in lots if universe.funds.loc[code, "asset_class"] == "bond")
    events = pd.DataFrame({"code": [held_bond], "event": ["closed"]})
    result = run(universe, targets, [{"customer_id": "e1", "risk_level": "C3"}], lots, fund_events=events)
    s = result.summary.iloc[0]
    assert "fund_event" in s["triggers"] and s["fund_events"].startswith(f"{held_bond} closed → ")
    t = result.trades
    out = t[t["code"] == held_bond]
    assert out["action"].isin(["sell", "switch_out"]).all() and (out["reason"] == "fund_event").all()
    bought = t[t["action"].isin(["buy", "switch_in"])]
    assert (bought["asset_class"] == "bond").any() and not bought["code"].isin([held_bond]).any()


def test_lowest_category_buys_r1_only(universe, targets) -> None:
    lots = [("l1", fund_of(universe, asset_class="bond", level=2, weak=False), 30_000.0, 500),
            ("l1", fund_of(universe, asset_class="cn_equity", level=4, weak=False), 20_000.0, 500)]
    result = run(universe, targets, [{"customer_id": "l1", "risk_level": "C1", "lowest_category": True,
                                      "monthly_expenses": 40_000.0, "cash_flow": 50_000.0}], lots)
    t, s = result.trades, result.summary.iloc[0]
    assert bool(s["lowest_category"]) and s["status"] == "trade"
    assert (t.loc[t["action"].isin(["buy", "switch_in"]), "fund_risk_level"] == 1).all()
    assert t.loc[t["action"].isin(["sell", "switch_out"]), "reason"].eq("above_level").all()


def test_bad_rows_are_rejected_with_reasons_and_the_run_goes_on(universe, targets) -> None:
    customers = [{"customer_id": "ok", "risk_level": "C3"}, {"customer_id": "bad_level", "risk_level": "C9"},
                 {"customer_id": "bad_lot", "risk_level": "C3"}, {"customer_id": "bad_cash", "risk_level": "C3",
                                                                  "cash": -5.0}]
    lots = on_target_lots(universe, targets, "ok", 3, 50_000.0, tilt={"bond": 0.1})
    lots_df = lots_frame(universe, [*lots, ("bad_lot", universe.codes[5], 1000.0, 10),
                                    ("ghost", universe.codes[5], 1000.0, 10)])
    lots_df.loc[len(lots_df) - 2, "value"] = np.nan
    result = rebalance_batch(universe, pd.DataFrame(customers), lots_df, targets=targets, as_of=AS_OF)
    assert result.summary["customer_id"].tolist() == ["ok"]
    assert result.summary["status"].iloc[0] == "trade"
    reasons = result.rejects.set_index("customer_id")["reason"]
    assert "risk level" in reasons["bad_level"] and "cash" in reasons["bad_cash"]
    assert "customer_id not in customers" in reasons["ghost"]
    assert any("usable value" in r for r in result.rejects.loc[result.rejects["customer_id"] == "bad_lot", "reason"])


def test_batch_answers_equal_single_customer_answers(universe, targets) -> None:
    rng = np.random.default_rng(7)
    customers, lots = [], []
    for i in range(12):
        cid = f"s{i}"
        customers.append({"customer_id": cid, "risk_level": int(rng.integers(1, 6)), "cash": float(
            rng.choice([0.0, 30_000.0])), "cash_flow": float(rng.choice([0.0, 5000.0, -3000.0]))})
        for _ in range(int(rng.integers(1, 6))):
            lots.append((cid, universe.codes[int(rng.integers(0, 79))], float(rng.uniform(500, 90_000)),
                         int(rng.integers(0, 1500))))
    whole = run(universe, targets, customers, lots)
    assert len(whole.trades) > 10
    for c in customers:
        alone = run(universe, targets, [c], [lot for lot in lots if lot[0] == c["customer_id"]])
        a = whole.trades[whole.trades["customer_id"] == c["customer_id"]].reset_index(drop=True)
        b = alone.trades.reset_index(drop=True)
        as_text = {"code": str, "asset_class": str, "action": str, "reason": str}
        pd.testing.assert_frame_equal(a.drop(columns="customer_id").astype(as_text),
                                      b.drop(columns="customer_id").astype(as_text))
        assert whole.summary.set_index("customer_id").loc[c["customer_id"], "reason"] == alone.summary["reason"].iloc[0]


def test_turnover_cap_scales_class_moves_and_says_so(universe, targets) -> None:
    from advisor.rebalancing.report import customer_json
    from advisor.rebalancing.settings import DEFAULT_SETTINGS

    lots = on_target_lots(universe, targets, "u1", 3, 200_000.0, tilt={"cn_equity": 0.4})
    capped = run(universe, targets, [{"customer_id": "u1", "risk_level": "C3"}], lots,
                 settings=DEFAULT_SETTINGS.with_(turnover_cap=0.1))
    s = capped.summary.iloc[0]
    assert s["status"] == "trade" and bool(s["turnover_capped"]) and s["turnover"] <= 0.1 + 0.005
    assert s["drift_after"] < s["drift_before"]
    assert any("turnover" in n["en"] for n in customer_json(capped, "u1", universe)["notes"])


def test_chunked_runs_equal_one_run_and_keep_duplicate_ids_together(universe, targets) -> None:
    from advisor.rebalancing.settings import DEFAULT_SETTINGS

    rng = np.random.default_rng(11)
    customers, lots = [], []
    for i in range(14):
        cid = f"k{i}"
        customers.append({"customer_id": cid, "risk_level": int(rng.integers(1, 6)), "cash": float(
            rng.choice([0.0, 30_000.0])), "cash_flow": float(rng.choice([0.0, 5000.0, -3000.0]))})
        for _ in range(int(rng.integers(1, 5))):
            lots.append((cid, universe.codes[int(rng.integers(0, 79))], float(rng.uniform(500, 90_000)),
                         int(rng.integers(0, 1500))))
    customers.append({"customer_id": "k0", "risk_level": 3})  # a duplicate id, rejected in its chunk
    whole = run(universe, targets, customers, lots)
    for workers in (1, 2):
        parts = run(universe, targets, customers, lots,
                    settings=DEFAULT_SETTINGS.with_(chunk_size=4, workers=workers))
        for name in ("trades", "summary", "lots_after"):  # the same values (category order may differ)
            pd.testing.assert_frame_equal(getattr(parts, name), getattr(whole, name), check_categorical=False)
        assert parts.rejects["reason"].str.contains("duplicate").sum() == 1
    core_whole = run(universe, targets, customers, lots, frames=False)
    core_parts = run(universe, targets, customers, lots, frames=False,
                     settings=DEFAULT_SETTINGS.with_(chunk_size=4))
    np.testing.assert_array_equal(core_parts.pair_cust, core_whole.pair_cust)
    np.testing.assert_array_equal(core_parts.buy_gross, core_whole.buy_gross)
    np.testing.assert_array_equal(core_parts.reason, core_whole.reason)
