"""Maximum drawdown with its peak, trough and recovery dates, for every fund at once.

Convention (same as empyrical): the level starts at 1 *before* the first return of the window, so a
loss on the first day is a drawdown from the starting value. The drawdown on a day is
``level / running_max(level) − 1`` (≤ 0); the maximum drawdown is its minimum, a negative fraction
(0 for a series that never fell). Dates:

* ``trough_date`` – the first day the minimum is reached;
* ``peak_date`` – the day the running maximum in force at the trough was set (the window's first
  observation when that maximum is the starting value);
* ``recovery_date`` – the first day after the trough on which the level is back at or above that
  peak (NaT if not yet recovered);
* ``recovery_days`` – calendar days from the trough to the recovery (修复天数; NaN if not recovered).

NaN rows are skipped: the level is carried flat over them, so every date reported is a day on which
the fund had an observation.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from products.analytics._matrix import as_return_matrix, dates_at, first_valid_row, level


def drawdown_table(values: np.ndarray, index: pd.DatetimeIndex) -> dict[str, np.ndarray]:
    """Max drawdown and its dates for each column of a (dates × funds) return array (NaN = no obs)."""
    n_rows, n_cols = values.shape
    valid = ~np.isnan(values)
    has_obs = valid.any(axis=0)
    if n_rows == 0:
        nat = np.full(n_cols, np.datetime64("NaT"), dtype="datetime64[ns]")
        nan = np.full(n_cols, np.nan)
        return {"max_drawdown": nan, "peak_date": nat, "trough_date": nat, "recovery_date": nat,
                "recovery_days": nan.copy()}
    lv = level(values)
    running_max = np.maximum(np.maximum.accumulate(lv, axis=0), 1.0)
    drawdown = lv / running_max - 1.0
    trough = drawdown.argmin(axis=0)
    cols = np.arange(n_cols)
    mdd = drawdown[trough, cols]
    fell = has_obs & (mdd < 0)

    peak_value = running_max[trough, cols]
    first = first_valid_row(valid)
    peak = np.maximum((running_max >= peak_value).argmax(axis=0), first)

    after_trough = np.arange(n_rows)[:, None] > trough[None, :]
    recovered_mask = after_trough & (lv >= peak_value[None, :]) & valid
    recovered = fell & recovered_mask.any(axis=0)
    recovery = recovered_mask.argmax(axis=0)

    trough_dates = dates_at(index, trough, fell)
    recovery_dates = dates_at(index, recovery, recovered)
    recovery_days = (recovery_dates - trough_dates).astype("timedelta64[D]").astype(float)
    recovery_days[~recovered] = np.nan
    return {
        "max_drawdown": np.where(has_obs, mdd, np.nan),
        "peak_date": dates_at(index, peak, fell),
        "trough_date": trough_dates,
        "recovery_date": recovery_dates,
        "recovery_days": recovery_days,
    }


def max_drawdown(returns: pd.DataFrame | pd.Series) -> pd.Series | float:
    """Maximum drawdown (negative fraction) of each column of daily `returns` (NaN rows skipped).

    A Series gives a float; a DataFrame gives a Series indexed by its columns.
    """
    if isinstance(returns, pd.Series):
        return float(max_drawdown(returns.to_frame()).iloc[0])
    values = as_return_matrix(returns)
    table = drawdown_table(values, pd.DatetimeIndex(returns.index))
    return pd.Series(table["max_drawdown"], index=returns.columns, name="max_drawdown")


def drawdown_series(returns: pd.DataFrame) -> pd.DataFrame:
    """Daily drawdown (≤ 0) of each fund from its running peak; NaN before its first observation."""
    values = as_return_matrix(returns)
    lv = level(values)
    running_max = np.maximum(np.maximum.accumulate(lv, axis=0), 1.0)
    out = lv / running_max - 1.0
    started = np.maximum.accumulate(~np.isnan(values), axis=0)
    return pd.DataFrame(np.where(started, out, np.nan), index=returns.index, columns=returns.columns)
