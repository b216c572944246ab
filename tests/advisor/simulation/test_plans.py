"""Customers on a plan of their own (定投) in the simulated book: they never touch the policy customers."""

from __future__ import annotations

import numpy as np
import pandas as pd

from advisor.simulation.config import SimulationConfig
from advisor.simulation.plans import PlanRules, buy_orders
from advisor.simulation.simulator import simulate

CONFIG = SimulationConfig(buy_and_hold=False)
END = "2024-07-31"


def test_plan_customers_leave_the_policy_customers_unchanged(demo_universe):
    policy = pd.DataFrame([
        {"customer_id": "a", "level": "C4", "horizon_years": 5.0, "start": "2024-03-01", "amount": 50_000.0},
        {"customer_id": "b", "level": "C2", "horizon_years": 0.5, "start": "2024-04-01", "amount": 20_000.0,
         "monthly": 1_000.0},
    ])
    code = str(demo_universe.funds.index[(demo_universe.funds["status"] == "open").to_numpy()][5])
    fund = demo_universe.code_index[code]

    def invest(evening):  # everything into one fund, at the evening's close
        cash = np.floor(evening.cash * 100) / 100
        return buy_orders(evening.cust, np.full(len(cash), fund), cash, evening.prices[:, fund], evening.fees,
                          evening.discount)

    with_plan = pd.concat([policy, pd.DataFrame([{"customer_id": "p", "level": "C3", "horizon_years": 5.0,
                                                  "start": "2024-03-04", "amount": 1_000.0, "monthly": 1_000.0}])])
    rules = PlanRules(customer_ids=["p"], invest=invest, target_return=np.array([np.nan]),
                      take_profit=np.array([False]))
    alone = simulate(demo_universe, policy, config=CONFIG, end=END)
    both = simulate(demo_universe, with_plan, config=CONFIG, end=END, plans=rules)
    np.testing.assert_allclose(both.values[:2], alone.values, rtol=0, atol=1e-9, equal_nan=True)
    # the plan bought only its fund, at each debit day's NAV, and kept its cash whole
    log = pd.DataFrame({k: np.concatenate([part[k] for part in both.extras["book"].log]) for k in ("cust", "fund")})
    assert set(log.loc[log["cust"] == 2, "fund"]) == {fund}
    assert both.cash_check < 1e-6
    assert both.ledger.deposits[2] == 1_000.0 * 5  # March to July
