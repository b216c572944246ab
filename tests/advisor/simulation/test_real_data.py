"""The simulator on the real fund data: every level, one year, checked as an analyst would by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from advisor.simulation.config import SimulationConfig
from advisor.simulation.metrics import customer_table, group_table
from advisor.simulation.simulator import simulate

pytestmark = pytest.mark.realdata


@pytest.fixture(scope="module")
def real_sim(real_universe):
    rows = [{"customer_id": f"C{lv}-{s[:7]}", "level": lv, "horizon_years": 2.0, "start": s, "amount": 100_000.0}
            for lv in range(1, 6) for s in ("2021-02-01", "2021-03-01")]
    return simulate(real_universe, pd.DataFrame(rows), config=SimulationConfig(), end="2021-12-31")


def test_every_holding_suits_its_customer_and_had_history(real_universe, real_sim):
    book = real_sim.extras["book"]
    risk = real_universe.funds["risk_level"].to_numpy()
    level = real_sim.customers["level"].to_numpy()
    assert (risk[book.lot_fund] <= level[book.lot_cust]).all()
    history = real_universe.returns.notna().cumsum().to_numpy()
    assert (history[book.lot_row - 1, book.lot_fund] >= 300).all()  # bought with > 300 days known the evening before


def test_books_balance_and_levels_order_risk(real_sim):
    assert real_sim.cash_check < 1e-6
    table = customer_table(real_sim)
    assert table["annual_return"].notna().all() and (table["fees"] > 0).sum() >= 10
    groups = group_table(real_sim, table)
    policy = groups[groups["kind"] == "policy"].sort_values("level")
    vols = policy["annual_volatility"].to_numpy()
    assert vols[0] < vols[2] < vols[4]  # C1 < C3 < C5 out of sample
    research = real_sim.research
    assert all(pd.Timestamp(r["date"]) <= pd.Timestamp("2021-12-31") for r in research)
    assert np.isfinite(real_sim.values[:, -1]).all()
