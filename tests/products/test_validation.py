"""Validation findings on small hand-made tables: each check fires where an analyst would expect it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from products.validation import (
    ISSUE_COLUMNS,
    ValidationParams,
    clean_holdings,
    clean_nav,
    issues_frame,
    return_repairs,
    summarize,
    unknown_codes,
    validate_universe,
)


def _nav(rows: list[tuple]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["code", "date", "unit_nav", "daily_return"])
    frame["date"] = pd.to_datetime(frame["date"], errors="coerce")
    frame["row"] = np.arange(len(frame)) + 2
    frame["source"] = "nav.csv"
    return frame


def _checks(issues: pd.DataFrame, code: str | None = None) -> list[str]:
    sub = issues if code is None else issues[issues["code"] == code]
    return sorted(sub["check"])


def test_bad_rows_are_reported_and_dropped_not_raised() -> None:
    nav = _nav([
        ("A", "2024-01-02", 1.00, 0.0),
        ("A", "not a date", 1.01, 0.01),
        ("A", "2024-01-03", -1.0, 0.01),  # non-positive NAV: unit NAV ignored, return kept
        ("A", "2024-01-04", 1.02, np.nan),  # missing return: derived from unit NAV (from 01-02)
        ("A", "2024-01-04", 1.02, 0.0),  # duplicate date: later row kept
    ])
    clean, issues = clean_nav(nav)
    assert list(issues.columns) == ISSUE_COLUMNS
    assert _checks(issues) == ["bad_date", "duplicate_date", "non_positive_nav"]
    assert issues.set_index("check").loc["bad_date", "row"] == 3
    assert issues.set_index("check").loc["non_positive_nav", "row"] == 4
    assert clean["date"].is_monotonic_increasing and len(clean) == 3
    assert np.isnan(clean["unit_nav"].iloc[1])


def test_unordered_dates_are_sorted_and_reported() -> None:
    nav = _nav([("A", "2024-01-03", 1.01, 0.01), ("A", "2024-01-02", 1.0, 0.0), ("A", "2024-01-04", 1.02, 0.0099)])
    clean, issues = clean_nav(nav)
    assert _checks(issues) == ["unordered_dates"]
    assert clean["date"].dt.day.tolist() == [2, 3, 4]


def test_missing_and_zero_returns_are_taken_from_unit_nav_when_it_rose() -> None:
    nav = _nav([("A", "2024-01-02", 1.00, 0.0), ("A", "2024-01-03", 1.01, np.nan), ("A", "2024-01-04", 1.02, 0.0)])
    clean, issues = clean_nav(nav)
    assert _checks(issues) == ["missing_return", "missing_return"]
    assert clean["daily_return"].to_numpy() == pytest.approx([0.0, 0.01, 1.02 / 1.01 - 1])


def test_dividend_is_info_and_the_adjusted_return_is_kept() -> None:
    # unit NAV falls 1.50 → 1.40 while the dividend-adjusted return says +0.2%: a distribution of ~0.103
    nav = _nav([("A", "2024-06-03", 1.50, 0.0), ("A", "2024-06-04", 1.40, 0.002),
                ("A", "2024-06-05", 1.40, 0.0)])  # flat day, 0 return, no finding
    clean, issues = clean_nav(nav)
    assert _checks(issues) == ["dividend"]
    finding = issues.iloc[0]
    assert finding["severity"] == "info" and finding["date"] == pd.Timestamp("2024-06-04")
    assert "0.1030" in finding["message"]
    assert clean["daily_return"].iloc[1] == 0.002


def _history(code: str, daily_sd: float, n: int = 80, seed: int = 0) -> list[tuple]:
    """n business days of a fund whose stated returns agree with its unit NAV (sd `daily_sd`)."""
    rng = np.random.default_rng(seed)
    rows, nav_level = [], 1.0
    for day in pd.bdate_range("2024-01-01", periods=n):
        r = round(float(rng.normal(0, daily_sd)), 4)
        nav_level *= 1 + r
        rows.append((code, day.strftime("%Y-%m-%d"), nav_level, r))
    return rows


def test_zero_after_a_gap_is_a_missing_return_whatever_its_sign() -> None:
    # a QDII-like fund moving ~1% a day: after a 4-day foreign holiday the NAV fell 1.5% with a stated 0.00
    rows = _history("Q", 0.01)
    last_nav = rows[-1][2]
    rows.append(("Q", "2024-05-01", last_nav * 0.985, 0.0))
    clean, issues = clean_nav(_nav(rows), fund_types={"Q": "qdii_equity"})
    assert _checks(issues) == ["missing_return"]
    assert clean["daily_return"].iloc[-1] == pytest.approx(-0.015)
    growth = (1 + clean["daily_return"].iloc[1:]).prod()
    assert growth == pytest.approx(clean["unit_nav"].iloc[-1] / clean["unit_nav"].iloc[0], rel=1e-9)


def test_zero_beside_a_fall_no_market_explains_is_still_a_missing_return_but_flagged() -> None:
    # a bond fund moving ~0.02% a day, stated 0.00, unit NAV −0.5%: the rule has no exception (the ratio is
    # the return, so total return stays unit-NAV growth), but the fall is flagged as a probable distribution
    rows = _history("B", 0.0002)
    last_nav = rows[-1][2]
    rows.append(("B", "2024-04-23", last_nav * 0.995, 0.0))
    clean, issues = clean_nav(_nav(rows), fund_types={"B": "bond"})
    assert _checks(issues) == ["missing_return", "zero_on_large_fall"]
    assert "probably a distribution" in issues.set_index("check").at["zero_on_large_fall", "message"]
    assert clean["daily_return"].iloc[-1] == pytest.approx(-0.005)


def test_a_non_zero_return_that_disagrees_with_the_fall_is_a_distribution() -> None:
    rows = _history("B", 0.0002)
    last_nav = rows[-1][2]
    rows.append(("B", "2024-04-23", last_nav * 0.95, 0.0003))  # paid ~5 % while the fund earned 0.03 %
    clean, issues = clean_nav(_nav(rows), fund_types={"B": "bond"})
    assert _checks(issues) == ["dividend"]
    assert clean["daily_return"].iloc[-1] == 0.0003


def test_return_repairs_count_both_kinds_per_fund() -> None:
    rows = [*_history("Q", 0.01), ("Q", "2024-05-01", 0.5, 0.001)]  # −50 % unit NAV, +0.1 % stated: paid
    rows += [*_history("R", 0.01, seed=1), ("R", "2024-05-01", 2.0, 0.0)]  # a rise with 0.00: missing
    rows += [*_history("S", 0.01, seed=2), ("S", "2024-05-01", 0.5, 0.0)]  # a −50 % fall with 0.00: missing
    _, issues = clean_nav(_nav(rows), fund_types={"Q": "equity", "R": "equity", "S": "equity"})
    table = return_repairs(issues)
    assert table.loc["Q"].tolist() == [0, 1, 0] and table.loc["R"].tolist() == [1, 0, 0]
    assert table.loc["S"].tolist() == [1, 0, 1]


def test_unit_nav_jump_gap_weekly_stale_and_implausible() -> None:
    weekly = [("W", d.strftime("%Y-%m-%d"), 1.0, 0.0) for d in pd.date_range("2010-01-01", periods=8, freq="7D")]
    nav = _nav([
        ("J", "2024-01-02", 1.00, 0.0), ("J", "2024-01-03", 1.10, 0.01),  # unit NAV +10% but return +1%
        ("G", "2024-01-02", 1.00, 0.0), ("G", "2024-02-01", 1.00, 0.0),  # 30-day gap
        ("M", "2024-01-02", 1.00, 0.0), ("M", "2024-01-03", 1.25, 0.25),  # +25% in a day
        ("Q", "2024-01-02", 1.00, 0.0), ("Q", "2024-01-03", 1.22, 0.22),  # QDII: within ±25%
        *weekly,
    ])
    as_of = pd.Timestamp("2024-02-01")
    _, issues = clean_nav(nav, as_of, {"Q": "qdii_equity", "M": "equity"})
    assert _checks(issues, "J") == ["stale", "unit_nav_jump"]
    assert _checks(issues, "G") == ["gap"]
    assert _checks(issues, "M") == ["implausible_move", "stale"]
    assert _checks(issues, "Q") == ["stale"]
    assert _checks(issues, "W") == ["stale", "weekly_stretch"]
    weekly_msg = issues[(issues["code"] == "W") & (issues["check"] == "weekly_stretch")]["message"].iloc[0]
    assert "7 intervals from 2010-01-01 to 2010-02-19" in weekly_msg
    _, strict = clean_nav(nav, as_of, params=ValidationParams(max_gap_days=40, stale_days=6000))
    assert "gap" not in set(strict["check"]) and "stale" not in set(strict["check"])


def _holdings(rows: list[tuple]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["quarter", "fund_code", "stock_code", "stock_name", "market", "weight",
                                       "equity_share", "rank"])


def test_holdings_duplicates_sums_and_bad_weights() -> None:
    h = _holdings([
        ("2022-Q4", "F1", "600000", "浦发银行", "其他", 0.05, 0.9, 1),
        ("2022-Q4", "F1", "600000", "浦发银行", "A股", 0.05, 0.9, 1),  # the same position again
        ("2022-Q4", "F1", "600036", "招商银行", "A股", 0.04, 0.9, 2),
        ("2022-Q4", "F2", "FUND", "Prologis", "其他", 0.02, 0.3, 1),  # placeholder code at two ranks
        ("2022-Q4", "F2", "FUND", "Prologis", "其他", 0.01, 0.3, 2),
        ("2022-Q4", "F3", "600519", "贵州茅台", "A股", 0.80, 0.9, 1),  # sums to 130%
        ("2022-Q4", "F3", "000858", "五粮液", "A股", 0.50, 0.9, 2),
        ("2022-Q3", "F3", "600519", "贵州茅台", "A股", 0.08, 0.9, 1),  # other quarter unaffected
        ("2022-Q4", "F4", "000001", "平安银行", "A股", np.nan, 0.9, 1),
    ])
    clean, issues = clean_holdings(h, source="h.csv")
    by_check = issues.groupby("check")["code"].agg(list).to_dict()
    assert by_check == {"bad_weight": ["F4"], "duplicate_holding": ["F1"], "holdings_over_100": ["F3"],
                        "repeated_stock_code": ["F2", "F2"]}
    assert issues.loc[issues["check"] == "duplicate_holding", "row"].tolist() == [2]  # the 其他 row goes
    kept_f1 = clean[clean["fund_code"] == "F1"]
    assert kept_f1["market"].tolist() == ["A股", "A股"]
    assert not ((clean["fund_code"] == "F3") & (clean["quarter"] == "2022-Q4")).any()
    assert ((clean["fund_code"] == "F3") & (clean["quarter"] == "2022-Q3")).sum() == 1
    assert "130.00%" in issues.loc[issues["check"] == "holdings_over_100", "message"].iloc[0]
    assert len(clean) == 5


def test_unknown_codes_summary_and_per_code() -> None:
    found = unknown_codes(["A", "B"], pd.Series(["A", "C", "D", "C"]), "fees.parquet")
    assert sorted(found["code"]) == ["C", "D"]
    summary = unknown_codes(["A"], pd.Series(["A", "C", "D"]), "holdings", "info", summary=True)
    assert len(summary) == 1 and summary["message"].iloc[0].startswith("2 codes")


def test_summarize_orders_errors_first() -> None:
    issues = issues_frame([{"code": "A", "check": "dividend", "severity": "info"},
                           {"code": "B", "check": "gap", "severity": "warning"},
                           {"code": "C", "check": "bad_date", "severity": "error"},
                           {"code": "C", "check": "bad_date", "severity": "error"}])
    summary = summarize(issues)
    assert summary["check"].tolist() == ["bad_date", "gap", "dividend"]
    assert summary["count"].tolist() == [2, 1, 1] and summary["funds"].tolist() == [1, 1, 1]
    assert summarize(issues_frame()).empty


def test_validate_universe_on_fixture(fixture_small) -> None:
    from products.sources.fixture import load_fixture_layout

    universe = load_fixture_layout(fixture_small)
    found = validate_universe(universe)
    assert list(found.columns) == ISSUE_COLUMNS
    dividends = found[found["check"] == "dividend"]
    stored = universe.issues[universe.issues["check"] == "dividend"]
    assert set(zip(dividends["code"], dividends["date"], strict=True)) == set(zip(stored["code"], stored["date"],
                                                                                 strict=True))
