"""Benchmarks on the full real data, checked on every fund whose published benchmark the rule selects."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from products.analytics import compute_metrics, fund_benchmark_returns
from products.analytics.report import data_warnings, metrics_for_readers
from products.benchmark import STYLES, benchmark_specs, series_coverage


@pytest.fixture(scope="module")
def specs(real_universe):
    return benchmark_specs(real_universe)


def test_every_substitution_is_labelled_and_every_used_series_exists(real_universe, specs) -> None:
    coverage = series_coverage(real_universe)
    for code, spec in specs.items():
        assert (spec.source == "parsed") == (not spec.approximations), code
        inexact = [t.name for t in spec.terms if not t.exact]
        labelled = [a["index"] for a in spec.approximations]
        assert all(name in labelled for name in inexact), (code, inexact, labelled)
        for note in spec.approximations:
            assert note["en"] and note["zh"] and note["index"], code
        for series in spec.weights:  # no weight on a series the data lacks: it was replaced, and said so
            assert series in STYLES and bool(coverage.at[series, "available"]), (code, series)


def test_named_indices_use_the_series_the_data_has(real_universe, specs) -> None:
    """Hang Seng → the Hang Seng series; convertible-bond indices → a labelled blend, never plain treasuries;
    deposit legs → the deposit rate, not the money-market yield."""
    seen = {"hk": 0, "convertible": 0, "deposit": 0}
    for code, spec in specs.items():
        for term in spec.terms:
            if "恒生指数" in term.name and "A股" not in term.name:
                seen["hk"] += 1
                assert term.series == {"hk_equity": 1.0} and spec.weights.get("hk_equity", 0) > 0, code
            if "转债" in term.name or "可转换" in term.name:
                seen["convertible"] += 1
                assert not term.exact and set(term.series) == {"cn_bond", "cn_large_cap"}, code
                assert any("≈" in a["en"] and a["index"] == term.name for a in spec.approximations), code
            if "活期" in term.name:
                seen["deposit"] += 1
                assert term.series == {"deposit_demand": 1.0} and term.exact, code
    assert seen["hk"] >= 8 and seen["convertible"] >= 8 and seen["deposit"] >= 150


@pytest.fixture(scope="module")
def metrics(real_universe) -> pd.DataFrame:
    return metrics_for_readers(compute_metrics(real_universe.returns, fund_benchmark_returns(real_universe)))


def test_relative_metrics_are_on_the_common_span_and_say_so(real_universe, metrics) -> None:
    """QDII funds older than the US series (2015-01) are compared only where the benchmark exists; the
    span is reported and the fund card warns that it is shorter than the fund's history."""
    funds = real_universe.funds
    us_start = series_coverage(real_universe).at["us_equity", "start"]
    specs = benchmark_specs(real_universe)
    old_us = [c for c in funds.index if specs[c].weights.get("us_equity", 0) + specs[c].weights.get("us_tech", 0)
              > 0.5 and metrics.at[c, "start"] < us_start - pd.Timedelta(days=365)]
    assert len(old_us) >= 5
    for code in old_us:
        row = metrics.loc[code].to_dict()
        assert row["benchmark_start"] >= us_start
        assert row["n_pair_days"] < row["n_days"]
        codes = [w["code"] for w in data_warnings(row)]
        assert "benchmark_partial" in codes, code
        # the excess is the fund minus the benchmark over the same days, and the fund's part is shown
        span = real_universe.returns.loc[row["benchmark_start"]:row["benchmark_end"], code].dropna()
        if len(span) == row["n_pair_days"]:
            assert row["paired_total_return"] == pytest.approx((1 + span).prod() - 1, rel=1e-9, abs=1e-12)
        assert row["excess_total_return"] == pytest.approx(row["paired_total_return"]
                                                           - row["benchmark_total_return"])
    full = metrics[(metrics["n_pair_days"] == metrics["n_days"]) & (metrics["n_days"] > 252)]
    assert len(full) > 100
    assert not any("benchmark_partial" in [w["code"] for w in data_warnings(r)]
                   for r in full.head(50).to_dict("records"))


def test_a_return_after_a_gap_is_paired_with_the_benchmark_over_the_same_dates(real_universe, metrics) -> None:
    """For every QDII fund: the benchmark's compounded return over the paired days equals its level ratio
    between the first and last paired fund observation — no benchmark day inside a fund's gap is lost."""
    funds = real_universe.funds
    bench = fund_benchmark_returns(real_universe)
    qdii = funds.index[funds["fund_type"].isin(["qdii_equity", "qdii_other"])]
    checked = 0
    for code in qdii:
        row = metrics.loc[code]
        if row["n_pair_days"] < 500:
            continue
        fund = real_universe.returns[code]
        gaps = fund.loc[row["benchmark_start"]:row["benchmark_end"]].isna().sum()
        b = bench[code].loc[row["benchmark_start"]:row["benchmark_end"]]
        expected = (1 + b.fillna(0)).prod()  # every benchmark day of the span, fund open or not
        got = (1 + row["benchmark_annual_return"]) ** (row["n_pair_days"] / 252)
        assert got == pytest.approx(expected, rel=1e-9), code
        checked += gaps > 0
    assert checked >= 10  # funds with closed days inside the span were exercised
    assert np.isfinite(metrics.loc[qdii, "excess_return"]).sum() >= 20
