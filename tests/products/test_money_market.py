"""Modeled money-market funds: daily accrual by calendar day, NAV fixed at 1, deterministic."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from products.money_market import (
    DEFAULT_MONEY_FUNDS,
    MoneyFundSpec,
    accrual_returns,
    cash_index,
    money_market_funds,
    shibor_yields,
    yield_path,
)
from products.universe import FUND_COLUMNS


def test_weekend_accrues_three_days_on_monday() -> None:
    days = pd.DatetimeIndex(["2024-03-07", "2024-03-08", "2024-03-11"])  # Thu, Fri, Mon
    r = accrual_returns(days, pd.Series(0.0365, index=days))
    assert r.to_numpy() == pytest.approx([0.0001, 0.0001, 0.0003])


def test_a_year_of_calendar_days_compounds_to_the_yield() -> None:
    days = pd.date_range("2019-01-01", "2019-12-31", freq="D")
    r = accrual_returns(days, pd.Series(0.025, index=days))
    assert (1 + r).prod() - 1 == pytest.approx((1 + 0.025 / 365) ** 365 - 1, rel=1e-12)
    business = pd.bdate_range("2019-01-01", "2019-12-31")
    rb = accrual_returns(business, pd.Series(0.025, index=business))
    assert rb.sum() == pytest.approx(0.025 * 365 / 365, rel=1e-3)  # same income, booked on trading days


def test_yield_path_by_year_and_override_inside_its_range_only() -> None:
    dates = pd.DatetimeIndex(["2016-06-01", "2017-03-01", "2017-11-01", "2030-01-01", "1999-01-01"])
    override = pd.Series([0.04, 0.045], index=pd.DatetimeIndex(["2017-01-03", "2017-08-30"]))
    y = yield_path(dates, {2016: 0.025, 2017: 0.039, 2026: 0.012}, override)
    assert y.tolist() == [0.025, 0.04, 0.039, 0.012, 0.025]


def test_funds_are_complete_r1_cash_with_unit_nav_one() -> None:
    days = pd.bdate_range("2020-01-01", "2020-03-31")
    mm = money_market_funds(days)
    assert list(mm.funds.columns) == list(FUND_COLUMNS)
    assert len(mm.funds) == len(DEFAULT_MONEY_FUNDS) == 3
    assert mm.funds["company"].nunique() == 3
    assert (mm.funds["fund_type"] == "money_market").all() and (mm.funds["asset_class"] == "cash").all()
    assert (mm.funds["risk_level"] == 1).all()
    assert (mm.unit_nav.to_numpy() == 1.0).all()
    assert all(s.money_market for s in mm.schedules)
    total = (1 + mm.returns).prod()
    assert total["990002"] > total["990001"] > total["990003"]  # spreads +15bp, 0, -10bp


def test_deterministic_and_respects_inception() -> None:
    days = pd.bdate_range("2003-12-01", "2004-01-31")
    spec = MoneyFundSpec("990009", "测试货币", "测试货币市场基金", "测试基金公司", 0.0, inception="2004-01-02")
    a, b = money_market_funds(days, (spec,)), money_market_funds(days, (spec,))
    pd.testing.assert_frame_equal(a.returns, b.returns)
    assert a.returns.loc[:"2004-01-01", "990009"].isna().all()
    assert a.returns.loc["2004-01-02":, "990009"].notna().all()


def test_cash_index_grows_and_shibor_reader(tmp_path) -> None:
    days = pd.bdate_range("2015-01-01", "2016-12-31")
    idx = cash_index(days)
    assert idx.is_monotonic_increasing and idx.iloc[0] > 1.0
    path = tmp_path / "Shibor.csv"
    path.write_text("date,O/N,1M\n2017-01-03,2.209,3.3126\nbad,1,2\n2017-01-04,2.172,3.3223\n")
    s = shibor_yields(path)
    assert s.index.tolist() == [pd.Timestamp("2017-01-03"), pd.Timestamp("2017-01-04")]
    assert np.allclose(s.to_numpy(), [0.033126, 0.033223])
