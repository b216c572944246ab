"""Benchmark text parsing and each fund's benchmark return series."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from products.benchmark import (
    DEFAULT_BENCHMARK_OF_TYPE,
    STYLES,
    benchmark_weights,
    fund_benchmark_returns,
    parse_benchmark,
    parse_coverage,
    style_of_index,
    style_returns,
)
from products.taxonomy import FundType, currency_of_fund


@pytest.mark.parametrize(("text", "fund_type", "weights", "constant", "source"), [
    ("沪深300指数收益率×80%+中债综合指数收益率×20%", "mixed_equity", {"cn_large_cap": 0.8, "cn_bond": 0.2}, 0,
     "approximated"),  # 中债综合 ≈ 10年国债
    ("中证500指数收益率*95%+银行活期存款利率(税后)*5%", "index", {"cn_mid_small_cap": 0.95, "deposit_demand": 0.05},
     0, "parsed"),
    ("人民币计价的纳斯达克100总收益指数收益率", "qdii_equity", {"us_tech": 1.0}, 0, "parsed"),
    ("上海黄金交易所Au99.99现货实盘合约收盘价收益率", "gold", {"gold": 1.0}, 0, "parsed"),
    ("沪深300指数收益率×95%＋银行活期存款利率（税后）×5%", "index", {"cn_large_cap": 0.95, "deposit_demand": 0.05},
     0, "parsed"),
    ("50%×沪深300指数＋50%×中证全债指数", "mixed_balanced", {"cn_large_cap": 0.5, "cn_bond": 0.5}, 0,
     "approximated"),
    ("60%沪深300指数+40%上证10年期国债指数", "mixed_flexible", {"cn_large_cap": 0.6, "cn_bond": 0.4}, 0, "parsed"),
    ("标普500指数收益率（使用估值汇率折算）×95%+活期存款利率（税后）×5%", "qdii_equity",
     {"us_equity": 0.95, "deposit_demand": 0.05}, 0, "parsed"),
    ("经人民币汇率调整的恒生指数收益率×95%+人民币活期存款税后利率×5%", "qdii_equity",
     {"hk_equity": 0.95, "deposit_demand": 0.05}, 0, "parsed"),
    ("经人民币汇率调整的德国DAX指数（DAX Index）收益率×95%＋人民币活期存款税后利率×5%", "qdii_equity",
     {"de_equity": 0.95, "deposit_demand": 0.05}, 0, "parsed"),
    ("上证50指数收益率×95%+银行活期存款利率(税后)×5%", "index", {"cn_sse50": 0.95, "deposit_demand": 0.05}, 0,
     "parsed"),
    ("MSCI中国A股指数收益率*95%+银行活期存款利率（税后）*5%", "index",
     {"cn_large_cap": 0.95, "deposit_demand": 0.05}, 0, "approximated"),
    ("中信标普可转债指数收益率×70%＋中证综合债券指数收益率×20%＋上证红利指数×10%", "convertible",
     {"cn_bond": 0.55, "cn_large_cap": 0.45}, 0, "approximated"),  # 转债 ≈ 50/50; 上证红利 ≈ 沪深300
    ("中证医药卫生指数收益率×80%＋中债综合指数收益率×20%", "equity", {"cn_large_cap": 0.8, "cn_bond": 0.2}, 0,
     "approximated"),
    ("三年期银行定期存款利率（税后）+1.5%", "bond", {"deposit_3y": 1.0}, 0.015, "parsed"),
    ("一年期定期存款税后利率+1.2%", "bond", {"deposit_1y": 1.0}, 0.012, "parsed"),
    ("95%×沪深300指数收益率+1.5%（指年收益率，评价时按期间折算）", "enhanced_index",
     {"cn_large_cap": 0.95, "cash": 0.05}, 0.015, "parsed"),
    ("年化收益率6%", "fof", {}, 0.06, "parsed"),
    ("深证100价格指数收益率X95%+活期存款利率(税后)X5%", "index", {"cn_large_cap": 0.95, "deposit_demand": 0.05},
     0, "approximated"),
    ("中证360互联网+大数据100指数收益率×95%＋商业银行税后活期存款利率×5%", "index",
     {"cn_large_cap": 0.95, "deposit_demand": 0.05}, 0, "approximated"),
    ("40%×道琼斯互联网指数+45%×中证海外国互联网指数+15×中证全指互联网软件与服务指数", "qdii_equity",
     {"us_equity": 1.0}, 0, "approximated"),
    ("创业板指数收益率×95%+银行活期存款利率(税后)×5%", "index", {"cn_mid_small_cap": 0.95, "deposit_demand": 0.05},
     0, "approximated"),
    ("人民币计价的MSCI美国REIT净总收益指数", "qdii_other", {"us_equity": 1.0}, 0, "approximated"),
    ("标普中国债券指数", "bond", {"cn_bond": 1.0}, 0, "approximated"),
])
def test_parse_published_texts(text, fund_type, weights, constant, source) -> None:
    spec = parse_benchmark(text, fund_type)
    assert spec.source == source
    assert spec.weights == pytest.approx(weights)
    assert spec.constant == pytest.approx(constant)
    # every substitution is labelled, naming what replaced what, in English and Chinese
    assert len(spec.approximations) == sum(not t.exact for t in spec.terms)
    for note, term in zip(spec.approximations, [t for t in spec.terms if not t.exact], strict=True):
        assert note["index"] == term.name and term.name in note["en"] and "≈" in note["en"]
        assert "近似" in note["zh"]


def test_series_the_universe_lacks_or_ends_early_are_substituted_and_said(real_universe, demo_universe) -> None:
    from products.benchmark import benchmark_spec, resolve_spec, series_coverage

    coverage = series_coverage(real_universe)
    assert pd.notna(coverage.at["cn_sse50", "spliced_after"])  # cn_index ends 2021-05
    sse50 = resolve_spec(parse_benchmark("上证50指数收益率×95%+银行活期存款利率(税后)×5%", "index"), coverage)
    assert sse50.source == "approximated" and "then 沪深300" in sse50.approximations[0]["en"]
    styles = style_returns(real_universe)
    after = styles.index > coverage.at["cn_sse50", "end"]
    pd.testing.assert_series_equal(styles.loc[after, "cn_sse50"], styles.loc[after, "cn_large_cap"],
                                   check_names=False)
    # the demo has no Hang Seng series: its Hang Seng leg is carried by 沪深300, and the spec says so
    demo = resolve_spec(parse_benchmark("恒生指数收益率×95%+银行活期存款利率(税后)×5%", "qdii_equity"),
                        series_coverage(demo_universe))
    assert demo.weights == pytest.approx({"cn_large_cap": 0.95, "deposit_demand": 0.05})
    assert "not in the data" in demo.approximations[0]["en"]
    assert benchmark_spec(real_universe, "000614").approximations[0]["en"].endswith("not included")  # DAX in EUR


def test_deposit_legs_earn_the_deposit_rate_not_the_money_market_yield(real_universe) -> None:
    styles = style_returns(real_universe)
    year = styles.loc["2019"]
    demand = (1 + year["deposit_demand"]).prod() - 1
    money = (1 + year["cash"]).prod() - 1
    assert demand == pytest.approx(0.0035, abs=2e-4) and money > 0.02


def test_foreign_legs_are_in_the_fund_currency(real_universe) -> None:
    """A yuan fund on the Hang Seng earns the index times the USD/CNY move; its USD class the index alone."""
    bench = fund_benchmark_returns(real_universe)
    styles = style_returns(real_universe)
    yuan, dollar = "000071", "000075"  # 华夏恒生ETF联接A and its 美元汇 class, same published benchmark
    window = slice("2023-01-01", "2024-12-31")
    hk, fx, dep = styles.loc[window, "hk_equity"], styles.loc[window, "usd_cny"], styles.loc[window, "deposit_demand"]
    expected_cny = 0.95 * ((1 + hk) * (1 + fx) - 1) + 0.05 * dep
    pd.testing.assert_series_equal(bench.loc[window, yuan], expected_cny, check_names=False, rtol=1e-12)
    pd.testing.assert_series_equal(bench.loc[window, dollar], 0.95 * hk + 0.05 * dep, check_names=False, rtol=1e-12)


@pytest.mark.parametrize("text", ["本基金暂不设业绩比较基准", "", None, float("nan"),
                                  "S×沪深300指数＋（100%-S）×中证全债指数"])
def test_unreadable_texts_take_the_type_default(text) -> None:
    spec = parse_benchmark(text, "mixed_equity")
    assert spec.source == "type_default"
    assert spec.weights == DEFAULT_BENCHMARK_OF_TYPE[FundType.MIXED_EQUITY]


def test_every_type_default_sums_to_one_over_known_styles() -> None:
    assert set(DEFAULT_BENCHMARK_OF_TYPE) == set(FundType)
    for weights in DEFAULT_BENCHMARK_OF_TYPE.values():
        assert set(weights) <= set(STYLES)
        assert sum(weights.values()) == pytest.approx(1.0)


def test_keyword_precedence() -> None:
    assert style_of_index("标普中国债券指数") == ("cn_bond", True)
    assert style_of_index("中证全指金融地产指数", "index") == ("cn_large_cap", False)  # 金融 is not gold
    assert style_of_index("罗素1000成长指数", "qdii_equity") == ("us_equity", True)
    assert style_of_index("某主题指数", "qdii_equity") == ("us_equity", False)
    assert style_of_index("中证银行指数", "index") == ("cn_large_cap", False)  # 银行 alone is not a deposit


def _toy_universe(demo_universe, texts: dict[str, str]):
    from dataclasses import replace

    funds = demo_universe.funds.copy()
    for code, text in texts.items():
        funds.loc[code, "benchmark_text"] = text
    return replace(demo_universe, funds=funds)


def test_fund_benchmark_returns_are_daily_rebalanced_weights(demo_universe) -> None:
    codes = demo_universe.funds.index[:3]
    uni = _toy_universe(demo_universe, {codes[0]: "沪深300指数收益率×80%+中债综合指数收益率×20%",
                                        codes[1]: "货币市场基金收益率+1.5%",
                                        codes[2]: "人民币计价的纳斯达克100总收益指数收益率"})
    bench = fund_benchmark_returns(uni)
    styles = style_returns(uni)
    assert list(bench.columns) == list(uni.returns.columns) and bench.index.equals(uni.returns.index)
    pd.testing.assert_series_equal(bench[codes[0]], 0.8 * styles["cn_large_cap"] + 0.2 * styles["cn_bond"],
                                   check_names=False, rtol=1e-12)
    expected = styles["cash"] + (1.015 ** (1 / 252) - 1)
    pd.testing.assert_series_equal(bench[codes[1]], expected, check_names=False, rtol=1e-12)
    pd.testing.assert_series_equal(bench[codes[2]], styles["us_tech"], check_names=False, rtol=1e-12)
    weights = benchmark_weights(uni)
    assert weights.loc[codes[0], "cn_large_cap"] == pytest.approx(0.8)


def test_style_returns_are_nan_outside_each_series(demo_universe) -> None:
    from dataclasses import replace

    levels = demo_universe.benchmarks.copy()
    cut = levels.index[100]
    levels.loc[:cut, "gold"] = np.nan
    uni = replace(demo_universe, benchmarks=levels)
    styles = style_returns(uni)
    assert styles["gold"].loc[:cut].isna().all()
    assert styles["gold"].loc[cut:].iloc[2:].notna().all()
    gold_fund = uni.funds.index[uni.funds["fund_type"] == "gold"][0]
    bench = fund_benchmark_returns(uni)
    assert bench[gold_fund].loc[:cut].isna().all()


def test_overseas_styles_sit_on_the_qdii_nav_calendar(real_universe, demo_universe) -> None:
    """A QDII NAV dated T prices the overseas close of T: its benchmark must be aligned to that day."""
    from products.benchmark import _raw_style_returns, style_lags

    assert style_lags(demo_universe) == {"us_equity": 0, "us_tech": 0}  # the factor model has no lag
    bench = fund_benchmark_returns(real_universe)
    raw = _raw_style_returns(real_universe)
    weights = benchmark_weights(real_universe)
    funds = real_universe.funds
    qdii = funds.index[(funds["fund_type"] == "qdii_equity") & (currency_of_fund(funds) == "USD")]  # no FX leg
    on_us = [c for c in qdii if weights.loc[c, ["us_equity", "us_tech"]].sum() >= 0.9]
    assert len(on_us) >= 5
    returns = real_universe.returns[on_us]
    chosen = returns.corrwith(bench[on_us]).median()
    for lag in (0, 1):
        alternative = pd.DataFrame({c: sum(weights.at[c, s] * raw[s].shift(-lag) for s in STYLES
                                           if weights.at[c, s]) for c in on_us})
        assert chosen >= returns.corrwith(alternative).median() - 1e-12


def test_parse_coverage_on_the_real_profiles(real_universe) -> None:
    """Of the 506 real profiles, all but the symbolic and 'no benchmark' ones are parsed."""
    funds = real_universe.funds
    with_text = funds[funds["benchmark_text"].fillna("").str.len() > 0]
    assert len(with_text) >= 500
    coverage = parse_coverage(real_universe)
    assert coverage.sum() == len(funds)
    specs = [parse_benchmark(t, ft) for t, ft in zip(with_text["benchmark_text"], with_text["fund_type"],
                                                     strict=True)]
    read = sum(s.source != "type_default" for s in specs)
    exact = sum(s.source == "parsed" for s in specs)
    assert read >= len(with_text) - 3
    assert exact >= 100  # the rest name an index the data has no series for (mostly bond indices), and say so
    assert all(bool(s.approximations) == (s.source != "parsed") for s in specs)
    for spec in specs:
        if spec.weights:
            assert sum(spec.weights.values()) == pytest.approx(1.0)
