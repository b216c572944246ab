"""A small simulation on the demo universe, shared by the simulation tests (run once per session)."""

from __future__ import annotations

import pandas as pd
import pytest

from advisor.simulation.config import SimulationConfig
from advisor.simulation.simulator import simulate

END = "2024-07-31"


@pytest.fixture(scope="session")
def demo_book() -> pd.DataFrame:
    """C2, C4 and C5 customers over two start months, plus a 定投 saver who starts with nothing."""
    rows = []
    for start in ("2024-02-01", "2024-03-01"):
        for level in (2, 4, 5):
            for years in (0.5, 5.0):
                rows.append({"customer_id": f"C{level}-{years:g}-{start[:7]}", "level": f"C{level}",
                             "horizon_years": years, "start": start, "amount": 100_000.0})
    rows.append({"customer_id": "sip", "level": "C3", "horizon_years": 3.0, "start": "2024-02-01", "amount": 0.0,
                 "monthly": 2_000.0})
    return pd.DataFrame(rows)


@pytest.fixture(scope="session")
def demo_flows() -> pd.DataFrame:
    """A withdrawal and a top-up (dates after the customers' first purchases)."""
    return pd.DataFrame([
        {"customer_id": "C4-5-2024-02", "date": "2024-05-06", "amount": -30_000.0},
        {"customer_id": "C2-0.5-2024-02", "date": "2024-04-08", "amount": 20_000.0},
    ])


@pytest.fixture(scope="session")
def demo_sim(demo_universe, demo_book, demo_flows):
    return simulate(demo_universe, demo_book, flows=demo_flows, config=SimulationConfig(), end=END)
