"""Look-through: industry buckets, point-in-time industries, data faults, siblings, overlap, portfolios."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from products.errors import BadInputError, NotFoundError
from products.research import (
    clean_holdings,
    fund_look_through,
    holdings_overlap,
    look_through,
    portfolio_look_through,
)
from products.research.lookthrough import HK, NO_DATA, NON_STOCK, OVERSEAS, UNDISCLOSED


def test_buckets_sum_to_one_and_scale_to_the_stock_share(synthetic_universe):
    result = look_through(synthetic_universe, ["100001", "100003", "100004"], quarter="2024-Q3")
    ind = result.industries
    np.testing.assert_allclose(ind.sum(axis=1), 1.0)
    a = ind.loc["100001"]
    assert a["银行"] == pytest.approx(0.18) and a[HK] == pytest.approx(0.05)
    assert a[UNDISCLOSED] == pytest.approx(0.90 - 0.23) and a[NON_STOCK] == pytest.approx(0.10)
    assert ind.loc["100004", OVERSEAS] == pytest.approx(0.20) and ind.loc["100004", "电子"] == pytest.approx(0.10)
    assert result.summary.loc["100001", "top10_share"] == pytest.approx(0.23)
    assert result.summary.loc["100001", "top10_of_stock"] == pytest.approx(0.23 / 0.90)


def test_point_in_time_industry(synthetic_universe):
    q3 = look_through(synthetic_universe, ["100003"], quarter="2024-Q3").industries.loc["100003"]
    q4 = look_through(synthetic_universe, ["100003"], quarter="2024-Q4").industries.loc["100003"]
    assert q3["银行"] == pytest.approx(0.05) and q3.get("非银金融", 0.0) == 0.0
    assert q4["非银金融"] == pytest.approx(0.05) and q4.get("银行", 0.0) == 0.0  # reclassified 2024-10-15


def test_faults_are_reported_and_never_used(synthetic_universe):
    clean = clean_holdings(synthetic_universe)
    checks = set(zip(clean.issues["code"], clean.issues["check"], strict=True))
    assert ("100005", "holdings_sum_above_100") in checks
    assert ("100006", "duplicate_holding") in checks
    # the >100% fund-quarter is excluded: 100005 falls back to "no data" with its fault reported
    result = look_through(synthetic_universe, ["100005", "100006"], quarter=None)
    assert result.industries.loc["100005", NO_DATA] == 1.0
    assert "holdings_sum_above_100" in set(result.issues["check"])
    # the duplicate row counts once
    assert result.industries.loc["100006", "银行"] == pytest.approx(0.10)


def test_latest_quarter_and_disclosure_lag(synthetic_universe):
    latest = look_through(synthetic_universe, ["100001"]).summary.loc["100001", "quarter"]
    assert latest == "2024-Q4"
    # on 2025-01-10 the Q4 report is not out yet (published within ~3 weeks of the quarter end)
    early = look_through(synthetic_universe, ["100001"], as_of="2025-01-10").summary.loc["100001", "quarter"]
    assert early == "2024-Q3"


def test_sibling_share_class_and_no_data_funds(synthetic_universe):
    result = look_through(synthetic_universe, ["100002", "200001", "100007"])
    own = look_through(synthetic_universe, ["100001"]).industries.loc["100001"]
    pd.testing.assert_series_equal(result.industries.loc["100002"].reindex(own.index), own, check_names=False)
    assert result.summary.loc["100002", "source"] == "sibling 100001"
    assert result.industries.loc["200001", NON_STOCK] == 1.0  # a bond fund without stock holdings
    assert result.industries.loc["100007", NO_DATA] == 1.0  # an equity fund with nothing disclosed
    with pytest.raises(NotFoundError, match="neither in the universe nor in the holdings"):
        look_through(synthetic_universe, ["123456"])
    with pytest.raises(NotFoundError, match="no holdings for quarter"):
        look_through(synthetic_universe, ["100001"], quarter="2019-Q1")


def test_funds_outside_the_universe_and_contract_tuple(synthetic_universe):
    industries, top = fund_look_through(synthetic_universe, ["999999"])
    assert industries.loc["999999", "非银金融"] == pytest.approx(0.30)
    assert list(top.columns[:4]) == ["code", "quarter", "rank", "stock_code"]


def test_overlap(synthetic_universe):
    ov = holdings_overlap(synthetic_universe, ["100001", "100002", "100003", "100004", "200001"])
    assert ov.loc["100001", "100002"] == 1.0  # A/C share classes
    assert ov.loc["100003", "100004"] == 0.0
    # 100001 normalized: 600001 .10/.23, 600002 .08/.23, 00700 .05/.23; 100003: 600001 .5, 300750 .5
    assert ov.loc["100001", "100003"] == pytest.approx(0.10 / 0.23)
    assert np.isnan(ov.loc["200001", "100001"])
    np.testing.assert_allclose(ov.to_numpy(), ov.to_numpy().T)


def test_portfolio_aggregation(synthetic_universe):
    weights = pd.Series({"100001": 0.5, "100003": 0.3, "200001": 0.2})
    result = portfolio_look_through(synthetic_universe, weights)
    assert result["industries"].sum() == pytest.approx(1.0)
    assert result["industries"][NON_STOCK] == pytest.approx(0.5 * 0.10 + 0.3 * 0.40 + 0.2 * 1.0)
    stocks = result["stocks"].set_index("stock_code")
    assert stocks.loc["600001", "exposure"] == pytest.approx(0.5 * 0.10 + 0.3 * 0.05)
    assert stocks.loc["600001", "n_funds"] == 2 and stocks.loc["600001", "funds"] == "100001 100003"
    assert list(result["shared_stocks"]["stock_code"]) == ["600001"]
    with pytest.raises(BadInputError):
        portfolio_look_through(synthetic_universe, pd.Series({"100001": -1.0}))


# ---------------------------------------------------------------------------------------------
# Real data
# ---------------------------------------------------------------------------------------------

def test_real_bank_index_fund_is_mostly_banks(real_universe):
    result = look_through(real_universe, ["512800"], quarter="2022-Q4")  # 华宝中证银行ETF
    row = result.industries.loc["512800"]
    disclosed = row.drop([UNDISCLOSED, NON_STOCK])
    assert disclosed.idxmax() == "银行"
    assert row["银行"] / disclosed.sum() > 0.95
    assert result.summary.loc["512800", "equity_share"] > 0.95
    # other bank index funds of the holdings file (博时 / 华安 / 富国中证银行); the NAV universe's bank
    # index funds (001594, 004597) are feeders without disclosed stocks
    for code in ("160517", "160418", "013330"):
        ind = look_through(real_universe, [code], quarter="2022-Q4").industries.loc[code]
        disclosed = ind.drop([UNDISCLOSED, NON_STOCK])
        assert disclosed.idxmax() == "银行" and ind["银行"] / disclosed.sum() > 0.9


def test_real_ac_pair_overlaps_fully(real_universe):
    ov = holdings_overlap(real_universe, ["000118", "000119", "000001"])
    assert ov.loc["000118", "000119"] == pytest.approx(1.0)
    assert ov.loc["000118", "000001"] < 0.5


def test_real_whole_quarter_matches_a_plain_pandas_pivot(real_universe):
    result = look_through(real_universe, quarter="2022-Q4")
    assert len(result.industries) > 8000
    np.testing.assert_allclose(result.industries.sum(axis=1), 1.0, atol=1e-9)
    # independent check on a sample: pivot of the cleaned rows of that quarter
    clean = clean_holdings(real_universe).holdings
    rows = clean[(clean["quarter"] == "2022-Q4")].astype({"fund_code": str, "bucket": str})
    sample = sorted(rows["fund_code"].unique())[::40]
    pivot = rows[rows["fund_code"].isin(sample)].pivot_table(index="fund_code", columns="bucket", values="weight",
                                                            aggfunc="sum", fill_value=0.0, observed=True)
    got = result.industries.loc[sample, pivot.columns]
    np.testing.assert_allclose(got.to_numpy(), pivot.to_numpy(), atol=1e-12)


def test_real_faults_reported(real_universe):
    clean = clean_holdings(real_universe)
    issues = clean.issues
    raw = real_universe.holdings
    key = ["quarter", "fund_code", "stock_code", "rank"]
    research_dups = issues[(issues["check"] == "duplicate_holding") & (issues["found_by"] == "research")]
    assert len(research_dups) == raw.duplicated(key).sum()  # whatever the loader left is caught here
    # the source file's duplicate rows and >100% fund-quarters are all reported, by the loader or here
    assert (issues["check"] == "duplicate_holding").sum() >= 230
    over = issues[issues["check"].str.contains("over_100|above_100")]
    assert {"008895"} <= set(over["code"])
    kept = clean.holdings.astype({"quarter": str, "fund_code": str, "stock_code": str})
    assert not kept.duplicated(key).any()
    per_fq = kept.groupby(["fund_code", "quarter"])["weight"].sum()
    assert per_fq.max() <= 1.005
    # a fund-quarter the loader excluded says so in that fund's look-through
    result = look_through(real_universe, ["008895"])
    assert "holdings_over_100" in set(result.issues["check"])


def test_pairwise_overlap_kernel_matches_brute_force():
    from scipy import sparse

    from products.research.lookthrough import _pairwise_min_sum

    rng = np.random.default_rng(5)
    dense = rng.random((40, 60)) * (rng.random((40, 60)) < 0.15)
    expected = np.minimum(dense[:, None, :], dense[None, :, :]).sum(axis=2)
    got = _pairwise_min_sum(sparse.csc_matrix(dense), 40)
    np.testing.assert_allclose(got, expected, atol=1e-12)
