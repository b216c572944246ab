"""A small synthetic universe for the research tests: known styles, holdings with planted faults."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from products.fees import FeeTable, default_schedule
from products.universe import CORE_BENCHMARKS, Universe

STYLE_VOL = {"cn_large_cap": 0.015, "cn_mid_small_cap": 0.018, "cn_bond": 0.002, "gold": 0.01,
             "us_equity": 0.012, "us_tech": 0.016, "cash": 0.0}


def make_universe(seed: int = 7, years: int = 6) -> Universe:
    """30 funds in three peer groups over `years` of business days, plus holdings for two quarters.

    * 100001–100012 equity (active_equity): large-cap loadings with increasing alpha; 100012 is 1 year old.
    * 200001–200010 bond: bond + cash, increasing noise (200001 the calmest).
    * 300001–300008 index: 300001 = exactly 60% large cap + 40% bonds; 300008 switches from large
      caps to gold half-way (style drift).
    * 100001 A / 100002 C are siblings; only 100001 discloses holdings.
    """
    rng = np.random.default_rng(seed)
    dates = pd.bdate_range(end="2024-12-31", periods=252 * years)
    n = len(dates)
    styles = pd.DataFrame({k: rng.normal(0.0002, v, n) if v else np.full(n, 0.02 / 252)
                           for k, v in STYLE_VOL.items()}, index=dates)
    styles["cn_mid_small_cap"] = 0.7 * styles["cn_large_cap"] + 0.3 * styles["cn_mid_small_cap"]
    funds, returns = [], {}
    for i in range(12):
        code = f"1000{i + 1:02d}"
        r = 0.9 * styles["cn_large_cap"] + 0.1 * styles["cn_mid_small_cap"] + i * 0.0002 + rng.normal(0, 0.002, n)
        if code == "100012":
            r[: n - 252] = np.nan
        returns[code] = r
        funds.append((code, f"测试股票{i + 1}{'A' if i == 0 else 'C' if i == 1 else ''}", "equity",
                      "100002" if i == 0 else "100001" if i == 1 else ""))
    for i in range(10):
        code = f"2000{i + 1:02d}"
        returns[code] = 0.6 * styles["cn_bond"] + 0.4 * styles["cash"] + rng.normal(0, 0.0002 * (i + 1), n)
        funds.append((code, f"测试债券{i + 1}", "bond", ""))
    for i in range(8):
        code = f"3000{i + 1:02d}"
        r = styles["cn_large_cap"] + rng.normal(0, 0.002, n)
        if i == 0:
            r = 0.6 * styles["cn_large_cap"] + 0.4 * styles["cn_bond"]
        if i == 7:
            r = pd.Series(np.where(np.arange(n) < n - 378, styles["cn_large_cap"], styles["gold"]), index=dates)
        returns[code] = r
        funds.append((code, f"测试指数{i + 1}", "index", ""))
    ret = pd.DataFrame(returns, index=dates)
    table = pd.DataFrame(funds, columns=["code", "name", "fund_type", "sibling_codes"]).set_index("code")
    table["share_class"] = ["A" if c == "100001" else "C" if c == "100002" else "" for c in table.index]
    table["asset_class"] = table["fund_type"].map({"equity": "cn_equity", "bond": "bond", "index": "cn_equity"})
    table["inception"] = ret.apply(lambda s: s.first_valid_index())
    table["manager_since"] = pd.NaT
    table.loc["100003", "manager_since"] = pd.Timestamp("2015-01-01")
    table.loc["100004", "manager_since"] = pd.Timestamp("2024-06-01")
    table["aum_yi"] = np.linspace(0.5, 150, len(table))
    table["benchmark_text"] = ""
    table["full_name"] = table["name"]
    table["company"] = "测试基金"
    table["managers"] = "张三"
    table["risk_level"] = 3
    table["risk_source"] = "type_default"
    table["status"] = "open"
    schedules = [default_schedule(t, c) for t, c in zip(table["fund_type"], table["share_class"], strict=True)]
    bench = (1 + styles).cumprod()
    assert list(bench.columns) == list(CORE_BENCHMARKS)
    return Universe(as_of=date(2024, 12, 31), funds=table, fees=FeeTable.from_schedules(schedules), returns=ret,
                    holdings=make_holdings(), stock_industry=make_industries(), benchmarks=bench, source="test")


def make_holdings() -> pd.DataFrame:
    rows = []

    def add(quarter: str, fund: str, stocks: list[tuple[str, str, str, float]], equity_share: float) -> None:
        for rank, (code, name, market, weight) in enumerate(stocks, start=1):
            rows.append((quarter, fund, code, name, market, weight, equity_share, rank))

    bank = [("600001", "甲银行", "A股", 0.10), ("600002", "乙银行", "A股", 0.08), ("00700", "腾讯控股", "港股", 0.05)]
    for q in ("2024-Q3", "2024-Q4"):
        add(q, "100001", bank, 0.90)
        add(q, "100003", [("600001", "甲银行", "A股", 0.05), ("300750", "宁德时代", "A股", 0.05)], 0.60)
        add(q, "100004", [("AAPL", "苹果", "其他", 0.20), ("688981", "中芯国际", "A股", 0.10)], 0.50)
        add(q, "999999", [("600001", "甲银行", "A股", 0.30)], 0.95)  # a fund outside the universe
    add("2024-Q4", "100005", [("600001", "甲银行", "A股", 0.70), ("600002", "乙银行", "A股", 0.60)], 0.95)  # > 100%
    add("2024-Q4", "100006", [("600002", "乙银行", "A股", 0.10)], 0.30)
    add("2024-Q4", "100006", [("600002", "乙银行", "A股", 0.10)], 0.30)  # the same row again: a duplicate
    return pd.DataFrame(rows, columns=["quarter", "fund_code", "stock_code", "stock_name", "market", "weight",
                                       "equity_share", "rank"])


def make_industries() -> pd.DataFrame:
    return pd.DataFrame([
        ("600001", pd.Timestamp("2010-01-01"), "银行"),
        ("600001", pd.Timestamp("2024-10-15"), "非银金融"),  # reclassified during Q4
        ("600002", pd.Timestamp("2010-01-01"), "银行"),
        ("300750", pd.Timestamp("2018-06-11"), "电力设备"),
        ("688981", pd.Timestamp("2020-07-16"), "电子"),
    ], columns=["stock_code", "effective_date", "sw_l1"]).assign(sw_l2=None, sw_l3=None)


@pytest.fixture(scope="session")
def synthetic_universe() -> Universe:
    return make_universe()
