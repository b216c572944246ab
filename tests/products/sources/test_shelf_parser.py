"""The bank shelf table parser: tiers exactly as printed, back-end classes, bad rows reported."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from products.errors import DataError
from products.fees import RedemptionTier, SubscriptionTier
from products.sources.shelf import TierError, parse_bound, parse_fee_value, parse_shelf

INF = math.inf


@pytest.fixture(scope="module")
def shelf(shared_data: Path):
    return parse_shelf(shared_data / "cn_shelf_2017" / "zs_fee.csv")


def test_050001_tiers_exactly_as_in_the_file(shelf) -> None:
    # 5万以下 1.80% · 5万(含)-1000万 1.50% · 1000万及以上 1000元 ; 1年以内 0.80% · 1年(含)-2年 0.40% ·
    # 2年-3年 0.20% · 3年及以上 0.00%
    entry = shelf.entries["050001"]
    assert entry.subscription == (SubscriptionTier(50_000, 0.018), SubscriptionTier(10_000_000, 0.015),
                                  SubscriptionTier(INF, 0.0, 1000.0))
    assert entry.redemption == (RedemptionTier(365, 0.008), RedemptionTier(730, 0.004),
                                RedemptionTier(1095, 0.002), RedemptionTier(INF, 0.0))
    assert entry.risk_level == 4  # 中高风险
    assert entry.min_sip == 100.0
    assert not entry.back_end


def test_back_end_class_is_marked_and_not_purchasable(shelf) -> None:
    entry = shelf.entries["051001"]  # 博时价值增长混合后端: subscription tiered by holding period
    assert entry.back_end
    assert entry.subscription is None
    assert "051001" not in shelf.purchasable()
    assert "050001" in shelf.purchasable()


def test_flat_fee_money_fund_and_risk_text(shelf) -> None:
    assert shelf.entries["050002"].subscription == (SubscriptionTier(10_000_000, 0.012),
                                                    SubscriptionTier(INF, 0.0, 1000.0))
    assert shelf.entries["050002"].risk_level == 5  # 高风险
    money = shelf.entries["050003"]
    assert money.subscription == (SubscriptionTier(INF, 0.0),)
    assert money.redemption == (RedemptionTier(INF, 0.0),)
    assert money.risk_level == 2  # 中低风险 in this bank's list


def test_subscription_tiers_prefer_shen_gou_over_ren_gou(shelf) -> None:
    # 002181 lists unmarked tiers and tiers marked （申购）; the explicit 申购 ones are used
    assert shelf.entries["002181"].subscription == (
        SubscriptionTier(1_000_000, 0.015), SubscriptionTier(3_000_000, 0.012),
        SubscriptionTier(5_000_000, 0.008), SubscriptionTier(INF, 0.0, 1000.0))


def test_schedule_applies_shelf_tiers_over_type_default(shelf) -> None:
    schedule = shelf.entries["050001"].schedule("mixed_equity", "")
    assert schedule.subscription_fee(100_000, discount=1.0) == pytest.approx(100_000 - 100_000 / 1.015)
    assert schedule.subscription_fee(20_000_000, discount=0.1) == 1000.0  # flat fees are not discounted
    assert schedule.redemption_fee(10_000, 3) == pytest.approx(150.0)  # 1.5% floor under 7 days
    assert schedule.redemption_fee(10_000, 400) == pytest.approx(40.0)
    assert schedule.management_fee > 0


def test_unparseable_rows_are_reported_not_raised(shelf) -> None:
    issues = shelf.issues
    assert set(issues.columns) >= {"code", "row", "check", "severity", "message"}
    assert (issues["check"] == "unparsed_fee").all()
    halfyear = issues[issues["code"] == "160619"]
    assert len(halfyear) == 1 and "半年" in halfyear["message"].iloc[0]
    assert shelf.entries["160619"].redemption is None  # falls back to the default at schedule time
    assert shelf.entries["160619"].schedule("bond", "").redemption


@pytest.mark.parametrize(("text", "expected"), [
    ("5万以下", (0, "amount")), ("5万(含)-1000万", (50_000, "amount")), ("1000万及以上", (10_000_000, "amount")),
    ("M<100万", (0, "amount")), ("100万≤M<300万", (1_000_000, "amount")), ("M≥500万", (5_000_000, "amount")),
    ("500万≤M认购", (5_000_000, "amount")), ("M＜100万（申购）", (0, "amount")),
    ("50万元以上（含50万元）-200万元以下认购", (500_000, "amount")), ("100万（含）-300万元", (1_000_000, "amount")),
    ("1年以内", (0, "days")), ("1年(含)-2年", (365, "days")), ("7-30日", (7, "days")), ("Y＜7天", (0, "days")),
    ("7天《Y<30天", (7, "days")), ("Y》2年", (730, "days")), ("6个月(含)-1年", (182, "days")),
    ("730（天）及以上", (730, "days")), ("365（含）天--730天", (365, "days")), ("30天(含)及以上", (30, "days")),
])
def test_parse_bound(text: str, expected: tuple[float, str]) -> None:
    assert parse_bound(text) == expected


@pytest.mark.parametrize("text", ["半年", "保本到期日", "持有一个开放周期"])
def test_parse_bound_rejects_text_without_a_bound(text: str) -> None:
    with pytest.raises(TierError):
        parse_bound(text)


@pytest.mark.parametrize(("text", "expected"), [
    ("1.80%", (0.018, None)), ("1000元", (0.0, 1000.0)), ("1,000元/笔", (0.0, 1000.0)), ("每笔1000元", (0.0, 1000.0)),
    ("0.012", (0.012, None)), ("1.2", (0.012, None)), ("不收费", (0.0, None)), ("0.60%（申购）", (0.006, None)),
])
def test_parse_fee_value(text: str, expected: tuple[float, float | None]) -> None:
    rate, flat = parse_fee_value(text)
    assert rate == pytest.approx(expected[0]) and flat == expected[1]


def test_garbage_rows_reported_with_code_and_row(tmp_path: Path) -> None:
    path = tmp_path / "zs_fee.csv"
    path.write_text(
        "产品代码,产品简称,产品类型,风险等级,定期定额起点（单位：元）,认申购费率,买费率,赎回费率,卖费率,热线\n"
        "111111,好基金A,混合基金,中风险,100,100万以下,1.50%,1年以内,0.50%,\n"
        ",,,,,100万及以上,1000元,1年及以上,0.00%,\n"
        "222222,坏基金,股票型基金,很高风险,暂无,???,abc,永远,xyz,\n"
        "333333,乱序基金,债券型基金,低风险,10,100万及以上,1000元,,0.10%,\n"
        ",,,,,100万以下,0.80%,,,\n", encoding="utf-8")
    table = parse_shelf(path)
    good = table.entries["111111"]
    assert good.subscription == (SubscriptionTier(1_000_000, 0.015), SubscriptionTier(INF, 0.0, 1000.0))
    assert good.redemption == (RedemptionTier(365, 0.005), RedemptionTier(INF, 0.0))
    bad = table.issues[table.issues["code"] == "222222"]
    assert set(bad["row"]) == {4}  # CSV record 4 (header = 1)
    assert bad["message"].str.contains("很高风险").any()
    assert table.entries["222222"].risk_level is None and table.entries["222222"].subscription is None
    unordered = table.issues[table.issues["code"] == "333333"]
    assert len(unordered) == 1 and "do not ascend" in unordered["message"].iloc[0]
    assert table.entries["333333"].risk_level == 1 and table.entries["333333"].min_sip == 10.0


def test_too_few_columns_is_a_data_error(tmp_path: Path) -> None:
    path = tmp_path / "zs_fee.csv"
    path.write_text("产品代码,产品简称\n000001,x\n", encoding="utf-8")
    with pytest.raises(DataError, match="columns"):
        parse_shelf(path)
