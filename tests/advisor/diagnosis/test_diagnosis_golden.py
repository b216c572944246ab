"""Golden customers whose problems a person can see get exactly those findings (and no unrelated ones)."""

from __future__ import annotations

import numpy as np
import pytest

from advisor.diagnosis import diagnose_customer
from tests.advisor.diagnosis.diagnosis_helpers import AS_OF, model_holdings, profile

SERIOUS = ("warning", "critical")


def serious(report: dict) -> dict[str, str]:
    return {f["rule"]: f["severity"] for f in report["findings"] if f["severity"] in SERIOUS}


def fund_where(ctx, mask: np.ndarray) -> int:
    """The best-rated fund (by stars, then code) among `mask`, so weak-fund findings stay out of the way."""
    candidates = np.flatnonzero(mask)
    stars = np.nan_to_num(ctx.stars[candidates], nan=0.0)
    return int(candidates[np.lexsort((candidates, -stars))[0]])


@pytest.mark.parametrize("level", [1, 2, 3, 4, 5])
def test_the_model_portfolio_itself_is_healthy(ctx, level):
    payload = {**profile(f"C{level}"), "holdings": model_holdings(ctx, level, 200_000)}
    report = diagnose_customer(ctx, payload, as_of=AS_OF)
    assert serious(report) == {}
    assert report["health_score"] >= 90
    assert report["checks"]["drift_total"]["value"] == pytest.approx(0.0, abs=0.02)


def test_c2_holding_an_r4_fund_is_a_risk_mismatch_naming_the_fund(ctx):
    r4 = fund_where(ctx, ctx.risk_level == 4)
    lots = [*model_holdings(ctx, 2, 180_000),
            {"code": str(ctx.codes[r4]), "amount": 20_000, "purchase_date": "2025-06-01"}]
    report = diagnose_customer(ctx, {**profile("C2"), "holdings": lots}, as_of=AS_OF)
    found = serious(report)
    assert found["above_level"] == "warning"  # 10% of fund assets: below the critical 20%
    assert set(found) <= {"above_level", "portfolio_risk", "volatility_gap", "drift_class", "drift_total"}
    finding = next(f for f in report["findings"] if f["rule"] == "above_level")
    assert [f["code"] for f in finding["funds"]] == [str(ctx.codes[r4])]
    assert str(ctx.names[r4]) in finding["explanation_zh"] and str(ctx.codes[r4]) in finding["explanation_en"]
    assert "R4" in finding["explanation_zh"]
    assert report["actions"][0]["id"] == "reduce_above_level"
    assert report["actions"][0]["kind"] == "rebalance"


def test_everything_in_one_fund_is_a_concentration_finding(ctx):
    equity = fund_where(ctx, (ctx.risk_level == 4) & (ctx.asset_class == 2) & ~ctx.is_c_class)
    lots = [{"code": str(ctx.codes[equity]), "amount": 200_000, "purchase_date": "2024-03-01"}]
    report = diagnose_customer(ctx, {**profile("C4"), "holdings": lots}, as_of=AS_OF)
    found = serious(report)
    assert found["top_fund"] == "critical"
    # a single fund is not also a company / manager / HHI finding: those need two funds
    assert not {"hhi", "company", "manager", "duplicates", "overlap"} & set(found)
    assert not {"above_level", "portfolio_risk", "assessment_expired", "liquidity", "no_insurance"} & set(found)
    top = next(f for f in report["findings"] if f["rule"] == "top_fund")
    assert top["funds"][0]["code"] == str(ctx.codes[equity])
    assert report["checks"]["top_fund"]["value"] == pytest.approx(1.0)


def test_an_a_c_pair_is_a_near_duplicate(ctx):
    a = fund_where(ctx, (ctx.risk_level <= 3) & ~ctx.is_c_class & (ctx.asset_class == 2) & np.isin(
        np.arange(ctx.n_funds), ctx.a_sibling[ctx.is_c_class]))
    c = int(np.flatnonzero(ctx.a_sibling == a)[0])
    lots = [*model_holdings(ctx, 3, 180_000),
            {"code": str(ctx.codes[a]), "amount": 10_000, "purchase_date": "2025-06-01"},
            {"code": str(ctx.codes[c]), "amount": 10_000, "purchase_date": "2026-01-10"}]
    report = diagnose_customer(ctx, {**profile("C3"), "holdings": lots}, as_of=AS_OF)
    found = serious(report)
    assert found == {"duplicates": "warning"}
    finding = next(f for f in report["findings"] if f["rule"] == "duplicates")
    assert {f["code"] for f in finding["funds"]} == {str(ctx.codes[a]), str(ctx.codes[c])}
    assert "同一基金的不同份额类别" in finding["explanation_zh"]
    assert report["checks"]["duplicates"]["value"] == 1
    assert report["actions"][0]["kind"] == "fund_swap"


def test_six_months_of_expenses_in_equity_and_no_cash_is_a_liquidity_alarm(ctx):
    codes = ctx.codes.tolist()
    lots = [lot for lot in model_holdings(ctx, 4, 60_000) if not ctx.money_market[codes.index(lot["code"])]]
    payload = {**profile("C4", cash=0, monthly_expenses=10_000), "holdings": lots}
    report = diagnose_customer(ctx, payload, as_of=AS_OF)
    found = serious(report)
    assert found["liquidity"] == "critical"
    assert report["checks"]["liquidity"]["value"] == 0.0
    assert set(found) <= {"liquidity", "drift_class", "drift_total"}
    assert report["actions"][0]["id"] == "build_cash_reserve"
    assert report["actions"][0]["kind"] == "proposal"
    assert "30000" in report["actions"][0]["command"]  # 3 months × ¥10,000 shortfall


def test_an_expired_assessment_comes_first_and_caps_the_score(ctx):
    payload = {**profile("C3", assessment_expires_on="2025-12-31"), "holdings": model_holdings(ctx, 3, 200_000)}
    report = diagnose_customer(ctx, payload, as_of=AS_OF)
    assert serious(report) == {"assessment_expired": "critical"}
    assert report["health_score"] <= 59
    assert report["actions"][0]["id"] == "reassess"


def test_lowest_category_may_hold_r1_only(ctx):
    r2 = fund_where(ctx, ctx.risk_level == 2)
    money = fund_where(ctx, ctx.money_market)
    lots = [{"code": str(ctx.codes[money]), "amount": 50_000, "purchase_date": "2025-01-01"},
            {"code": str(ctx.codes[r2]), "amount": 50_000, "purchase_date": "2025-01-01"}]
    report = diagnose_customer(ctx, {**profile("C1", lowest_category=True), "holdings": lots}, as_of=AS_OF)
    assert serious(report)["above_level"] == "critical"
    assert "R1" in next(f for f in report["findings"] if f["rule"] == "above_level")["explanation_en"]


def test_declared_deposits_count_as_an_emergency_reserve(ctx):
    """The same customer as the liquidity alarm above, but with ¥40,000 in bank deposits declared: four
    months of expenses are covered, so there is no liquidity finding and no reserve action."""
    codes = ctx.codes.tolist()
    lots = [lot for lot in model_holdings(ctx, 4, 60_000) if not ctx.money_market[codes.index(lot["code"])]]
    payload = {**profile("C4", cash=0, monthly_expenses=10_000, deposits=40_000), "holdings": lots}
    report = diagnose_customer(ctx, payload, as_of=AS_OF)
    assert "liquidity" not in serious(report)
    assert report["checks"]["liquidity"]["value"] == pytest.approx(4.0)
    assert all(a["id"] != "build_cash_reserve" for a in report["actions"])
    # half of it declared: still short, and the explanation counts the deposits it saw
    short = diagnose_customer(ctx, {**payload, "deposits": 15_000}, as_of=AS_OF)
    finding = next(f for f in short["findings"] if f["rule"] == "liquidity")
    assert finding["severity"] == "warning" and "存款" in finding["explanation_zh"]
    assert "15000" in next(a for a in short["actions"] if a["id"] == "build_cash_reserve")["command"]
