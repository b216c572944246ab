"""Value and drawdown curves of a fund mix, for the charts (growth of ¥1, daily drawdown, summary).

A mix is held at constant weights, rebalanced daily — the definition and window of the proposal's
backtest (`advisor.proposal.historical_backtest`) — over the funds' common history, at most `years` back
from the universe's last date; a fund's missing day counts as a flat day. The summary numbers come
from `products.analytics.compute_metrics` on the mix's daily returns, so a chart and a table never differ.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from products.analytics import compute_metrics, drawdown_series, total_return_index
from products.universe import Universe

MIN_DAYS = 366  # past performance is shown only over more than one year


@dataclass(frozen=True)
class Curve:
    """A mix's growth of ¥1 and drawdown by day, and its annual return, volatility and max drawdown."""

    dates: pd.DatetimeIndex
    growth: np.ndarray
    drawdown: np.ndarray
    annual_return: float
    annual_volatility: float
    max_drawdown: float

    @property
    def start(self) -> str:
        return self.dates[0].date().isoformat()

    @property
    def end(self) -> str:
        return self.dates[-1].date().isoformat()


def _weights(universe: Universe, weights: pd.Series) -> pd.Series | None:
    w = weights[weights > 0].groupby(level=0).sum()
    w = w[w.index.isin(universe.returns.columns)]
    return None if w.empty or w.sum() <= 0 else w / w.sum()


def common_start(universe: Universe, mixes: dict[str, pd.Series], years: float = 3.0) -> pd.Timestamp | None:
    """The first day every fund of every mix has a NAV, at most `years` before the universe's last date."""
    codes = sorted({c for w in mixes.values() if (v := _weights(universe, w)) is not None for c in v.index})
    if not codes:
        return None
    returns = universe.returns[codes]
    end = returns.index[-1]
    first = returns.apply(pd.Series.first_valid_index).max()
    window = returns.index[returns.index > end - pd.DateOffset(days=int(365.25 * years))]
    return max(first, window[0]) if len(window) else None


def curves(universe: Universe, mixes: dict[str, pd.Series], years: float = 3.0) -> dict[str, Curve] | None:
    """The curves of several mixes over one shared window (None when it is a year or shorter)."""
    start = common_start(universe, mixes, years)
    if start is None:
        return None
    out = {}
    for label, weights in mixes.items():
        w = _weights(universe, weights)
        if w is None:
            return None
        window = universe.returns.loc[start:, list(w.index)]
        if len(window) < 2 or (window.index[-1] - window.index[0]).days < MIN_DAYS:
            return None
        frame = pd.DataFrame({"mix": window.fillna(0.0).to_numpy() @ w.to_numpy()}, index=window.index)
        metrics = compute_metrics(frame).iloc[0]
        out[label] = Curve(dates=pd.DatetimeIndex(frame.index), growth=total_return_index(frame)["mix"].to_numpy(),
                           drawdown=drawdown_series(frame)["mix"].to_numpy(),
                           annual_return=float(metrics["annual_return"]),
                           annual_volatility=float(metrics["annual_volatility"]),
                           max_drawdown=float(metrics["max_drawdown"]))
    return out
