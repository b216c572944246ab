"""Automatic profiling: customers whose evidence a person can see, flags for relationship managers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from products.errors import BadInputError
from risk.config import DIMENSIONS
from risk.profiling import explain, explain_flags, infer_profiles, profile_batch, profile_card
from risk.synthetic import synthetic_kyc

CUSTOMERS = pd.DataFrame([
    # A retired widow, small savings, only ever held R1 products, sold in the 2022 drawdown.
    {"customer_id": "cautious_retiree", "age": 72, "annual_income": 36_000, "financial_assets": 30_000,
     "debts": 0, "dependents": 0, "occupation": "retired", "max_risk_held": "R1", "max_risk_held_months": 60,
     "years_investing": 0.5, "drawdown_behaviour": "sold", "sip_continuity": None, "typical_holding_days": 90,
     "risk_level": "C1"},
    # A 35-year-old fund analyst with ¥3M, ten years of equity funds, bought more in drawdowns — but the
    # questionnaire said C2: the RM should look.
    {"customer_id": "bold_analyst", "age": 35, "annual_income": 600_000, "financial_assets": 3_000_000,
     "debts": 0, "dependents": 1, "occupation": "finance", "max_risk_held": "R5", "max_risk_held_months": 48,
     "years_investing": 10, "drawdown_behaviour": "bought_more", "sip_continuity": 0.95,
     "typical_holding_days": 1000, "risk_level": "C2"},
    # Stated C5, but sold everything in the last drawdown and stopped the SIP.
    {"customer_id": "fair_weather", "age": 41, "annual_income": 250_000, "financial_assets": 600_000,
     "debts": 300_000, "dependents": 2, "occupation": "employee", "max_risk_held": 4, "max_risk_held_months": 8,
     "years_investing": 3, "drawdown_behaviour": "sold", "sip_continuity": 0.3, "typical_holding_days": 120,
     "risk_level": "C5"},
    # Nothing known except the id and age.
    {"customer_id": "unknown", "age": 40},
])


@pytest.fixture(scope="module")
def profiles() -> pd.DataFrame:
    return infer_profiles(CUSTOMERS).set_index("customer_id")


def _evidence(row: pd.Series) -> set[str]:
    return {e.code for e in explain(row["evidence_mask"])}


def test_cautious_retiree(profiles: pd.DataFrame) -> None:
    row = profiles.loc["cautious_retiree"]
    assert row["inferred_level"] <= 2
    assert {"FC_SMALL_ASSETS", "FC_RETIRED", "OB_CAPITAL_PRESERVATION", "HL_SHORT_HOLDING", "HL_ADVANCED_AGE",
            "RA_SOLD_IN_DRAWDOWN"} <= _evidence(row)
    assert row["senior"] and row["risk_attitude"] < 20
    assert row["tier"] == "ordinary" and profiles.loc["bold_analyst", "tier"] == "hnw"
    assert pd.isna(profiles.loc["unknown", "tier"])
    assert not row["flag_level_gap"] and row["flags"] == ""


def test_bold_analyst_is_flagged_against_a_c2_questionnaire(profiles: pd.DataFrame) -> None:
    row = profiles.loc["bold_analyst"]
    assert row["inferred_level"] == 5 and row["level_gap"] == 3
    assert {"FC_HIGH_INCOME", "FC_LARGE_ASSETS", "KE_LONG_EXPERIENCE", "KE_FINANCE_PROFESSIONAL",
            "RA_BOUGHT_IN_DRAWDOWN", "RA_LONG_HIGH_RISK"} <= _evidence(row)
    assert row["flag_level_gap"] and row["flag_behaviour_bolder_than_stated"] and row["flag_held_above_stated_level"]
    assert "level_gap" in row["flags"].split(";")
    assert explain_flags(row["flags"])[0]["code"] == "level_gap"


def test_fair_weather_customer_behaves_more_cautiously_than_stated(profiles: pd.DataFrame) -> None:
    row = profiles.loc["fair_weather"]
    assert row["flag_behaviour_more_cautious_than_stated"] and row["flag_level_gap"]
    assert {"RA_SOLD_IN_DRAWDOWN", "RA_SIP_STOPPED", "HL_SHORT_HOLDING"} <= _evidence(row)
    assert row["risk_attitude"] < profiles.loc["bold_analyst", "risk_attitude"]


def test_missing_evidence_gives_low_confidence_and_cautious_prior(profiles: pd.DataFrame) -> None:
    row = profiles.loc["unknown"]
    assert row["financial_capacity_confidence"] == 0 and row["financial_capacity"] == 30.0
    assert row["confidence"] < 0.3 <= profiles.loc["bold_analyst", "confidence"]
    assert pd.isna(row["stated_level"]) and not row["flag_level_gap"]
    for d in DIMENSIONS:
        assert profiles[d].min() >= 0 and profiles[d].max() <= 100


def test_explanations_have_both_languages() -> None:
    for item in explain(2**24 - 1):
        assert item.text_zh and item.text_en and item.dimension in DIMENSIONS


def test_batch_equals_batch_of_one() -> None:
    kyc = synthetic_kyc(300, seed=5)
    batch = infer_profiles(kyc)
    for i in (0, 17, 123, 299):
        one = infer_profiles(kyc.iloc[[i]])
        pd.testing.assert_frame_equal(one.reset_index(drop=True), batch.iloc[[i]].reset_index(drop=True),
                                      check_categorical=False)


def test_bad_rows_are_named_and_batch_goes_on() -> None:
    kyc = synthetic_kyc(20, seed=1)
    kyc["age"] = kyc["age"].astype(float)
    kyc.loc[3, "age"] = 300
    kyc.loc[7, "annual_income"] = -1
    kyc.loc[9, "customer_id"] = kyc.loc[8, "customer_id"]
    kyc["drawdown_behaviour"] = kyc["drawdown_behaviour"].astype(object)
    kyc.loc[11, "drawdown_behaviour"] = "panicked"
    with pytest.raises(BadInputError) as err:
        infer_profiles(kyc)
    assert "row 3" in err.value.message and "age" in err.value.message
    profiles, rejects = profile_batch(kyc)
    assert len(profiles) == 16
    assert rejects[["row", "field"]].values.tolist() == [[3, "age"], [7, "annual_income"], [9, "customer_id"],
                                                         [11, "drawdown_behaviour"]]


def test_more_assets_and_income_never_lower_financial_capacity() -> None:
    """Each of 5,000 customers gets richer by its own random factor (1–50×): capacity never falls."""
    kyc = synthetic_kyc(5000, seed=21)
    factor = np.random.default_rng(21).uniform(1.0, 50.0, len(kyc))
    richer = kyc.assign(financial_assets=kyc["financial_assets"] * factor, annual_income=kyc["annual_income"] * factor)
    before, after = infer_profiles(kyc, evidence_text=False), infer_profiles(richer, evidence_text=False)
    assert (after["financial_capacity"].to_numpy() >= before["financial_capacity"].to_numpy() - 1e-9).all()
    assert (after["financial_capacity"] > before["financial_capacity"]).mean() > 0.5


def test_senior_cap_applies_to_inferred_level() -> None:
    kyc = CUSTOMERS.iloc[[1]].assign(age=70)
    assert infer_profiles(kyc)["inferred_level"].iloc[0] <= 4
    assert np.all(infer_profiles(synthetic_kyc(2000, seed=2)).query("senior")["inferred_level"] <= 4)


def test_profile_card_groups_evidence_by_dimension(profiles: pd.DataFrame) -> None:
    card = profile_card(profiles.reset_index().iloc[1])
    assert card["customer_id"] == "bold_analyst" and card["inferred_level"] == "C5" and card["stated_level"] == "C2"
    codes = {d: [e["code"] for e in v["evidence"]] for d, v in card["dimensions"].items()}
    assert "RA_BOUGHT_IN_DRAWDOWN" in codes["risk_attitude"] and "FC_LARGE_ASSETS" in codes["financial_capacity"]
    assert all(code.startswith(prefix) for prefix, d in zip(("FC", "KE", "OB", "HL", "RA"), DIMENSIONS, strict=True)
               for code in codes[d])
    assert [f["code"] for f in card["flags"]] == ["level_gap", "behaviour_bolder_than_stated",
                                                  "held_above_stated_level"]
    assert profile_card(profiles.reset_index().iloc[3])["stated_level"] is None


def test_longer_experience_never_lowers_knowledge_or_attitude() -> None:
    """Each of 5,000 customers gets its own extra months of holding and years of investing."""
    kyc = synthetic_kyc(5000, seed=22)
    rng = np.random.default_rng(22)
    seasoned = kyc.assign(max_risk_held_months=kyc["max_risk_held_months"] + rng.integers(1, 61, len(kyc)),
                          years_investing=kyc["years_investing"] + rng.uniform(0.5, 10, len(kyc)))
    before, after = infer_profiles(kyc, evidence_text=False), infer_profiles(seasoned, evidence_text=False)
    for d in ("knowledge_experience", "risk_attitude"):
        assert (after[d].to_numpy() >= before[d].to_numpy() - 1e-9).all()
    assert (after["knowledge_experience"] > before["knowledge_experience"]).mean() > 0.5


def test_chinese_codes_are_understood() -> None:
    kyc = pd.DataFrame({"customer_id": ["x"], "age": [50], "occupation": ["公务员"], "drawdown_behaviour": ["持有"],
                        "max_risk_held": ["R3"], "max_risk_held_months": [30], "risk_level": ["C3"]})
    row = infer_profiles(kyc).iloc[0]
    assert "RA_HELD_IN_DRAWDOWN" in row["evidence"]
