"""Small numpy helpers over a (dates × funds) return matrix with NaN where a fund has no observation.

Every fund's window is its own valid span: NaN rows (before inception, foreign holidays, gaps) are
skipped, never treated as zero returns in a statistic. Levels are carried flat over NaN rows so that
drawdowns and benchmark alignment can index them by row.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from products.errors import BadInputError

TRADING_DAYS = 252
MONTHS = 12
ZERO_RISK = 1e-12  # annualized risk at or below this is rounding noise on a constant series


def daily_risk_free(risk_free: float) -> float:
    """Daily rate that compounds to the annual `risk_free` over 252 trading days: (1 + rf)^(1/252) − 1."""
    if not np.isfinite(risk_free) or risk_free <= -1:
        raise BadInputError("risk_free must be an annual rate above -100%", details={"risk_free": risk_free})
    return float((1.0 + risk_free) ** (1.0 / TRADING_DAYS) - 1.0)


def as_return_matrix(returns: pd.DataFrame) -> np.ndarray:
    """Float64 copy of `returns`; non-finite cells become NaN; a return ≤ −100% is rejected."""
    if not isinstance(returns, pd.DataFrame):
        raise BadInputError("returns must be a DataFrame (dates × funds)")
    if not isinstance(returns.index, pd.DatetimeIndex):
        raise BadInputError("returns must have a DatetimeIndex")
    values = returns.to_numpy(dtype=float, na_value=np.nan, copy=True)
    values[~np.isfinite(values)] = np.nan
    bad = values <= -1.0
    if bad.any():
        row, col = np.argwhere(bad)[0]
        raise BadInputError("a daily return is -100% or lower", details={
            "fund": str(returns.columns[col]), "date": str(returns.index[row].date()),
            "value": float(values[row, col])})
    return values


def slice_window(frame: pd.DataFrame, start: object = None, end: object = None) -> pd.DataFrame:
    """Rows with `start` ≤ date ≤ `end` (either may be None); a start after the end is an error."""
    lo, hi = _as_date(start, "start"), _as_date(end, "end")
    if lo is not None and hi is not None and lo > hi:
        raise BadInputError("start is after end", details={"start": str(lo.date()), "end": str(hi.date())})
    if not frame.index.is_monotonic_increasing:
        frame = frame.sort_index()
    return frame.loc[lo:hi]


def _as_date(value: object, name: str) -> pd.Timestamp | None:
    if value is None:
        return None
    try:
        stamp = pd.Timestamp(value)
    except (ValueError, TypeError):
        stamp = pd.NaT
    if pd.isna(stamp):
        raise BadInputError(f"{name} is not a date: {value!r}", details={name: str(value)})
    return stamp


def level(values: np.ndarray) -> np.ndarray:
    """Growth of 1 from the first row, flat over NaN rows (1 before a fund's first observation)."""
    return np.cumprod(1.0 + np.nan_to_num(values, nan=0.0), axis=0)


def first_valid_row(valid: np.ndarray) -> np.ndarray:
    """Row of each column's first True (the row count where a column has none)."""
    if valid.shape[0] == 0:
        return np.zeros(valid.shape[1], dtype=np.intp)
    any_valid = valid.any(axis=0)
    return np.where(any_valid, valid.argmax(axis=0), valid.shape[0])


def last_valid_row(valid: np.ndarray) -> np.ndarray:
    """Row of each column's last True (−1 where a column has none)."""
    n_rows = valid.shape[0]
    if n_rows == 0:
        return np.full(valid.shape[1], -1, dtype=np.intp)
    any_valid = valid.any(axis=0)
    return np.where(any_valid, n_rows - 1 - valid[::-1].argmax(axis=0), -1)


def previous_valid_row(valid: np.ndarray) -> np.ndarray:
    """For every cell, the row of the same column's previous True strictly above it (−1 if none)."""
    n_rows = valid.shape[0]
    rows = np.where(valid, np.arange(n_rows, dtype=np.int32)[:, None], np.int32(-1))
    last_seen = np.maximum.accumulate(rows, axis=0)
    prev = np.full_like(last_seen, -1)
    prev[1:] = last_seen[:-1]
    return prev


def dates_at(index: pd.DatetimeIndex, rows: np.ndarray, ok: np.ndarray) -> np.ndarray:
    """Dates of `rows` as datetime64[ns], NaT where `ok` is False."""
    values = index.to_numpy(dtype="datetime64[ns]")
    safe = np.clip(rows, 0, max(len(values) - 1, 0))
    out = values[safe] if len(values) else np.full(len(rows), np.datetime64("NaT"), dtype="datetime64[ns]")
    return np.where(ok, out, np.datetime64("NaT"))


def safe_divide(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """num / den, NaN where the denominator is zero or not finite."""
    num = np.asarray(num, dtype=float)
    den = np.asarray(den, dtype=float)
    ok = np.isfinite(den) & (den != 0)
    return np.divide(num, den, out=np.full(np.broadcast(num, den).shape, np.nan), where=ok)


def safe_ratio(num: np.ndarray, risk: np.ndarray) -> np.ndarray:
    """num / risk for a risk measure (volatility, downside, tracking error); NaN where it is numerically
    zero (≤ `ZERO_RISK`), so a constant series has no Sharpe instead of a ±1e16 one from rounding."""
    risk = np.asarray(risk, dtype=float)
    return safe_divide(num, np.where(risk > ZERO_RISK, risk, 0.0))


def annualized_growth(growth: np.ndarray, n_obs: np.ndarray, periods_per_year: int) -> np.ndarray:
    """CAGR: growth^(periods_per_year / n_obs) − 1; NaN with no observation."""
    growth = np.asarray(growth, dtype=float)
    n_obs = np.asarray(n_obs, dtype=float)
    ok = n_obs > 0
    exponent = np.divide(periods_per_year, n_obs, out=np.zeros_like(n_obs), where=ok)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        out = np.power(growth, exponent) - 1.0
    return np.where(ok, out, np.nan)


def month_blocks(index: pd.DatetimeIndex) -> tuple[np.ndarray, pd.DatetimeIndex]:
    """Start row of each calendar month in a sorted index, and each month's period-end label."""
    if len(index) == 0:
        return np.zeros(0, dtype=np.intp), pd.DatetimeIndex([])
    key = index.year.to_numpy() * 12 + index.month.to_numpy()
    starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
    labels = index[starts].to_period("M").to_timestamp(how="end").normalize()
    return starts, pd.DatetimeIndex(labels)
