"""The embedded demo universe: complete, deterministic, realistic, and calibrated to the real data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from products.demo import FACTOR_CORR, FACTOR_VOL, demo_universe
from products.taxonomy import AssetClass, FundType


def test_demo_is_deterministic() -> None:
    a, b = demo_universe(), demo_universe()
    assert a.version == b.version
    pd.testing.assert_frame_equal(a.returns, b.returns)
    pd.testing.assert_frame_equal(a.holdings, b.holdings)


def test_demo_covers_every_type_class_and_level(demo_universe) -> None:
    funds = demo_universe.funds
    assert 70 <= len(funds) <= 90
    assert set(funds["fund_type"]) == {t.value for t in FundType}
    assert set(funds["asset_class"]) == {c.value for c in AssetClass}
    assert set(funds["risk_level"]) == {1, 2, 3, 4, 5}
    assert funds.index.is_unique and all(len(c) == 6 for c in funds.index)


def test_share_class_pairs_point_at_each_other(demo_universe) -> None:
    funds = demo_universe.funds
    c_classes = funds[funds["share_class"] == "C"]
    assert len(c_classes) >= 8
    for code, row in c_classes.iterrows():
        sibling = row["sibling_codes"]
        assert funds.loc[sibling, "share_class"] == "A"
        assert code in funds.loc[sibling, "sibling_codes"].split()
        assert funds.loc[code, "sales_service_fee"] > 0 == funds.loc[sibling, "sales_service_fee"]


def test_money_market_funds_accrue_and_keep_unit_nav_at_one(demo_universe) -> None:
    money = demo_universe.funds.index[demo_universe.funds["fund_type"] == "money_market"]
    returns = demo_universe.returns[money]
    assert (returns.dropna() >= 0).all().all()
    yearly = (1 + returns.loc["2025"]).prod() - 1
    assert ((yearly > 0.008) & (yearly < 0.02)).all()
    assert (demo_universe.unit_nav[money].dropna() == 1.0).all().all()


def test_returns_start_at_inception_and_short_histories_exist(demo_universe) -> None:
    funds, returns = demo_universe.funds, demo_universe.returns
    first_valid = returns.apply(lambda s: s.first_valid_index())
    expected = funds["inception"].clip(lower=returns.index[0])
    assert (first_valid >= expected - pd.Timedelta(days=3)).all()
    years = (returns.index[-1] - first_valid).dt.days / 365.25
    assert (years < 3).sum() >= 3  # some funds are too young to rate


def test_volatility_by_type_matches_real_fund_medians(demo_universe) -> None:
    vol = demo_universe.returns.std() * np.sqrt(252)
    by_type = vol.groupby(demo_universe.funds["fund_type"]).median()
    # medians of the real funds 2018–2026 (shared data): equity 0.236, index 0.225, bond 0.036, gold 0.143
    assert 0.19 < by_type["equity"] < 0.28
    assert 0.19 < by_type["index"] < 0.27
    assert 0.02 < by_type["bond"] < 0.05
    assert 0.12 < by_type["gold"] < 0.18


def test_holdings_are_plausible_top10_tables(demo_universe) -> None:
    h = demo_universe.holdings
    per_fund_quarter = h.groupby(["fund_code", "quarter"])
    assert (per_fund_quarter.size() == 10).all()
    assert (per_fund_quarter["weight"].sum() < per_fund_quarter["equity_share"].first()).all()
    assert set(h["stock_code"]) <= set(demo_universe.stock_industry["stock_code"])
    bank = demo_universe.funds.index[demo_universe.funds["name"].str.contains("银行")][0]
    bank_industries = h[h["fund_code"] == bank].merge(demo_universe.stock_industry, on="stock_code")
    assert (bank_industries["sw_l1"] == "银行").all()


@pytest.mark.realdata
def test_factor_calibration_matches_real_etfs(shared_data) -> None:
    prices = pd.read_csv(shared_data / "benchmarks" / "cn_etf_prices.csv", parse_dates=["Date"]).set_index("Date")
    cols = ["510300.SH", "510500.SH", "511260.SH", "518880.SH", "513500.SH", "513100.SH"]
    real = prices.loc["2018-01-01":, cols].pct_change(fill_method=None).dropna()
    np.testing.assert_allclose(real.std() * np.sqrt(252), FACTOR_VOL, atol=0.01)
    np.testing.assert_allclose(real.corr().to_numpy(), FACTOR_CORR, atol=0.02)
    demo = demo_universe().benchmarks[["cn_large_cap", "cn_mid_small_cap", "cn_bond", "gold", "us_equity",
                                       "us_tech"]].pct_change().dropna()
    np.testing.assert_allclose(demo.std() * np.sqrt(252), FACTOR_VOL, rtol=0.12)
    np.testing.assert_allclose(demo.corr().to_numpy(), FACTOR_CORR, atol=0.06)
