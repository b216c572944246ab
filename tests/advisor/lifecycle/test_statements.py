"""Monthly and yearly statements: the numbers of a hand case, agreement with the returns, plain texts."""

from __future__ import annotations

import re
from datetime import date

import pytest

from advisor.lifecycle.book import load_book
from advisor.lifecycle.returns import compute_returns
from advisor.lifecycle.statements import parse_period, statement
from products.errors import BadInputError
from tests.advisor.lifecycle.lifecycle_helpers import customers, ledger, tiny_universe

NAVS = {"100001": {"2025-11-28": 1.00, "2025-12-01": 1.02, "2025-12-15": 1.10, "2025-12-31": 1.05,
                   "2026-01-15": 1.08, "2026-01-30": 1.12, "2026-02-13": 1.15}}


@pytest.fixture(scope="module")
def book():
    universe = tiny_universe(NAVS, distributions={"100001": {"2026-01-15": 0.02}})
    frame = ledger(("a", "2025-11-28", "100001", "subscription", 1000.0, None, 0.0),
                   ("a", "2025-12-15", "100001", "subscription", 1100.0, None, 10.0),  # pays 1,110
                   ("a", "2026-01-15", "100001", "dividend_cash", 40.0, None, 0.0),
                   ("a", "2026-01-30", "100001", "redemption", None, 500.0, 2.80))
    return load_book(universe, customers("a"), ledger=frame, as_of=date(2026, 2, 13))


def test_december_by_hand(book):
    s = statement(book, parse_period("2025-12"))
    m = s["summary"]
    assert m["start_value"] == pytest.approx(1000 * 1.00)  # the 28 November close
    assert m["end_value"] == pytest.approx(2000 * 1.05)
    assert m["deposits"] == pytest.approx(1110.0) and m["fees"] == pytest.approx(10.0)
    assert m["gain"] == pytest.approx(2100.0 - 1000.0 - 1110.0)
    assert m["twr"] == pytest.approx(1.10 * (2000 * 1.05) / (1000 * 1.10 + 1110.0) - 1.0, abs=1e-6)
    assert m["xirr"] is None  # a month is not annualized
    assert [(t["kind"], t["amount"], t["fee"], t["paid"], t["received"]) for t in s["transactions"]] == \
        [("subscription", 1100.0, 10.0, 1110.0, None)]
    assert not s["period"]["to_date"]


def test_january_counts_the_dividend_and_the_redemption(book):
    s = statement(book, parse_period("2026-01"))
    m = s["summary"]
    assert m["dividends_cash"] == pytest.approx(40.0)
    assert m["withdrawals"] == pytest.approx(500 * 1.12 - 2.80)
    assert m["end_value"] == pytest.approx(1500 * 1.12)
    assert m["gain"] == pytest.approx(1500 * 1.12 - 2100.0 + (500 * 1.12 - 2.80) + 40.0)
    assert "现金分红¥40.00" in s["text_zh"] and "取出" in s["text_zh"]
    sale = next(t for t in s["transactions"] if t["kind"] == "redemption")
    assert (sale["amount"], sale["fee"], sale["received"], sale["paid"]) == (560.0, 2.8, 557.2, None)


def test_the_current_month_runs_to_date_and_agrees_with_the_returns(book):
    s = statement(book, parse_period("2026-02"))
    assert s["period"]["to_date"] and s["period"]["end"] == "2026-02-13"
    result = compute_returns(book.events, 1, book.prices, date(2026, 2, 13))
    assert s["summary"]["end_value"] == pytest.approx(result.customer["market_value"][0], abs=0.005)
    assert s["since_inception"]["total_gain"] == pytest.approx(result.customer["total_gain"][0], abs=0.005)
    assert "截至2026-02-13" in s["text_zh"]


def test_a_year_statement_chains_its_months_and_annualizes_only_a_year(book):
    s = statement(book, parse_period("2025"))
    assert s["summary"]["xirr"] is None  # invested since 28 November: no annual rate for a month (GIPS)
    assert "年化" not in s["text_zh"] and "a year" not in s["text_en"]
    assert s["summary"]["end_value"] == pytest.approx(statement(book, parse_period("2025-12"))["summary"]["end_value"])


def test_texts_are_plain(book):
    for period in ("2025-12", "2026-01", "2025"):
        s = statement(book, parse_period(period))
        assert s["text_zh"] and s["text_en"] and s["title_zh"].endswith("账单")
        assert not re.search(r"[a-z]+_[a-z]+", s["text_zh"])
        assert s["funds"][0]["name"] == "测试基金100001"


@pytest.mark.parametrize("text", ["2026-13", "26-01", "2026/01", "last month", ""])
def test_bad_periods_name_the_field(text):
    with pytest.raises(BadInputError) as err:
        parse_period(text)
    assert err.value.details["field"] == "period"


def test_a_future_period_is_refused(book):
    with pytest.raises(BadInputError):
        statement(book, parse_period("2026-03"))
