"""Assessment validity and re-assessment triggers."""

from __future__ import annotations

from datetime import date

import pytest

from products.errors import BadInputError
from risk.config import RiskConfig
from risk.scoring import assess
from risk.validity import add_months, expired_mask, expiry_date, is_valid, reassessment_required

MIDDLE = {"Q01": "E", "Q02": "C", "Q03": "B", "Q04": "D", "Q05": "C", "Q06": "C", "Q07": "C", "Q08": "C",
          "Q09": "C", "Q10": "C", "Q11": "C", "Q12": "D", "Q13": "C", "Q14": "C"}
FACTS = {"age": 63, "annual_income": 200_000, "financial_assets": 400_000, "debts": 100_000}


def test_one_year_validity_and_month_ends() -> None:
    assert expiry_date(date(2026, 3, 15)) == date(2027, 3, 15)
    assert expiry_date(date(2024, 2, 29)) == date(2025, 2, 28)
    assert expiry_date(date(2026, 3, 15), RiskConfig(validity_months=24)) == date(2028, 3, 15)
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert is_valid(date(2027, 3, 15), date(2027, 3, 14)) and not is_valid(date(2027, 3, 15), date(2027, 3, 15))
    mask = expired_mask([date(2026, 1, 1), "2027-01-01", None], date(2026, 6, 1))
    assert mask.tolist() == [True, False, True]


def test_unchanged_customer_needs_no_reassessment() -> None:
    previous = assess(MIDDLE, FACTS, today=date(2026, 1, 10))
    decision = reassessment_required(previous, FACTS, today=date(2026, 6, 1))
    assert not decision.required and decision.reasons == ()


def test_each_trigger_is_reported_with_a_reason() -> None:
    previous = assess(MIDDLE, FACTS, today=date(2026, 1, 10)).to_dict()
    changed = dict(FACTS, age=65, annual_income=100_000, financial_assets=900_000, life_event="retirement")
    decision = reassessment_required(previous, changed, today=date(2027, 2, 1))
    codes = [r.code for r in decision.reasons]
    assert decision.required
    assert codes == ["assessment_expired", "age_band_changed", "annual_income_changed", "financial_assets_changed",
                     "life_event_retirement"]
    assert "退休" in decision.reasons[-1].text_zh


def test_small_changes_stay_below_thresholds() -> None:
    previous = assess(MIDDLE, FACTS, today=date(2026, 1, 10))
    decision = reassessment_required(previous, dict(FACTS, annual_income=230_000, financial_assets=500_000),
                                     today=date(2026, 2, 1))
    assert not decision.required


def test_bad_previous_or_new_facts_are_named() -> None:
    with pytest.raises(BadInputError, match=r"previous\.expires_on"):
        reassessment_required({"facts": {}}, {})
    with pytest.raises(BadInputError, match=r"facts\.age"):
        reassessment_required({"expires_on": "2027-01-01"}, {"age": -3})
