"""Rolling 1y / 3y / 5y metrics for every fund, vectorized over funds and window ends.

A window of `window_years` covers the last ``round(252 × window_years)`` rows of the returns' date
index up to and including its end row. Inside a window the definitions are exactly those of
`compute_metrics` on that window (so the last rolling value equals `compute_metrics(start=…)` for
the same rows): CAGR over the fund's own observations, sample volatility, arithmetic Sharpe and the
max drawdown from the level at the window's start. A fund gets a value only for windows that start
on or after its first observation and where it has observations on at least `min_coverage` of the
rows (weekly stretches and funds younger than the window give NaN).

Sums, counts and log growth come from cumulative sums (O(dates × funds)); the drawdown combines
doubling blocks of drawdown summaries (O(dates × funds × log window)).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from products.analytics._matrix import (
    TRADING_DAYS,
    as_return_matrix,
    daily_risk_free,
    first_valid_row,
    level,
    safe_divide,
    safe_ratio,
)
from products.errors import BadInputError

ROLLING_METRICS = ("annual_return", "annual_volatility", "sharpe", "max_drawdown")


@dataclass(frozen=True)
class RollingMetrics:
    """Rolling metrics: each frame is (window end dates × funds)."""

    window_years: float
    window_rows: int
    annual_return: pd.DataFrame
    annual_volatility: pd.DataFrame
    sharpe: pd.DataFrame
    max_drawdown: pd.DataFrame

    def frame(self, metric: str) -> pd.DataFrame:
        if metric not in ROLLING_METRICS:
            raise BadInputError(f"unknown rolling metric {metric!r}",
                                details={"allowed": list(ROLLING_METRICS)})
        return getattr(self, metric)

    def summary(self) -> pd.DataFrame:
        """Per fund: latest value of each metric, and the distribution of the rolling annual return."""
        ret = self.annual_return
        latest = {f"latest_{m}": _last_valid(self.frame(m)) for m in ROLLING_METRICS}
        count = ret.notna().sum()
        out = pd.DataFrame({
            **latest,
            "min_annual_return": ret.min(),
            "median_annual_return": ret.median(),
            "max_annual_return": ret.max(),
            "share_positive": safe_divide((ret > 0).sum().to_numpy(), count.to_numpy()),
            "worst_max_drawdown": self.max_drawdown.min(),
            "n_windows": count.astype(np.int64),
        }, index=ret.columns)
        out.index.name = "code"
        return out


def _last_valid(frame: pd.DataFrame) -> pd.Series:
    values = frame.to_numpy(dtype=float)
    if len(values) == 0:
        return pd.Series(np.nan, index=frame.columns)
    ok = ~np.isnan(values)
    rows = np.where(ok.any(axis=0), len(values) - 1 - ok[::-1].argmax(axis=0), -1)
    picked = values[np.clip(rows, 0, None), np.arange(values.shape[1])]
    return pd.Series(np.where(rows >= 0, picked, np.nan), index=frame.columns)


def rolling_metrics(returns: pd.DataFrame, window_years: float, *, risk_free: float = 0.0, step: int = 1,
                    min_coverage: float = 0.8, drawdown: bool = True) -> RollingMetrics:
    """Rolling annual return, volatility, Sharpe and max drawdown over `window_years` windows.

    `step` keeps every step-th window end counted back from the last row (1 = every day). With
    `drawdown=False` the drawdown frame is left NaN (it is the only costly part).
    """
    if not window_years > 0:
        raise BadInputError("window_years must be positive", details={"window_years": window_years})
    if step < 1:
        raise BadInputError("step must be ≥ 1", details={"step": step})
    if not 0 < min_coverage <= 1:
        raise BadInputError("min_coverage must be in (0, 1]", details={"min_coverage": min_coverage})
    values = as_return_matrix(returns)
    rf_daily = daily_risk_free(risk_free)
    n_rows, n_cols = values.shape
    w = round(TRADING_DAYS * window_years)
    ends = np.arange(n_rows - 1, w - 2, -step)[::-1]  # window end rows with a full window of rows
    index = pd.DatetimeIndex(returns.index[ends]) if len(ends) else pd.DatetimeIndex([])

    valid = ~np.isnan(values)
    zeroed = np.where(valid, values, 0.0)
    cum_n = _cumsum0(valid.astype(np.int64))
    cum_s = _cumsum0(zeroed)
    cum_s2 = _cumsum0(zeroed * zeroed)
    cum_log = _cumsum0(np.log1p(zeroed))
    lo, hi = ends - w + 1, ends + 1  # rows [lo, hi) of the window
    n = (cum_n[hi] - cum_n[lo]).astype(float)
    s = cum_s[hi] - cum_s[lo]
    s2 = cum_s2[hi] - cum_s2[lo]
    growth = np.exp(cum_log[hi] - cum_log[lo])

    ok = (first_valid_row(valid)[None, :] <= lo[:, None]) & (n >= min_coverage * w) & (n >= 2)
    mean = safe_divide(s, n)
    variance = np.maximum(safe_divide(s2 - s * mean, n - 1), 0.0)
    vol = np.sqrt(variance * TRADING_DAYS)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        cagr = np.power(growth, safe_divide(np.full_like(n, TRADING_DAYS), n)) - 1.0
    sharpe = safe_ratio((mean - rf_daily) * TRADING_DAYS, vol)
    mdd = _rolling_drawdown(values, ends, w) if drawdown else np.full((len(ends), n_cols), np.nan)

    def frame(a: np.ndarray) -> pd.DataFrame:
        return pd.DataFrame(np.where(ok, a, np.nan), index=index, columns=returns.columns)

    return RollingMetrics(window_years=window_years, window_rows=w, annual_return=frame(cagr),
                          annual_volatility=frame(vol), sharpe=frame(sharpe), max_drawdown=frame(mdd))


def _cumsum0(a: np.ndarray) -> np.ndarray:
    """Cumulative sum along rows with a leading row of zeros (so sum of rows [i, j) = c[j] − c[i])."""
    out = np.zeros((a.shape[0] + 1, *a.shape[1:]), dtype=a.dtype)
    np.cumsum(a, axis=0, out=out[1:])
    return out


def _rolling_drawdown(values: np.ndarray, ends: np.ndarray, w: int) -> np.ndarray:
    """Max drawdown of each window [end − w + 1, end], from the level just before the window.

    Drawdown summaries combine associatively: for consecutive stretches A then B,
    ``mdd(A+B) = min(mdd(A), mdd(B), min(B) / max(A) − 1)``. Summaries of stretches of 2^k level
    points are built by doubling (k = 0, 1, …), and each window's w + 1 points are assembled from the
    blocks of the binary digits of w + 1, left to right: O(dates × funds × log w) instead of
    O(dates × funds × w), with the same divisions (hence the same numbers) as a direct scan.
    """
    n_cols = values.shape[1]
    if len(ends) == 0:
        return np.full((0, n_cols), np.nan)
    points = np.vstack([np.ones((1, n_cols)), level(values)])  # points[i] = level after row i − 1
    length = w + 1
    starts = ends - w + 1  # first point of each window
    acc_max = acc_min = acc_mdd = None
    consumed = 0
    blk_max, blk_min = points, points
    blk_mdd = np.zeros_like(points)
    k = 0
    while True:
        size = 1 << k
        if length & size:
            at = starts + consumed
            b_max, b_min, b_mdd = blk_max[at], blk_min[at], blk_mdd[at]
            if acc_max is None:
                acc_max, acc_min, acc_mdd = b_max, b_min, b_mdd
            else:
                acc_mdd = np.minimum(np.minimum(acc_mdd, b_mdd), b_min / acc_max - 1.0)
                acc_max = np.maximum(acc_max, b_max)
                acc_min = np.minimum(acc_min, b_min)
            consumed += size
        if (size << 1) > length:
            break
        # blocks of 2 * size points: the first half at i, the second half at i + size
        head = slice(0, len(blk_max) - size)
        tail = slice(size, len(blk_max))
        blk_mdd = np.minimum(np.minimum(blk_mdd[head], blk_mdd[tail]), blk_min[tail] / blk_max[head] - 1.0)
        blk_max = np.maximum(blk_max[head], blk_max[tail])
        blk_min = np.minimum(blk_min[head], blk_min[tail])
        k += 1
    return acc_mdd
