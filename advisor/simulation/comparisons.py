"""What the policy's record is compared with.

* **Buy-and-hold** of the first proposal: the simulator's twins (same purchase, never rebalanced).
* **A passive mix of real ETFs** with the model portfolio's class weights: cash → the money-market
  series, bond → 511260 (10-year treasury ETF), Chinese equity → 510300 (CSI 300), global equity →
  513500 (S&P 500), gold → 518880 (the style series in `universe.benchmarks`, mapped as the capital
  market assumptions map them). Weights are the point-in-time model of each research date; the mix is
  rebalanced to them on each research date, without trading costs (ETF commissions are a few basis
  points). It exists only from the first day every ETF with a weight has a price.
* **The in-sample figure shown today**: the constant-weight backtest of today's proposal over the
  window its funds were chosen on (`advisor.proposal.in_sample_backtest`), which proposals showed
  before this record existed.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from advisor.assumptions import BENCHMARK_OF_CLASS, CLASSES
from advisor.model_portfolios import horizon_bucket
from advisor.simulation.simulator import SimulationResult
from products.analytics import compute_metrics
from products.universe import Universe


def etf_returns(universe: Universe, dates: pd.DatetimeIndex) -> pd.DataFrame:
    """Daily returns of each class's ETF on the simulation's days (NaN before the ETF has a price)."""
    bench = universe.benchmarks
    out = {}
    for cls in CLASSES:
        name = BENCHMARK_OF_CLASS[cls]
        if bench.empty or name not in bench.columns:
            out[cls] = pd.Series(np.nan, index=dates)
            continue
        level = bench[name].astype(float).dropna()
        level = level[level > 0]
        aligned = level.reindex(level.index.union(dates)).ffill().reindex(dates)
        out[cls] = aligned.pct_change(fill_method=None)
    return pd.DataFrame(out, index=dates)


def passive_mix(result: SimulationResult, universe: Universe) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(daily returns, metrics) of the passive ETF mix per level × horizon of the simulated groups."""
    dates = result.dates
    etf = etf_returns(universe, dates).to_numpy()
    research_days = [pd.Timestamp(r["date"]) for r in result.research]
    research_rows = dates.searchsorted(research_days)
    groups = result.groups[result.groups["kind"] == "policy"]
    series = {}
    for _, grp in groups.iterrows():
        level, years = int(grp["level"]), float(grp["horizon_years"])
        key = f"C{level}/{horizon_bucket(years)}"
        weights_at = np.zeros((len(dates), len(CLASSES)))
        current = np.full(len(CLASSES), np.nan)
        pointer = 0
        for row in range(len(dates)):
            while pointer < len(research_rows) and research_rows[pointer] <= row:
                model = result.research[pointer]["models"].get(key)
                if model is not None:
                    current = np.array([model[c] for c in CLASSES])
                pointer += 1
            weights_at[row] = current
        series[(level, years)] = _rebalanced_path(etf, weights_at, research_rows)
    frame = pd.DataFrame(series, index=dates)
    frame.columns = [f"C{lv}/{y:g}" for lv, y in frame.columns]
    return frame, compute_metrics(frame)


def _rebalanced_path(etf: np.ndarray, weights_at: np.ndarray, reset_rows: np.ndarray) -> np.ndarray:
    """Daily returns of a mix reset to `weights_at` on `reset_rows` and drifting in between; NaN until
    every class with a weight has an ETF return."""
    n = etf.shape[0]
    out = np.full(n, np.nan)
    holding = None
    resets = set(int(r) for r in reset_rows)
    for row in range(1, n):
        target = weights_at[row - 1]
        if not np.all(np.isfinite(target)):
            continue
        needed = target > 0
        if holding is None or (row - 1) in resets:
            if not np.all(np.isfinite(etf[row, needed])):
                holding = None
                continue
            holding = target.copy()
        r = np.where(needed, etf[row], 0.0)
        if not np.all(np.isfinite(r)):
            r = np.nan_to_num(r)  # an ETF closed that day (foreign holiday): flat
        grown = holding * (1.0 + r)
        out[row] = grown.sum() / holding.sum() - 1.0
        holding = grown
    return out


def in_sample_today(universe: Universe, groups: pd.DataFrame, amount: float, config) -> pd.DataFrame:
    """Today's proposal per level × horizon and the in-sample backtest figure it showed."""
    from advisor.proposal import in_sample_backtest, propose
    from advisor.simulation.record import records_disabled

    rows: list[dict[str, Any]] = []
    with records_disabled():
        for _, grp in groups.iterrows():
            level, years = int(str(grp["level"]).removeprefix("C")), float(grp["horizon_years"])
            proposal = propose(universe, level, amount, years, config=config)
            shown = in_sample_backtest(universe, proposal, config=config) or {}
            rows.append({"level": f"C{level}", "horizon_years": years, "horizon": horizon_bucket(years),
                         "start": shown.get("start"), "end": shown.get("end"),
                         "annual_return": shown.get("annual_return"),
                         "annual_volatility": shown.get("annual_volatility"),
                         "max_drawdown": shown.get("max_drawdown"),
                         "method": shown.get("method", "no backtest (under a year of common history)")})
    return pd.DataFrame(rows)
