"""Fund analytics on small hand-checkable series: definitions, NaN spans, windows, benchmark pairing."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from products.analytics import (
    METRIC_COLUMNS,
    compute_metrics,
    drawdown_series,
    max_drawdown,
    pair_benchmark,
    rolling_metrics,
    total_return_index,
)
from products.errors import BadInputError


def frame(columns: dict[str, list[float]], start: str = "2024-01-01") -> pd.DataFrame:
    n = len(next(iter(columns.values())))
    return pd.DataFrame(columns, index=pd.bdate_range(start, periods=n), dtype=float)


def test_hand_computed_standalone_metrics() -> None:
    r = [0.10, -0.05, 0.02, -0.01]
    m = compute_metrics(frame({"F": r})).loc["F"]
    growth = 1.10 * 0.95 * 1.02 * 0.99
    assert m["n_days"] == 4
    assert m["total_return"] == pytest.approx(growth - 1, rel=1e-12)
    assert m["annual_return"] == pytest.approx(growth ** (252 / 4) - 1, rel=1e-12)
    mean = sum(r) / 4
    sd = math.sqrt(sum((x - mean) ** 2 for x in r) / 3)
    assert m["annual_volatility"] == pytest.approx(sd * math.sqrt(252), rel=1e-12)
    downside = math.sqrt((0.05 ** 2 + 0.01 ** 2) / 4) * math.sqrt(252)
    assert m["downside_deviation"] == pytest.approx(downside, rel=1e-12)
    assert m["sharpe"] == pytest.approx(mean * 252 / (sd * math.sqrt(252)), rel=1e-12)
    assert m["sortino"] == pytest.approx(mean * 252 / downside, rel=1e-12)
    # level 1.10 → 1.045 → 1.0659 → 1.055241: peak day 1, trough day 2 (−5%), never recovered
    assert m["max_drawdown"] == pytest.approx(1.045 / 1.10 - 1, rel=1e-12)
    assert m["peak_date"] == pd.Timestamp("2024-01-01")
    assert m["trough_date"] == pd.Timestamp("2024-01-02")
    assert pd.isna(m["recovery_date"]) and math.isnan(m["recovery_days"])
    assert m["calmar"] == pytest.approx(m["annual_return"] / abs(m["max_drawdown"]), rel=1e-12)
    assert list(compute_metrics(frame({"F": r})).columns) == list(METRIC_COLUMNS)


def test_risk_free_is_compounded_daily() -> None:
    r = [0.01, -0.02, 0.015, 0.003, -0.004]
    rf = 0.03
    rf_d = 1.03 ** (1 / 252) - 1
    m = compute_metrics(frame({"F": r}), risk_free=rf).loc["F"]
    excess = np.array(r) - rf_d
    assert m["sharpe"] == pytest.approx(excess.mean() * 252 / (np.std(r, ddof=1) * math.sqrt(252)), rel=1e-12)
    dd = math.sqrt(np.mean(np.minimum(excess, 0) ** 2)) * math.sqrt(252)
    assert m["downside_deviation"] == pytest.approx(dd, rel=1e-12)
    assert m["sortino"] == pytest.approx(excess.mean() * 252 / dd, rel=1e-12)


def test_each_fund_uses_its_own_valid_span() -> None:
    """NaN before inception and on holidays are skipped, never read as zero returns."""
    nan = np.nan
    both = frame({"old": [0.01, -0.02, 0.03, nan, 0.01, -0.01],
                  "new": [nan, nan, 0.02, 0.01, nan, -0.03]})
    m = compute_metrics(both)
    alone = compute_metrics(frame({"x": [0.02, 0.01, -0.03]}))
    for col in ("annual_return", "annual_volatility", "max_drawdown", "sharpe", "sortino", "downside_deviation"):
        assert m.at["new", col] == pytest.approx(alone.at["x", col], rel=1e-12)
    assert m.at["new", "n_days"] == 3 and m.at["old", "n_days"] == 5
    assert m.at["new", "start"] == both.index[2] and m.at["new", "end"] == both.index[5]
    # the drawdown dates are observation days
    assert m.at["new", "trough_date"] == both.index[5]


def test_vectorized_equals_one_fund_at_a_time() -> None:
    rng = np.random.default_rng(7)
    data = rng.normal(0.0004, 0.012, (400, 6))
    data[:50, 1] = np.nan
    data[rng.random(data.shape) < 0.05] = np.nan
    returns = pd.DataFrame(data, index=pd.bdate_range("2020-01-01", periods=400), columns=list("abcdef"))
    bench = pd.DataFrame(rng.normal(0.0003, 0.01, (400, 6)), index=returns.index, columns=returns.columns)
    together = compute_metrics(returns, bench, risk_free=0.015)
    for code in returns.columns:
        single = compute_metrics(returns[[code]], bench[[code]], risk_free=0.015)
        pd.testing.assert_frame_equal(together.loc[[code]], single, rtol=1e-12)


def test_window_selects_dates_inclusive() -> None:
    returns = frame({"F": [0.01, 0.02, -0.01, 0.03, 0.01]})
    m = compute_metrics(returns, start="2024-01-02", end="2024-01-04").loc["F"]
    assert m["n_days"] == 3
    assert m["total_return"] == pytest.approx(1.02 * 0.99 * 1.03 - 1, rel=1e-12)
    with pytest.raises(BadInputError, match="start is after end"):
        compute_metrics(returns, start="2024-02-01", end="2024-01-01")
    with pytest.raises(BadInputError, match="end is not a date"):
        compute_metrics(returns, end="2024-13-45")


def test_drawdown_recovery_dates_and_days() -> None:
    # level: 1.1, 0.88, 0.968, 1.1616 (recovered above 1.1 on day 4)
    returns = frame({"F": [0.10, -0.20, 0.10, 0.20]})
    m = compute_metrics(returns).loc["F"]
    assert m["max_drawdown"] == pytest.approx(-0.2, rel=1e-12)
    assert m["peak_date"] == returns.index[0]
    assert m["trough_date"] == returns.index[1]
    assert m["recovery_date"] == returns.index[3]
    assert m["recovery_days"] == (returns.index[3] - returns.index[1]).days


def test_first_day_loss_is_a_drawdown_from_the_start() -> None:
    m = compute_metrics(frame({"F": [-0.1, 0.05, 0.2]})).loc["F"]
    assert m["max_drawdown"] == pytest.approx(-0.1)
    assert m["peak_date"] == pd.Timestamp("2024-01-01")
    assert m["recovery_date"] == pd.Timestamp("2024-01-03")


def test_never_falling_fund_has_zero_drawdown_and_no_calmar() -> None:
    m = compute_metrics(frame({"F": [0.01, 0.0, 0.02]})).loc["F"]
    assert m["max_drawdown"] == 0.0
    assert pd.isna(m["peak_date"]) and math.isnan(m["calmar"]) and math.isnan(m["sortino"])


def test_fund_without_observations_is_all_nan() -> None:
    m = compute_metrics(frame({"F": [np.nan, np.nan], "G": [0.01, 0.02]})).loc["F"]
    assert m["n_days"] == 0
    assert math.isnan(m["annual_return"]) and math.isnan(m["max_drawdown"]) and pd.isna(m["start"])


def test_obs_per_year_flags_weekly_stretches() -> None:
    idx = pd.bdate_range("2020-01-01", periods=520)
    daily = pd.Series(0.001, index=idx)
    weekly = daily.where(np.arange(520) % 5 == 0)  # one NAV a week
    m = compute_metrics(pd.DataFrame({"daily": daily, "weekly": weekly}))
    assert 255 < m.at["daily", "obs_per_year"] < 265  # business days a year
    assert 50 < m.at["weekly", "obs_per_year"] < 54


def test_empty_and_one_day_windows() -> None:
    returns = frame({"F": [0.01, 0.02, -0.01]})
    empty = compute_metrics(returns, returns, start="2025-01-01").loc["F"]
    assert empty["n_days"] == 0 and empty["n_pair_days"] == 0
    assert math.isnan(empty["annual_volatility"]) and math.isnan(empty["tracking_error"])
    one = compute_metrics(returns, returns, start="2024-01-03").loc["F"]
    assert one["n_days"] == 1 and math.isnan(one["annual_volatility"]) and math.isnan(one["sharpe"])
    assert one["max_drawdown"] == pytest.approx(-0.01)
    assert compute_metrics(returns.iloc[:, :0]).empty


def test_max_drawdown_helpers() -> None:
    returns = frame({"A": [0.1, -0.2, 0.1], "B": [np.nan, -0.5, 1.0]})
    mdd = max_drawdown(returns)
    assert mdd["A"] == pytest.approx(-0.2) and mdd["B"] == pytest.approx(-0.5)
    assert max_drawdown(returns["A"]) == pytest.approx(-0.2)
    dd = drawdown_series(returns)
    assert math.isnan(dd.iloc[0, 1]) and dd.iloc[2, 1] == 0.0
    tri = total_return_index(returns)
    assert math.isnan(tri.iloc[0, 1]) and tri.iloc[2, 0] == pytest.approx(1.1 * 0.8 * 1.1)


def test_benchmark_is_compounded_over_the_funds_closed_days() -> None:
    """A QDII fund closed on a foreign holiday is compared with the benchmark's two-day move."""
    fund = np.array([[0.01], [np.nan], [0.03], [0.02]])
    bench = np.array([[0.02], [0.01], [-0.02], [np.nan]])
    paired = pair_benchmark(fund, bench)
    assert paired[0, 0] == pytest.approx(0.02)
    assert math.isnan(paired[1, 0])
    assert paired[2, 0] == pytest.approx(1.01 * 0.98 - 1, rel=1e-12)
    assert math.isnan(paired[3, 0])  # no benchmark that day: no pair


def test_relative_metrics_by_hand() -> None:
    r = np.array([0.02, -0.01, 0.015, -0.02, 0.01, 0.005])
    b = np.array([0.01, -0.015, 0.01, -0.01, 0.012, 0.0])
    m = compute_metrics(frame({"F": list(r)}), frame({"F": list(b)})).loc["F"]
    active = r - b
    te = np.std(active, ddof=1) * math.sqrt(252)
    assert m["tracking_error"] == pytest.approx(te, rel=1e-12)
    assert m["information_ratio"] == pytest.approx(active.mean() * 252 / te, rel=1e-12)
    beta = np.cov(r, b, ddof=1)[0, 1] / np.var(b, ddof=1)
    assert m["beta"] == pytest.approx(beta, rel=1e-12)
    assert m["alpha"] == pytest.approx((1 + (r.mean() - beta * b.mean())) ** 252 - 1, rel=1e-12)
    cagr = np.prod(1 + r) ** (252 / 6) - 1
    bench_cagr = np.prod(1 + b) ** (252 / 6) - 1
    assert m["excess_return"] == pytest.approx(cagr - bench_cagr, rel=1e-12)
    assert m["n_pair_days"] == 6


def test_monthly_win_rate_and_capture() -> None:
    idx = pd.DatetimeIndex(["2024-01-10", "2024-01-20", "2024-02-10", "2024-03-05", "2024-03-06"])
    fund = pd.DataFrame({"F": [0.02, 0.01, -0.03, 0.01, 0.01]}, index=idx)
    bench = pd.DataFrame({"F": [0.01, 0.01, -0.05, 0.03, 0.0]}, index=idx)
    m = compute_metrics(fund, bench).loc["F"]
    f_jan, b_jan = 1.02 * 1.01 - 1, 1.01 * 1.01 - 1  # fund wins
    f_feb, b_feb = -0.03, -0.05  # fund wins (loses less)
    f_mar, b_mar = 1.01 * 1.01 - 1, 0.03  # fund loses
    assert m["n_months"] == 3
    assert m["monthly_win_rate"] == pytest.approx(2 / 3)
    up_f = ((1 + f_jan) * (1 + f_mar)) ** (12 / 2) - 1
    up_b = ((1 + b_jan) * (1 + b_mar)) ** (12 / 2) - 1
    assert m["up_capture"] == pytest.approx(up_f / up_b, rel=1e-12)
    assert m["down_capture"] == pytest.approx(((1 + f_feb) ** 12 - 1) / ((1 + b_feb) ** 12 - 1), rel=1e-12)


def test_no_benchmark_leaves_relative_columns_empty() -> None:
    m = compute_metrics(frame({"F": [0.01, 0.02, -0.01]})).loc["F"]
    assert math.isnan(m["beta"]) and math.isnan(m["tracking_error"]) and m["n_pair_days"] == 0


def test_bad_inputs_are_named() -> None:
    with pytest.raises(BadInputError, match="-100%"):
        compute_metrics(frame({"F": [0.01, -1.0]}))
    with pytest.raises(BadInputError, match="risk_free"):
        compute_metrics(frame({"F": [0.01, 0.02]}), risk_free=-2)
    with pytest.raises(BadInputError, match="lacks columns"):
        compute_metrics(frame({"F": [0.01, 0.02]}), frame({"G": [0.01, 0.02]}))
    with pytest.raises(BadInputError, match="DatetimeIndex"):
        compute_metrics(pd.DataFrame({"F": [0.01]}))


def test_rolling_last_window_equals_compute_metrics_on_it() -> None:
    rng = np.random.default_rng(3)
    data = rng.normal(0.0005, 0.01, (700, 3))
    data[:200, 2] = np.nan  # too young for most 1y windows
    data[rng.random(data.shape) < 0.03] = np.nan
    returns = pd.DataFrame(data, index=pd.bdate_range("2021-01-01", periods=700), columns=list("abc"))
    rolled = rolling_metrics(returns, 1, risk_free=0.02)
    assert rolled.window_rows == 252
    last_start = returns.index[-252]
    direct = compute_metrics(returns, risk_free=0.02, start=last_start)
    for metric in ("annual_return", "annual_volatility", "sharpe", "max_drawdown"):
        got = rolled.frame(metric).iloc[-1]
        np.testing.assert_allclose(got.to_numpy(), direct[metric].to_numpy(), rtol=1e-10)
    # a window is defined only once the fund existed at its start
    first_c = returns["c"].first_valid_index()
    first_ok = rolled.annual_return["c"].first_valid_index()
    assert returns.index.get_loc(first_ok) - 251 >= returns.index.get_loc(first_c)
    # stepping keeps the same values at the kept ends
    stepped = rolling_metrics(returns, 1, risk_free=0.02, step=5)
    pd.testing.assert_frame_equal(stepped.max_drawdown, rolled.max_drawdown.loc[stepped.max_drawdown.index])
    summary = rolled.summary()
    assert summary.at["a", "n_windows"] == rolled.annual_return["a"].notna().sum()
    assert summary.at["a", "latest_annual_return"] == pytest.approx(direct.at["a", "annual_return"], rel=1e-10)


def test_rolling_window_longer_than_history_is_empty() -> None:
    rolled = rolling_metrics(frame({"F": [0.01] * 30}), 3)
    assert rolled.annual_return.empty
    assert math.isnan(rolled.summary().at["F", "latest_annual_return"])
    with pytest.raises(BadInputError):
        rolling_metrics(frame({"F": [0.01] * 30}), 0)


def test_windows_under_a_year_are_not_annualized_for_readers() -> None:
    """GIPS: the card shows cumulative fund, benchmark and excess returns over a short window, no annual figures."""
    from products.analytics.report import data_warnings, metrics_for_readers

    index = pd.bdate_range("2024-01-01", periods=300)
    r = pd.DataFrame({"F": np.full(300, 0.001)}, index=index)
    b = pd.DataFrame({"F": np.full(300, 0.0005)}, index=index)
    short = metrics_for_readers(compute_metrics(r, b, end=index[3])).loc["F"]
    assert short["total_return"] == pytest.approx(1.001 ** 4 - 1)
    assert short["benchmark_total_return"] == pytest.approx(1.0005 ** 4 - 1)
    assert short["excess_total_return"] == pytest.approx(1.001 ** 4 - 1.0005 ** 4)
    assert short["paired_total_return"] == pytest.approx(short["total_return"])  # the benchmark covers it all
    for col in ("annual_return", "benchmark_annual_return", "excess_return", "alpha", "calmar", "sharpe",
                "sortino", "information_ratio"):
        assert math.isnan(short[col]), col
    assert "not_annualized" in [w["code"] for w in data_warnings(short.to_dict())]
    full = metrics_for_readers(compute_metrics(r, b)).loc["F"]
    assert full["annual_return"] == pytest.approx(1.001 ** 252 - 1)
    assert "sharpe" in full.index
    assert "not_annualized" not in [w["code"] for w in data_warnings(full.to_dict())]
