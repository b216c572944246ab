"""Property tests of the analytics: bounds, invariances and agreement with empyrical on random data."""

from __future__ import annotations

import math

import empyrical as ep
import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from products.analytics import compute_metrics

daily = st.floats(min_value=-0.2, max_value=0.2, allow_nan=False, allow_infinity=False)
series = arrays(np.float64, st.integers(min_value=3, max_value=120), elements=daily)


def as_frame(values: np.ndarray, name: str = "F") -> pd.DataFrame:
    return pd.DataFrame({name: values}, index=pd.bdate_range("2023-01-02", periods=len(values)))


@settings(max_examples=60, deadline=None)
@given(series)
def test_drawdown_is_between_minus_one_and_zero(values: np.ndarray) -> None:
    m = compute_metrics(as_frame(values)).loc["F"]
    assert -1.0 < m["max_drawdown"] <= 0.0
    assert m["annual_volatility"] >= 0.0
    assert m["downside_deviation"] >= 0.0
    if m["max_drawdown"] < 0:
        assert m["peak_date"] <= m["trough_date"]
        if pd.notna(m["recovery_date"]):
            assert m["recovery_date"] > m["trough_date"]


@settings(max_examples=60, deadline=None)
@given(series, st.floats(min_value=0.1, max_value=3.0))
def test_sharpe_is_scale_invariant_and_volatility_scales(values: np.ndarray, k: float) -> None:
    if np.std(values) < 1e-6:
        return
    base = compute_metrics(as_frame(values)).loc["F"]
    scaled = compute_metrics(as_frame(values * k)).loc["F"]
    assert math.isclose(scaled["sharpe"], base["sharpe"], rel_tol=1e-9, abs_tol=1e-12)
    assert math.isclose(scaled["annual_volatility"], k * base["annual_volatility"], rel_tol=1e-9)


@settings(max_examples=60, deadline=None)
@given(series, st.floats(min_value=0.2, max_value=2.0))
def test_beta_of_a_levered_benchmark(values: np.ndarray, k: float) -> None:
    if np.std(values) < 1e-6:
        return
    m = compute_metrics(as_frame(values * k), as_frame(values)).loc["F"]
    assert math.isclose(m["beta"], k, rel_tol=1e-9)
    same = compute_metrics(as_frame(values), as_frame(values)).loc["F"]
    assert same["tracking_error"] == 0.0 and math.isnan(same["information_ratio"])
    assert same["excess_return"] == 0.0 and same["monthly_win_rate"] == 0.0


@settings(max_examples=40, deadline=None)
@given(series, st.integers(min_value=0, max_value=20))
def test_nan_rows_do_not_change_standalone_metrics(values: np.ndarray, gaps: int) -> None:
    padded = np.concatenate([np.full(gaps, np.nan), values])
    holes = padded.copy()
    base = compute_metrics(as_frame(values)).loc["F"]
    other = compute_metrics(as_frame(holes)).loc["F"]
    for col in ("annual_return", "annual_volatility", "max_drawdown", "sharpe", "sortino"):
        a, b = base[col], other[col]
        assert (math.isnan(a) and math.isnan(b)) or math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-15)


@settings(max_examples=60, deadline=None)
@given(series, series, st.floats(min_value=0.0, max_value=0.05))
def test_matches_empyrical_on_random_series(values: np.ndarray, other: np.ndarray, rf: float) -> None:
    n = min(len(values), len(other))
    r, b = values[:n], other[:n]
    rf_d = (1 + rf) ** (1 / 252) - 1
    m = compute_metrics(as_frame(r), as_frame(b), risk_free=rf).loc["F"]
    rs, bs = as_frame(r)["F"], as_frame(b)["F"]
    checks = {
        "annual_return": ep.annual_return(rs),
        "annual_volatility": ep.annual_volatility(rs),
        "max_drawdown": ep.max_drawdown(rs),
        "downside_deviation": ep.downside_risk(rs, required_return=rf_d),
    }
    if np.std(r) > 1e-6:
        checks["sharpe"] = ep.sharpe_ratio(rs, risk_free=rf_d)
    if np.std(b) > 1e-6:
        checks["beta"] = ep.beta(rs, bs)
        checks["alpha"] = ep.alpha(rs, bs, risk_free=rf_d)
    for key, expected in checks.items():
        # alpha compounds the daily Jensen alpha 252 times: a relative rounding difference δ in the daily
        # figure becomes ~252·δ·j/(1+j) in alpha (hypothesis found 1e-9 at alpha ≈ 7.8e12), hence 1e-7
        rel = 1e-7 if key == "alpha" else 1e-9
        assert math.isclose(m[key], expected, rel_tol=rel, abs_tol=1e-10), (key, m[key], expected)
