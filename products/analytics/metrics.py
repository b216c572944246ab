"""Performance and risk metrics for every fund at once (numpy over the whole dates × funds matrix).

Conventions (all documented here once; the tests check them against empyrical, fund by fund):

* Observations are each fund's own non-NaN daily returns inside the window; ``n_days`` counts them.
* ``annual_return`` – CAGR with 252 trading days a year: ``growth^(252 / n_days) − 1``. This assumes
  daily observations; ``obs_per_year`` (observations per calendar year of the span) flags sparse
  series (weekly stretches in early NAV histories, long suspensions): well below ~240 the
  annualized figures overstate, and `SPARSE_OBS_PER_YEAR` is the threshold used to warn.
* ``annual_volatility`` – sample standard deviation (ddof = 1) of daily returns × √252.
* ``rf_daily = (1 + risk_free)^(1/252) − 1`` (``risk_free`` is an annual rate, default 0).
* ``downside_deviation`` – ``√(mean(min(r − rf_daily, 0)²)) × √252`` (mean over all observations).
* ``sharpe`` – ``mean(r − rf_daily) × 252 / annual_volatility`` (arithmetic annualized excess return
  over annualized volatility; empyrical's ``sharpe_ratio(r, risk_free=rf_daily)``).
* ``sortino`` – ``mean(r − rf_daily) × 252 / downside_deviation``.
* ``calmar`` – ``annual_return / |max_drawdown|`` (NaN when the fund never fell).
* ``max_drawdown`` and its dates – see `products.analytics.drawdown`.

Against a benchmark (each fund's own benchmark series, a column of ``benchmark_returns``):

* Pairing: on every day the fund has a return, the benchmark return is compounded over the rows since
  the fund's previous observation (a QDII fund closed on a foreign holiday is compared with the
  benchmark's two-day move). A pair exists where that compounded return is defined; every
  benchmark-relative metric uses the pairs only (``n_pair_days``): where the benchmark covers only part
  of the window, the metrics are on the common span, which ``benchmark_start`` / ``benchmark_end``
  report (`products.analytics.report.data_warnings` warns when it is shorter than the fund's).
* ``excess_return`` – CAGR of the fund minus CAGR of the benchmark, both over the pairs.
* ``tracking_error`` – sample std (ddof = 1) of ``r − b`` × √252.
* ``information_ratio`` – ``mean(r − b) × 252 / tracking_error``.
* ``beta`` – ``cov(r, b) / var(b)``; ``alpha`` – annualized Jensen alpha as empyrical does it:
  ``(1 + mean((r − rf_daily) − beta·(b − rf_daily)))^252 − 1``.
* Monthly: calendar-month returns of fund and benchmark, compounded over the pairs in the month (the
  window's first and last months may be partial). ``monthly_win_rate`` – share of months with fund
  return > benchmark return. ``up_capture`` – over months with benchmark > 0, the fund's annualized
  geometric mean monthly return divided by the benchmark's (``(∏(1 + m))^(12 / k) − 1``, the
  Morningstar / empyrical ``up_capture(period='monthly')`` definition); ``down_capture`` the same over
  months with benchmark < 0.

A metric whose denominator is zero (no volatility, never fell, no down month) is NaN, not infinite;
risk measures at or below 1e-12 a year count as zero (rounding noise on a constant series).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from products.analytics._matrix import (
    MONTHS,
    TRADING_DAYS,
    annualized_growth,
    as_return_matrix,
    daily_risk_free,
    dates_at,
    first_valid_row,
    last_valid_row,
    month_blocks,
    previous_valid_row,
    safe_divide,
    safe_ratio,
    slice_window,
)
from products.analytics.drawdown import drawdown_table
from products.errors import BadInputError

METRIC_COLUMNS: tuple[str, ...] = (
    "annual_return", "annual_volatility", "downside_deviation", "max_drawdown", "peak_date", "trough_date",
    "recovery_date", "recovery_days", "sharpe", "sortino", "calmar", "excess_return", "tracking_error",
    "information_ratio", "beta", "alpha", "monthly_win_rate", "up_capture", "down_capture", "n_days",
    "start", "end", "total_return", "benchmark_annual_return", "n_pair_days", "n_months", "obs_per_year",
    "benchmark_start", "benchmark_end",
)
SPARSE_OBS_PER_YEAR = 200.0
BENCHMARK_COLUMNS: tuple[str, ...] = (
    "excess_return", "tracking_error", "information_ratio", "beta", "alpha", "monthly_win_rate",
    "up_capture", "down_capture", "benchmark_annual_return",
)


def compute_metrics(returns: pd.DataFrame, benchmark_returns: pd.DataFrame | None = None, *,
                    risk_free: float = 0.0, start: object = None, end: object = None) -> pd.DataFrame:
    """Metrics of every fund (column of `returns`) over [`start`, `end`], one row per fund.

    `returns`: daily total returns (fractions), DatetimeIndex × fund code, NaN where a fund has no
    observation. `benchmark_returns`: each fund's benchmark daily returns with the same columns (its
    index is aligned to `returns`'; missing cells are NaN); None leaves the benchmark columns NaN.
    `risk_free`: annual rate. Columns: `METRIC_COLUMNS` (see the module docstring for definitions).
    """
    window = slice_window(returns, start, end)
    values = as_return_matrix(window)
    index = pd.DatetimeIndex(window.index)
    out = _standalone(values, index, daily_risk_free(risk_free))
    if benchmark_returns is not None:
        bench = _aligned_benchmark(benchmark_returns, returns, window)
        out.update(_relative(values, bench, index, daily_risk_free(risk_free)))
    else:
        for name in BENCHMARK_COLUMNS:
            out[name] = np.full(values.shape[1], np.nan)
        out["n_pair_days"] = np.zeros(values.shape[1], dtype=np.int64)
        out["n_months"] = np.zeros(values.shape[1], dtype=np.int64)
        out["benchmark_start"] = out["benchmark_end"] = np.full(values.shape[1], np.datetime64("NaT"),
                                                                 dtype="datetime64[ns]")
    frame = pd.DataFrame({name: out[name] for name in METRIC_COLUMNS}, index=window.columns)
    frame.index.name = "code"
    return frame


def _standalone(values: np.ndarray, index: pd.DatetimeIndex, rf_daily: float) -> dict[str, np.ndarray]:
    valid = ~np.isnan(values)
    n = valid.sum(axis=0)
    zeroed = np.where(valid, values, 0.0)
    growth = np.prod(1.0 + zeroed, axis=0)
    mean = safe_divide(zeroed.sum(axis=0), n)
    centered = np.where(valid, values - mean, 0.0)
    variance = safe_divide((centered * centered).sum(axis=0), np.where(n >= 2, n - 1, 0))
    volatility = np.sqrt(variance * TRADING_DAYS)
    shortfall = np.minimum(np.where(valid, values - rf_daily, 0.0), 0.0)
    downside = np.sqrt(safe_divide((shortfall * shortfall).sum(axis=0), n) * TRADING_DAYS)
    excess_mean = (mean - rf_daily) * TRADING_DAYS
    annual_return = annualized_growth(growth, n, TRADING_DAYS)
    dd = drawdown_table(values, index)
    has_obs = n > 0
    start = dates_at(index, first_valid_row(valid), has_obs)
    end = dates_at(index, last_valid_row(valid), has_obs)
    return {
        "annual_return": annual_return,
        "annual_volatility": volatility,
        "downside_deviation": downside,
        **dd,
        "sharpe": safe_ratio(excess_mean, volatility),
        "sortino": safe_ratio(excess_mean, downside),
        "calmar": safe_divide(annual_return, np.abs(dd["max_drawdown"])),
        "n_days": n.astype(np.int64),
        "start": start,
        "end": end,
        "obs_per_year": _obs_per_year(n, start, end),
        "total_return": np.where(has_obs, growth - 1.0, np.nan),
    }


def _obs_per_year(n: np.ndarray, start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """Observations per calendar year between the first and last observation (NaN under 30 days)."""
    days = (end - start).astype("timedelta64[D]").astype(float)
    return np.where(days >= 30, safe_divide(n - 1, days / 365.25), np.nan)


def _aligned_benchmark(benchmark_returns: pd.DataFrame, returns: pd.DataFrame,
                       window: pd.DataFrame) -> np.ndarray:
    if not isinstance(benchmark_returns, pd.DataFrame):
        raise BadInputError("benchmark_returns must be a DataFrame with the same columns as returns")
    missing = [c for c in returns.columns if c not in benchmark_returns.columns]
    if missing:
        raise BadInputError("benchmark_returns lacks columns of returns", details={"missing": missing[:10]})
    bench = benchmark_returns.reindex(index=window.index, columns=window.columns)
    values = bench.to_numpy(dtype=float, na_value=np.nan, copy=True)
    values[~np.isfinite(values)] = np.nan
    return values


def pair_benchmark(fund: np.ndarray, bench: np.ndarray) -> np.ndarray:
    """The benchmark return to compare with each fund observation (NaN where there is none).

    On a fund's observation day t with previous observation p, the benchmark return is compounded
    over rows p+1 … t; it is NaN if any of those rows is NaN. On the fund's first observation only
    row t is used.
    """
    valid = ~np.isnan(fund)
    prev = previous_valid_row(valid)
    rows = np.arange(fund.shape[0])[:, None]
    consecutive = prev == rows - 1
    out = np.where(valid & (consecutive | (prev < 0)), bench, np.nan)
    r, c = np.nonzero(valid & (prev >= 0) & ~consecutive)
    if len(r):
        # Few cells (a fund's closed days): multiply the benchmark over each gap directly, one gap
        # offset at a time, instead of building a cumulative level over the whole matrix.
        p = prev[r, c]
        growth = 1.0 + bench[r, c]
        step = 1
        pending = np.flatnonzero(r - p > step)
        while len(pending):
            growth[pending] *= 1.0 + bench[p[pending] + step, c[pending]]
            step += 1
            pending = pending[r[pending] - p[pending] > step]
        out[r, c] = growth - 1.0  # NaN wherever a benchmark day in the gap is missing
    return out


def _relative(values: np.ndarray, bench_raw: np.ndarray, index: pd.DatetimeIndex,
              rf_daily: float) -> dict[str, np.ndarray]:
    bench = pair_benchmark(values, bench_raw)
    pair = ~np.isnan(values) & ~np.isnan(bench)
    n = pair.sum(axis=0)
    r = np.where(pair, values, 0.0)
    b = np.where(pair, bench, 0.0)

    fund_cagr = annualized_growth(np.prod(1.0 + r, axis=0), n, TRADING_DAYS)
    bench_cagr = annualized_growth(np.prod(1.0 + b, axis=0), n, TRADING_DAYS)

    active = r - b
    active_mean = safe_divide(active.sum(axis=0), n)
    active_centered = np.where(pair, active - active_mean, 0.0)
    tracking_error = np.sqrt(safe_divide((active_centered ** 2).sum(axis=0), np.where(n >= 2, n - 1, 0))
                             * TRADING_DAYS)

    r_mean = safe_divide(r.sum(axis=0), n)
    b_mean = safe_divide(b.sum(axis=0), n)
    b_centered = np.where(pair, b - b_mean, 0.0)
    r_centered = np.where(pair, r - r_mean, 0.0)
    beta = safe_divide((b_centered * r_centered).sum(axis=0), (b_centered ** 2).sum(axis=0))
    beta = np.where(n >= 2, beta, np.nan)
    jensen_daily = (r_mean - rf_daily) - beta * (b_mean - rf_daily)
    alpha = np.power(1.0 + jensen_daily, TRADING_DAYS) - 1.0

    monthly = _monthly(r, b, pair, index)
    has_pair = n > 0
    return {
        "benchmark_start": dates_at(index, first_valid_row(pair), has_pair),
        "benchmark_end": dates_at(index, last_valid_row(pair), has_pair),
        "excess_return": fund_cagr - bench_cagr,
        "tracking_error": tracking_error,
        "information_ratio": safe_ratio(active_mean * TRADING_DAYS, tracking_error),
        "beta": beta,
        "alpha": alpha,
        "benchmark_annual_return": bench_cagr,
        "n_pair_days": n.astype(np.int64),
        **monthly,
    }


def _monthly(r: np.ndarray, b: np.ndarray, pair: np.ndarray,
             index: pd.DatetimeIndex) -> dict[str, np.ndarray]:
    n_cols = r.shape[1]
    starts, _ = month_blocks(index)
    if len(starts) == 0:
        nan = np.full(n_cols, np.nan)
        return {"monthly_win_rate": nan, "up_capture": nan.copy(), "down_capture": nan.copy(),
                "n_months": np.zeros(n_cols, dtype=np.int64)}
    fund_m = np.multiply.reduceat(1.0 + r, starts, axis=0) - 1.0
    bench_m = np.multiply.reduceat(1.0 + b, starts, axis=0) - 1.0
    month_ok = np.add.reduceat(pair.astype(np.int64), starts, axis=0) > 0
    n_months = month_ok.sum(axis=0)
    wins = (month_ok & (fund_m > bench_m)).sum(axis=0)
    return {
        "monthly_win_rate": safe_divide(wins, n_months),
        "up_capture": _capture(fund_m, bench_m, month_ok & (bench_m > 0)),
        "down_capture": _capture(fund_m, bench_m, month_ok & (bench_m < 0)),
        "n_months": n_months.astype(np.int64),
    }


def _capture(fund_m: np.ndarray, bench_m: np.ndarray, months: np.ndarray) -> np.ndarray:
    k = months.sum(axis=0)
    fund_ann = annualized_growth(np.prod(np.where(months, 1.0 + fund_m, 1.0), axis=0), k, MONTHS)
    bench_ann = annualized_growth(np.prod(np.where(months, 1.0 + bench_m, 1.0), axis=0), k, MONTHS)
    return safe_divide(fund_ann, bench_ann)


def total_return_index(returns: pd.DataFrame) -> pd.DataFrame:
    """Growth of 1 yuan from each fund's first observation, carried over its NaN days (NaN before it)."""
    values = as_return_matrix(returns)
    started = np.maximum.accumulate(~np.isnan(values), axis=0)
    growth = np.cumprod(1.0 + np.nan_to_num(values, nan=0.0), axis=0)
    return pd.DataFrame(np.where(started, growth, np.nan), index=returns.index, columns=returns.columns)
