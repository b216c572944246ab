"""Fund analytics, vectorized across funds: returns, risk, drawdowns, benchmark-relative and rolling.

Public entry points:

* `compute_metrics(returns, benchmark_returns=None, *, risk_free=0.0, start=None, end=None)` – one row
  of metrics per fund (definitions in `products.analytics.metrics`).
* `max_drawdown(returns)`, `drawdown_series(returns)`, `total_return_index(returns)`.
* `rolling_metrics(returns, window_years, ...)` – rolling 1y / 3y / 5y annual return, volatility,
  Sharpe and max drawdown (`products.analytics.rolling`).
* `fund_benchmark_returns(universe)` – each fund's benchmark daily returns (`products.benchmark`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from products.analytics.drawdown import drawdown_series, max_drawdown
from products.analytics.metrics import (
    BENCHMARK_COLUMNS,
    METRIC_COLUMNS,
    SPARSE_OBS_PER_YEAR,
    compute_metrics,
    pair_benchmark,
    total_return_index,
)
from products.analytics.rolling import ROLLING_METRICS, RollingMetrics, rolling_metrics

if TYPE_CHECKING:
    import pandas as pd

    from products.universe import Universe

__all__ = [
    "BENCHMARK_COLUMNS",
    "METRIC_COLUMNS",
    "ROLLING_METRICS",
    "SPARSE_OBS_PER_YEAR",
    "RollingMetrics",
    "compute_metrics",
    "drawdown_series",
    "fund_benchmark_returns",
    "max_drawdown",
    "pair_benchmark",
    "rolling_metrics",
    "total_return_index",
]


def fund_benchmark_returns(universe: Universe) -> pd.DataFrame:
    """Each fund's benchmark daily returns aligned to `universe.returns` (see `products.benchmark`)."""
    from products.benchmark import fund_benchmark_returns as build

    return build(universe)
