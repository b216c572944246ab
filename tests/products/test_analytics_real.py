"""Proof on the real data: every metric of many real funds against an independent computation.

The independent side is empyrical (empyrical-reloaded) applied fund by fund on the fund's own valid
series, plus plain pandas for what empyrical does not define (drawdown dates, benchmark pairing over
a fund's closed days, calendar months). Agreement is required to 1e-9 relative.
"""

from __future__ import annotations

import math

import empyrical as ep
import pandas as pd
import pytest

from products.analytics import SPARSE_OBS_PER_YEAR, compute_metrics, fund_benchmark_returns
from products.benchmark import style_returns

RF = 0.02
RF_DAILY = (1 + RF) ** (1 / 252) - 1
REL = 1e-9
ABS = 1e-12
WINDOWS = ((None, None), ("2019-01-01", "2024-12-31"))


@pytest.fixture(scope="module")
def sample_codes(real_universe) -> list[str]:
    """Up to 4 funds per type with at least 2 years of data: 40+ funds incl. QDII, bond, index, gold."""
    counts = real_universe.returns.notna().sum()
    funds = real_universe.funds.assign(n=counts)
    eligible = funds[funds["n"] >= 500].sort_index()
    codes = eligible.groupby("fund_type", sort=True).head(4).index.tolist()
    return codes


@pytest.fixture(scope="module")
def bench(real_universe) -> pd.DataFrame:
    return fund_benchmark_returns(real_universe)


def close(got: float, expected: float) -> bool:
    if isinstance(expected, float) and math.isnan(expected):
        return isinstance(got, float) and math.isnan(got)
    return math.isclose(got, expected, rel_tol=REL, abs_tol=ABS)


def independent_pairs(fund: pd.Series, bench: pd.Series) -> pd.DataFrame:
    """Fund observations with the benchmark compounded over the rows since the previous observation."""
    first = fund.first_valid_index()
    rows = fund.loc[first:]
    b = bench.reindex(rows.index)
    obs_date = pd.Series(rows.index.where(rows.notna()), index=rows.index).bfill()
    frame = pd.DataFrame({"growth": 1 + b, "missing": b.isna(), "key": obs_date}).dropna(subset=["key"])
    grouped = frame.groupby("key")
    compounded = (grouped["growth"].prod() - 1).where(~grouped["missing"].any())
    pairs = pd.DataFrame({"r": rows.dropna(), "b": compounded.reindex(rows.dropna().index)}).dropna()
    return pairs


def independent_drawdown(s: pd.Series) -> dict[str, object]:
    level = (1 + s).cumprod()
    peak = level.cummax().clip(lower=1.0)
    dd = level / peak - 1
    trough = dd.idxmin()
    if dd.min() >= 0:
        return {"max_drawdown": 0.0, "peak_date": pd.NaT, "trough_date": pd.NaT, "recovery_date": pd.NaT}
    peak_value = peak.loc[trough]
    at_peak = level.loc[:trough][level.loc[:trough] == peak_value]
    peak_date = at_peak.index[0] if len(at_peak) else s.index[0]
    after = level.loc[trough:].iloc[1:]
    recovered = after[after >= peak_value]
    return {"max_drawdown": dd.min(), "peak_date": peak_date, "trough_date": trough,
            "recovery_date": recovered.index[0] if len(recovered) else pd.NaT}


def monthly(pairs: pd.DataFrame) -> pd.DataFrame:
    return (1 + pairs).groupby(pairs.index.to_period("M")).prod() - 1


@pytest.mark.parametrize("window", WINDOWS, ids=["full", "2019-2024"])
def test_every_metric_matches_an_independent_computation(real_universe, sample_codes, bench, window) -> None:
    start, end = window
    assert len(sample_codes) >= 30
    types = set(real_universe.funds.loc[sample_codes, "fund_type"])
    assert {"qdii_equity", "bond", "index", "gold"} <= types
    ours = compute_metrics(real_universe.returns, bench, risk_free=RF, start=start, end=end)
    returns = real_universe.returns.loc[start:end]
    benchmark = bench.loc[start:end]
    mismatches: list[tuple[str, str, float, float]] = []
    gaps_seen = 0
    for code in sample_codes:
        m = ours.loc[code]
        s = returns[code].dropna()
        expected: dict[str, float] = {
            "annual_return": ep.annual_return(s),
            "annual_volatility": ep.annual_volatility(s),
            "downside_deviation": ep.downside_risk(s, required_return=RF_DAILY),
            "max_drawdown": ep.max_drawdown(s),
            "sharpe": ep.sharpe_ratio(s, risk_free=RF_DAILY),
            "sortino": ep.sortino_ratio(s, required_return=RF_DAILY),
            "calmar": ep.calmar_ratio(s),
            "total_return": ep.cum_returns_final(s),
        }
        dates = independent_drawdown(s)
        for key in ("peak_date", "trough_date", "recovery_date"):
            if not (pd.isna(m[key]) and pd.isna(dates[key])) and m[key] != dates[key]:
                mismatches.append((code, key, m[key], dates[key]))
        assert m["n_days"] == len(s) and m["start"] == s.index[0] and m["end"] == s.index[-1]
        if pd.notna(dates["recovery_date"]):
            assert m["recovery_days"] == (dates["recovery_date"] - dates["trough_date"]).days

        pairs = independent_pairs(returns[code], benchmark[code])
        gaps_seen += int((returns[code].loc[s.index[0]:].isna()).sum() > 0 and len(pairs) > 0)
        assert m["n_pair_days"] == len(pairs)
        if len(pairs) > 2:
            r, b = pairs["r"], pairs["b"]
            months = monthly(pairs)
            expected.update({
                "excess_return": ep.annual_return(r) - ep.annual_return(b),
                "benchmark_annual_return": ep.annual_return(b),
                "tracking_error": ep.annual_volatility(r - b),
                "information_ratio": ep.excess_sharpe(r, b) * math.sqrt(252),
                "beta": ep.beta(r, b),
                "alpha": ep.alpha(r, b, risk_free=RF_DAILY),
                "monthly_win_rate": float((months["r"] > months["b"]).mean()),
                "up_capture": ep.up_capture(months["r"], months["b"], period="monthly"),
                "down_capture": ep.down_capture(months["r"], months["b"], period="monthly"),
            })
            assert m["n_months"] == len(months)
        for key, value in expected.items():
            if not close(float(m[key]), float(value)):
                mismatches.append((code, key, float(m[key]), float(value)))
    assert not mismatches, mismatches[:10]
    assert gaps_seen > 0  # funds with closed days inside their span were exercised


def test_benchmark_series_is_the_weighted_style_returns(real_universe, bench) -> None:
    """A fund published as 沪深300×80% + 中债×20% gets 0.8·r(cn_large_cap) + 0.2·r(cn_bond) every day
    (domestic series; foreign legs are converted to the fund's currency, tested in test_benchmark)."""
    from products.benchmark import SERIES_CURRENCY, benchmark_spec

    styles = style_returns(real_universe)
    funds = real_universe.funds
    checked = 0
    for code in funds.index:
        spec = benchmark_spec(real_universe, code)
        if spec.constant or len(spec.weights) < 2 or set(spec.weights) & set(SERIES_CURRENCY):
            continue
        expected = sum(w * styles[style] for style, w in spec.weights.items())
        pd.testing.assert_series_equal(bench[code], expected, check_names=False, rtol=1e-12)
        checked += 1
        if checked >= 25:
            break
    assert checked >= 25
    # style returns are the ETF / index closes' day-on-day changes on the fund calendar
    large = real_universe.benchmarks["cn_large_cap"].dropna()
    on_dates = large.reindex(large.index.union(real_universe.returns.index)).ffill().reindex(
        real_universe.returns.index)
    direct = on_dates / on_dates.shift(1) - 1
    last = large.index[-1]
    pd.testing.assert_series_equal(styles["cn_large_cap"].loc[:last], direct.loc[:last], check_names=False)


def test_metrics_are_plausible_for_an_analyst(real_universe, bench) -> None:
    """Checks an analyst would make by hand on the real universe."""
    m = compute_metrics(real_universe.returns, bench)
    funds = real_universe.funds
    by_type = m.join(funds["fund_type"]).groupby("fund_type")["annual_volatility"].median()
    assert by_type["bond"] < 0.06 < by_type["equity"]
    assert (m["max_drawdown"] <= 0).all()
    index_funds = m[funds["fund_type"] == "index"]
    # index funds track a large-cap-like benchmark: median beta near 1
    assert 0.7 < index_funds["beta"].median() < 1.3
    assert m["n_days"].min() > 0
    # sparse NAV histories (weekly stretches) are flagged, and they are the exception
    sparse = m.index[m["obs_per_year"] < SPARSE_OBS_PER_YEAR]
    assert 0 < len(sparse) < 0.1 * len(m)
    assert m["obs_per_year"].median() > 235
