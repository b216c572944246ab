"""The shared raw layout on the full real data: what an analyst would check by hand against the files."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from products.fees import RedemptionTier, SubscriptionTier
from products.sources.shared import parse_size_yi
from products.universe import BENCHMARK_NAMES, FUND_COLUMNS


def _raw_nav(shared_data: Path, code: str) -> list[dict[str, str]]:
    with open(shared_data / "cn_funds" / "nav" / f"{code}.csv", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_universe_shape(real_universe, shared_data: Path) -> None:
    n_files = len(list((shared_data / "cn_funds" / "nav").glob("*.csv")))
    funds = real_universe.funds
    assert n_files == 509
    assert len(funds) == n_files + 3
    assert list(funds.columns) == list(FUND_COLUMNS)
    assert str(real_universe.as_of) == "2026-02-13"
    assert funds[["name", "fund_type", "asset_class", "risk_level", "risk_source", "status", "min_purchase",
                  "min_sip"]].notna().all().all()
    assert funds["risk_level"].between(1, 5).all()
    assert set(funds["risk_source"]) <= {"shelf", "type_default", "stale_shelf", "measured_risk"}
    assert real_universe.unit_nav.shape == real_universe.returns.shape


def test_total_return_is_the_compounded_daily_growth(real_universe, shared_data: Path) -> None:
    rows = [r for r in _raw_nav(shared_data, "000001") if "2020-01-01" <= r["净值日期"] <= "2020-12-31"]
    expected = math.prod(1 + float(r["日增长率"]) / 100 for r in rows)
    got = (1 + real_universe.returns.loc["2020-01-01":"2020-12-31", "000001"].dropna()).prod()
    assert len(rows) == 243
    assert got == pytest.approx(expected, rel=1e-12)
    last = _raw_nav(shared_data, "000001")[-1]
    assert real_universe.unit_nav["000001"].dropna().iloc[-1] == float(last["单位净值"])


def test_dividend_day_is_classified_not_a_loss(real_universe) -> None:
    # 000001 on 2020-12-17: 单位净值 1.366 → 1.323 (−3.1%) while 日增长率 says +0.51%
    found = real_universe.issues
    hit = found[(found["code"] == "000001") & (found["date"] == pd.Timestamp("2020-12-17"))]
    assert hit["check"].tolist() == ["dividend"] and hit["severity"].iloc[0] == "info"
    assert real_universe.returns.loc["2020-12-17", "000001"] == pytest.approx(0.0051)


def test_latest_size_parsing(real_universe) -> None:
    assert parse_size_yi(["29.37亿", "5304.13万", "1.2万亿", "--", ""]).tolist()[:3] == pytest.approx(
        [29.37, 0.530413, 12000.0])
    assert parse_size_yi(["--"]).isna().all()
    assert real_universe.fund("000001")["aum_yi"] == pytest.approx(29.37)
    assert real_universe.fund("000004")["aum_yi"] == pytest.approx(0.929601)  # 9296.01万


def test_holdings_duplicates_and_over_100_percent(real_universe, shared_data: Path) -> None:
    raw = pd.read_csv(shared_data / "cn_funds" / "holdings_top10.csv.gz", engine="pyarrow",
                      dtype={"stock_code": str, "fund_code": str, "board": str})
    assert raw.duplicated(["quarter", "fund_code", "stock_code"]).sum() == 237
    same_position = raw.duplicated(["quarter", "fund_code", "stock_code", "rank_in_top10", "weight_pct_of_nav"])
    found = real_universe.issues
    assert (found["check"] == "duplicate_holding").sum() == same_position.sum() == 230
    over = found[found["check"] == "holdings_over_100"]
    assert set(over["code"]) == {"008895"}
    sums = raw.drop_duplicates().groupby(["quarter", "fund_code"])["weight_pct_of_nav"].sum()
    assert set(sums[sums > 100.5].index) == {("2020-Q4", "008895"), ("2021-Q2", "008895")}
    h = real_universe.holdings
    assert not ((h["fund_code"] == "008895") & h["quarter"].isin(["2020-Q4", "2021-Q2"])).any()
    excluded_rows = int(raw[(raw["fund_code"] == "008895") & raw["quarter"].isin(["2020-Q4", "2021-Q2"])].shape[0])
    assert len(h) == len(raw) - 230 - excluded_rows
    per_quarter = h.groupby("quarter")["fund_code"].nunique()
    assert per_quarter.min() > 5000  # all funds kept, not just the 509
    assert h["weight"].max() <= 1.0


def test_sw_industry_point_in_time(real_universe) -> None:
    ind = real_universe.stock_industry
    bank = ind[ind["stock_code"] == "000001"].sort_values("effective_date")
    latest = bank.iloc[-1]
    assert (latest["classification"], latest["sw_l1"]) == ("sw2021", "银行")
    assert isinstance(latest["sw_l2"], str) and isinstance(latest["sw_l3"], str)
    legacy = ind[ind["classification"] == "sw_legacy"]
    assert len(legacy) and legacy["sw_l1"].isna().all() and legacy["industry_code"].str.len().eq(6).all()
    sw2014 = ind[ind["classification"] == "sw2014"]
    assert sw2014["sw_l2"].isna().all() and sw2014["sw_l1"].notna().mean() > 0.9


def test_benchmarks(real_universe, shared_data: Path) -> None:
    bench = real_universe.benchmarks
    assert list(bench.columns) == list(BENCHMARK_NAMES)
    etf = pd.read_csv(shared_data / "benchmarks" / "cn_etf_prices.csv", index_col=0, parse_dates=True)
    assert bench.loc["2020-06-30", "cn_large_cap"] == etf.loc["2020-06-30", "510300.SH"]
    idx = pd.read_csv(shared_data / "benchmarks" / "cn_index" / "000300.XSHG.csv", index_col="date",
                      parse_dates=True)["close"]
    ratio = bench.loc["2015-06-30", "cn_large_cap"] / bench.loc["2010-06-30", "cn_large_cap"]
    assert ratio == pytest.approx(idx.loc["2015-06-30"] / idx.loc["2010-06-30"], rel=1e-12)
    assert bench["cash"].is_monotonic_increasing and bench["cash"].notna().all()


def test_shelf_fees_and_risk_where_codes_match(real_universe) -> None:
    fund = real_universe.fund("000001")  # zs_fee.csv: 中高风险, 定投起点 300
    assert (fund["risk_level"], fund["risk_source"], fund["min_sip"]) == (4, "shelf", 300.0)
    schedule = real_universe.fees.schedules[real_universe.code_index["000001"]]
    assert schedule.subscription == (SubscriptionTier(1_000_000, 0.018), SubscriptionTier(5_000_000, 0.015),
                                     SubscriptionTier(math.inf, 0.012))
    assert schedule.redemption == (RedemptionTier(math.inf, 0.005),)
    other = real_universe.fund("000003")
    assert other["risk_source"] == "type_default" and other["risk_level"] == 3  # convertible default


def test_missing_profiles_are_inferred_and_reported(real_universe) -> None:
    found = real_universe.issues
    missing = set(found.loc[found["check"] == "profile_missing", "code"])
    assert missing == {"008528", "022368", "519771"}
    assert real_universe.fund("008528")["name"].startswith("华泰柏瑞质量成长混合")
    assert real_universe.fund("022368")["risk_source"] == "type_default"
    assert real_universe.returns["022368"].notna().any()


def test_share_classes_and_siblings(real_universe) -> None:
    a, c = real_universe.fund("000003"), real_universe.fund("000004")
    assert (a["share_class"], c["share_class"]) == ("A", "C")
    assert a["sibling_codes"] == "000004" and c["sibling_codes"] == "000003"
    has_siblings = real_universe.funds["sibling_codes"] != ""
    assert 50 < has_siblings.sum() < len(real_universe.funds)


def test_money_market_funds_exist_and_accrue(real_universe) -> None:
    funds = real_universe.funds
    cash = funds.index[funds["fund_type"] == "money_market"]
    assert len(cash) == 3 and (funds.loc[cash, "risk_level"] == 1).all()
    r = real_universe.returns.loc["2024-01-01":"2024-12-31", cash]
    annual = (1 + r).prod() - 1
    assert np.all((annual > 0.01) & (annual < 0.03))
