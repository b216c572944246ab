"""Assessment validity and re-assessment triggers."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

from products.errors import BadInputError, StaleDataError
from risk.config import RiskConfig
from risk.scoring import assess
from risk.validity import (
    REASSESSMENT_COLUMNS,
    add_months,
    ensure_valid,
    expired_mask,
    expiry_date,
    is_valid,
    reassessment_flags,
    reassessment_required,
)

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


def test_batch_triggers_agree_with_the_single_customer_function() -> None:
    rng = np.random.default_rng(11)
    n = 300
    previous = pd.DataFrame({
        "expires_on": [date(2026, 1, 1) + timedelta(days=int(d)) for d in rng.integers(0, 400, n)],
        "age": rng.integers(18, 90, n), "annual_income": rng.choice([0.0, 1e5, 2e5], n),
        "financial_assets": rng.uniform(1e4, 1e6, n), "debts": rng.choice([0.0, 5e4], n)})
    current = pd.DataFrame({
        "age": previous["age"] + rng.integers(0, 3, n),
        "annual_income": previous["annual_income"] * rng.choice([0.5, 1.0, 1.2, 2.0], n),
        "financial_assets": previous["financial_assets"] * rng.uniform(0.3, 2.0, n),
        "debts": previous["debts"] + rng.choice([0.0, 1e5], n),
        "life_event": rng.choice(np.array([None, "retirement", "birth"], dtype=object), n, p=[0.8, 0.1, 0.1])})
    today = date(2026, 6, 1)
    batch = reassessment_flags(previous, current, today)
    for i in range(n):
        prev = {"expires_on": previous["expires_on"].iloc[i],
                "facts": {k: previous[k].iloc[i].item() for k in ("age", "annual_income", "financial_assets", "debts")}}
        facts = {k: current[k].iloc[i].item() for k in ("age", "annual_income", "financial_assets", "debts")}
        if pd.notna(current["life_event"].iloc[i]):
            facts["life_event"] = current["life_event"].iloc[i]
        single = reassessment_required(prev, facts, today)
        assert bool(batch["required"].iloc[i]) == single.required
        codes = {r.code.removeprefix("life_event_") if r.code.startswith("life_event_") else r.code
                 for r in single.reasons}
        expected = {c for c in REASSESSMENT_COLUMNS if batch[c].iloc[i]}
        assert {("life_event" if c in ("retirement", "birth") else c) for c in codes} == expected


def test_ensure_valid_raises_stale() -> None:
    ensure_valid(date(2027, 1, 1), date(2026, 12, 31))
    with pytest.raises(StaleDataError, match="expired on 2026-01-01"):
        ensure_valid(date(2026, 1, 1), date(2026, 1, 1), customer_id="c1")
    with pytest.raises(StaleDataError, match="no risk assessment"):
        ensure_valid(None)
