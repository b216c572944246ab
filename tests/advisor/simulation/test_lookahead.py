"""No look-ahead: a decision at date t is the same when every row of data after t is deleted."""

from __future__ import annotations

import numpy as np
import pandas as pd

from advisor.simulation.config import SimulationConfig
from advisor.simulation.pointintime import truncated
from advisor.simulation.research import ResearchRequest, compute_research
from advisor.simulation.simulator import simulate

CONFIG = SimulationConfig(buy_and_hold=False)


def test_research_at_t_ignores_later_data(demo_universe):
    day = pd.Timestamp("2024-06-03")
    request = ResearchRequest(groups=((2, 0.5, False), (5, 5.0, False)), proposals=((4, 2.0, False, 50_000.0),))
    full = compute_research(demo_universe, day, request, CONFIG)
    cut = compute_research(truncated(demo_universe, day), day, request, CONFIG)
    assert full.universe_version == cut.universe_version
    assert full.targets == cut.targets and full.proposals == cut.proposals
    assert full.model_weights == cut.model_weights


def test_simulation_to_t_ignores_later_data(demo_universe):
    customers = pd.DataFrame([
        {"customer_id": "a", "level": "C5", "horizon_years": 5.0, "start": "2024-03-01", "amount": 80_000.0},
        {"customer_id": "b", "level": "C3", "horizon_years": 0.5, "start": "2024-04-01", "amount": 30_000.0,
         "monthly": 1_000.0},
    ])
    end = "2024-07-19"
    full = simulate(demo_universe, customers, config=CONFIG, end=end)
    cut = simulate(truncated(demo_universe, end), customers, config=CONFIG)
    assert full.dates.equals(cut.dates)
    np.testing.assert_array_equal(full.values, cut.values)
    # the orders decided on the last evening (to fill the next day) are the same too
    def pending(result, universe):
        orders = [o for o in result.extras["pending"].values() if len(o)]
        if not orders:
            return []
        o = orders[0]
        return sorted(zip(o.cust.tolist(), universe.codes[o.fund].tolist(), np.round(o.sell_value, 6).tolist(),
                          np.round(o.buy_gross, 6).tolist(), strict=True))
    assert pending(full, demo_universe) == pending(cut, truncated(demo_universe, end))
