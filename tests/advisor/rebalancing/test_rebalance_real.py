"""On the real universe (509 funds, shelf fees) with the proposals engine's targets: what an analyst checks."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from advisor.rebalancing import rebalance_batch
from advisor.rebalancing.batch import default_targets


@pytest.fixture(scope="module")
def real_book(real_universe):
    u = real_universe
    rng = np.random.default_rng(3)
    provider = default_targets(u)
    customers, lots = [], []
    as_of = np.datetime64(u.as_of, "D")
    for i in range(30):
        level = int(rng.integers(1, 6))
        target = provider(level, 3.0, False)
        cid = f"r{i}"
        customers.append({"customer_id": cid, "risk_level": level, "horizon_years": 3.0,
                          "cash_flow": float(rng.choice([0.0, 10_000.0]))})
        wealth = float(rng.uniform(20_000, 500_000))
        for code, w in target.items():
            lots.append((cid, code, w * wealth * float(np.exp(rng.normal(0, 0.2))), int(rng.integers(3, 900))))
        lots.append((cid, str(rng.choice(u.codes)), wealth * 0.1, int(rng.integers(3, 900))))
    frame = pd.DataFrame(lots, columns=["customer_id", "code", "value", "holding_days"])
    frame["fund_idx"] = u.index_of(frame["code"].to_numpy())
    frame["purchase_date"] = as_of - frame["holding_days"].to_numpy().astype("timedelta64[D]")
    return pd.DataFrame(customers), frame


def test_real_universe_rebalance_is_suitable_priced_and_balanced(real_universe, real_book) -> None:
    u = real_universe
    customers, lots = real_book
    result = rebalance_batch(u, customers, lots, as_of=u.as_of)
    trades, summary = result.trades, result.summary.set_index("customer_id")
    assert result.rejects.empty and len(summary) == 30
    assert (summary["status"] == "trade").sum() >= 10
    level = summary["risk_level"]
    buys = trades[trades["action"].isin(["buy", "switch_in"])]
    assert (buys["fund_risk_level"].to_numpy() <= level.loc[buys["customer_id"].astype(str)].to_numpy()).all()
    # every purchase is a fund of the customer's model (or its same-class replacement): open and at or under level
    assert u.funds.loc[buys["code"].astype(str), "status"].isin(["open", "limited"]).all()
    # fees an analyst can recompute: sales pay each lot's own rate, never more than 1.5% unless under 7 days
    sales = trades[trades["action"].isin(["sell", "switch_out"])]
    rate = sales["fee"] / sales["amount"]
    assert (rate[sales["min_holding_days"] >= 7] <= 0.015 + 1e-9).all()
    # traded customers end closer to their model than they started
    traded = summary[summary["status"] == "trade"]
    assert (traded["drift_after"] <= traded["drift_before"] + 1e-9).mean() >= 0.9
    assert (summary["cash_remainder"] >= 0).all()
