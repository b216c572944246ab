"""On the real universe (512 funds, shelf fees) with the proposals engine's targets: what an analyst checks
by hand on a demo book (every customer of the generator's seed-1 book, not a hand-picked few)."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from advisor import demo_customers
from advisor.rebalancing import rebalance_book
from advisor.rebalancing.metrics import round_trip_value
from advisor.rebalancing.universe_facts import fund_facts

AS_OF = date(2026, 12, 4)


@pytest.fixture(scope="module")
def real_result(real_universe):
    customers, holdings = demo_customers.generate(real_universe, 400, seed=1, as_of=AS_OF)
    return rebalance_book(real_universe, customers.to_pandas(), holdings.to_pandas(), as_of=AS_OF)


def test_real_book_trades_are_suitable_sized_and_explained(real_universe, real_result) -> None:
    u, result = real_universe, real_result
    t, s = result.trades, result.summary.set_index("customer_id")
    assert result.rejects.empty and (s["status"] == "trade").sum() >= 100
    facts = fund_facts(u)
    buys = t[t["action"].isin(["buy", "switch_in"])]
    allowed = np.where(s["lowest_category"], 1, s["risk_level"])
    allowed = dict(zip(s.index, allowed, strict=True))
    # never above the level, never a weak fund by the quality rule, never a fund that is not open
    assert (buys["fund_risk_level"].to_numpy() <= buys["customer_id"].astype(str).map(allowed).to_numpy()).all()
    idx = u.index_of(buys["code"].astype(str).to_numpy())
    assert not facts.weak[idx].any()
    assert u.funds["status"].iloc[idx].isin(["open", "limited"]).all()
    # every weak holding sold is sold for its quality (or a stronger reason), and only when the plan trades
    sales = t[t["action"].isin(["sell", "switch_out"])]
    sold_weak = sales[facts.weak[u.index_of(sales["code"].astype(str).to_numpy())]]
    assert sold_weak["reason"].isin(["fund_quality", "above_level", "fund_event", "class_drift", "withdrawal"]).all()
    # fees an analyst can recompute: a sale pays between the lowest and highest rate of its fund's schedule
    rate = (sales["fee"] / sales["amount"]).to_numpy()
    cents = 0.006 / sales["amount"].to_numpy()  # fees are shown rounded to cents
    sidx = u.index_of(sales["code"].astype(str).to_numpy())
    assert (rate <= u.fees.red_rate[sidx].max(axis=1) + cents).all()
    assert (rate >= u.fees.red_rate[sidx].min(axis=1) - cents).all()
    assert (sales["min_holding_days"] >= 7).all()  # no withdrawals here: no young lot is sold
    # no purchase below the fund's minimum; nothing sold for class drift is bought back in its class
    plain = buys[buys["action"] == "buy"]
    minimum = u.funds.loc[plain["code"].astype(str), "min_purchase"].to_numpy()
    assert (plain["amount"].to_numpy() >= minimum - 0.01).all()
    drift_only = t[t["reason"].isin(["class_drift", "idle_cash", "withdrawal"])]
    assert round_trip_value(drift_only) <= 0.01 * max(sales["amount"].sum(), 1.0)
    # an expired assessment never trades
    assert not t["customer_id"].astype(str).isin(s.index[s["status"] == "assessment_expired"]).any()
    traded = s[s["reason"] == "trade"]
    assert (traded["drift_after"] < traded["drift_before"]).all()
