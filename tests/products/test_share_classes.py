"""US-dollar share classes: which yuan fund they belong to, and their returns in yuan."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from products.share_classes import returns_in_currency, to_yuan, yuan_class_of
from products.taxonomy import currency_of_fund, currency_of_name


@pytest.mark.parametrize(("name", "currency"), [
    ("华夏恒生ETF联接A(美元汇)", "USD"), ("嘉实美国成长股票(QDII)美元现汇", "USD"), ("华宝油气美元(QDII-LOF)", "USD"),
    ("博时大中华亚太(QDII-美元)", "USD"), ("华夏恒生ETF联接A", "CNY"), ("嘉实美国成长股票", "CNY"),
])
def test_currency_of_the_share_class_is_read_from_its_name(name, currency) -> None:
    assert currency_of_name(name) == currency


def _with_dollar_class(demo_universe):
    """The demo with fund 900001 relabelled a US-dollar class of 900002 and a USD/CNY series."""
    funds = demo_universe.funds.copy()
    a, b = funds.index[:2]
    funds.loc[a, ["currency", "full_name", "company"]] = ["USD", "同一基金", "某公司"]
    funds.loc[b, ["currency", "full_name", "company"]] = ["CNY", "同一基金", "某公司"]
    bench = demo_universe.benchmarks.copy()
    bench["usd_cny"] = 7.0 * np.exp(np.linspace(0.0, 0.05, len(bench)))  # the yuan weakens steadily
    returns = demo_universe.returns.copy()
    returns.iloc[10:13, 0] = np.nan  # a three-day gap in the dollar class
    return replace(demo_universe, funds=funds, benchmarks=bench, returns=returns), a, b


def test_dollar_returns_in_yuan_compound_the_fx_move_including_across_gaps(demo_universe) -> None:
    universe, a, b = _with_dollar_class(demo_universe)
    assert yuan_class_of(universe.funds)[a] == b and yuan_class_of(universe.funds)[b] == ""
    yuan = returns_in_currency(universe)
    fx = universe.benchmarks["usd_cny"].reindex(universe.returns.index)
    fx_r = fx / fx.shift(1) - 1
    t = universe.returns.index[5]
    assert yuan.at[t, a] == pytest.approx((1 + universe.returns.at[t, a]) * (1 + fx_r[t]) - 1, rel=1e-12)
    after_gap = universe.returns.index[13]
    spanned = fx[after_gap] / fx[universe.returns.index[9]] - 1  # the FX move over the whole gap
    assert yuan.at[after_gap, a] == pytest.approx((1 + universe.returns.at[after_gap, a]) * (1 + spanned) - 1,
                                                  rel=1e-12)
    assert yuan.iloc[10:13, 0].isna().all()
    pd.testing.assert_series_equal(yuan[b], universe.returns[b])  # yuan classes untouched
    assert to_yuan(universe.returns, demo_universe) is universe.returns  # no FX series: unchanged


def test_tables_without_the_column_read_currency_from_the_name() -> None:
    funds = pd.DataFrame({"name": ["某基金A", "某基金(美元现钞)"]}, index=["1", "2"])
    assert currency_of_fund(funds).tolist() == ["CNY", "USD"]
