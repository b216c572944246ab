"""Questionnaire scoring: worked examples a compliance officer can check by hand."""

from __future__ import annotations

from datetime import date

import pytest

from products.errors import BadInputError
from risk.config import RiskConfig
from risk.levels import CustomerLevel
from risk.questionnaire import load_questionnaire
from risk.scoring import assess

QN = load_questionnaire()
BOLDEST = {q.id: q.options[-1].id for q in QN.questions} | {"Q01": "B"}
CAUTIOUS = {q.id: q.options[0].id for q in QN.questions} | {"Q01": "C"}
# A typical balanced customer: every scored answer in the middle of its question.
MIDDLE = {"Q01": "C", "Q02": "C", "Q03": "B", "Q04": "D", "Q05": "C", "Q06": "C", "Q07": "C", "Q08": "C",
          "Q09": "C", "Q10": "C", "Q11": "C", "Q12": "D", "Q13": "C", "Q14": "C"}
TODAY = date(2026, 3, 15)


def test_boldest_answers_give_c5_with_full_scores() -> None:
    result = assess(BOLDEST, today=TODAY)
    assert result.level == CustomerLevel.C5
    assert result.score == 100.0
    assert set(result.dimensions.values()) == {100.0}
    assert not result.lowest_category and result.flags == () and result.confidence == 1.0


def test_most_cautious_answers_give_lowest_category_c1() -> None:
    result = assess(CAUTIOUS, today=TODAY)
    assert result.level == CustomerLevel.C1 and result.lowest_category
    assert result.max_product_level == 1
    assert "lowest_category_no_loss" in result.flag_codes


def test_worked_example_dimension_arithmetic() -> None:
    # financial 4+2+6=12/20=60; knowledge 4+4+4=12/20=60; objective 6+6=12/20=60;
    # horizon 7+6=13/20=65; attitude 5+4+3=12/20=60 → overall 61 → C4 (60–79).
    result = assess(MIDDLE, today=TODAY)
    assert result.dimensions == {"financial_capacity": 60.0, "knowledge_experience": 60.0, "objective": 60.0,
                                 "horizon_liquidity": 65.0, "risk_attitude": 60.0}
    assert result.score == 61.0 and result.level == CustomerLevel.C4


def test_payload_has_the_issue_keys() -> None:
    payload = assess(MIDDLE, today=TODAY).to_dict()
    for key in ("level", "level_name_zh", "score", "dimensions", "lowest_category", "flags", "confidence",
                "questionnaire_version", "assessed_at", "expires_on"):
        assert key in payload
    assert payload["level"] == "C4" and payload["level_name_zh"] == "成长型"
    assert payload["expires_on"] == "2027-03-15" and payload["assessed_at"].startswith("2026-03-15")
    assert payload["questionnaire_version"] == "v1" and payload["rules_version"] == "risk-rules-v1"


def test_bands_are_configurable() -> None:
    strict = RiskConfig(band_floors=(0, 25, 50, 70, 90))
    assert assess(MIDDLE, today=TODAY, config=strict).level == CustomerLevel.C3


def test_no_experience_but_derivatives_is_read_cautiously() -> None:
    answers = dict(MIDDLE, Q06="A", Q07="E")
    result = assess(answers, today=TODAY)
    flag = next(f for f in result.flags if f.code == "no_experience_but_risky_products")
    assert flag.questions == ("Q06", "Q07")
    # Q07 read as deposits (0): knowledge 4+0+0 = 4/20 = 20.
    assert result.dimensions["knowledge_experience"] == 20.0
    assert result.confidence == 0.85


def test_short_horizon_growth_objective_and_loss_contradictions() -> None:
    answers = dict(MIDDLE, Q10="A", Q08="D", Q12="B", Q14="E", Q09="E")
    result = assess(answers, today=TODAY)
    codes = set(result.flag_codes)
    assert {"short_horizon_but_growth_objective", "low_loss_tolerance_but_high_risk_preference",
            "low_loss_tolerance_but_high_return_expectation"} <= codes
    assert result.dimensions["objective"] == 45.0  # Q08 read as 3, Q09 read as 6
    assert result.confidence == pytest.approx(0.55)


def test_weakest_link_caps_a_bold_customer_with_no_loss_tolerance() -> None:
    # Everything bold except the loss questions: risk attitude 1+0+0=1/20=5 → band C1 → cap C2.
    answers = dict(BOLDEST, Q12="B", Q13="A", Q14="A")
    result = assess(answers, today=TODAY)
    assert result.band_level == CustomerLevel.C4
    assert result.level == CustomerLevel.C2
    assert "weakest_link_cap" in result.flag_codes


def test_senior_gets_protection_and_cap() -> None:
    result = assess(dict(BOLDEST, Q01="F"), today=TODAY)
    assert result.level == CustomerLevel.C4
    assert {"senior_enhanced_protection", "senior_level_cap"} <= set(result.flag_codes)
    uncapped = assess(dict(BOLDEST, Q01="F"), today=TODAY, config=RiskConfig(senior_level_cap=None))
    assert uncapped.level == CustomerLevel.C5 and "senior_enhanced_protection" in uncapped.flag_codes


def test_recorded_age_overrides_the_answer() -> None:
    result = assess(BOLDEST, {"age": 70}, today=TODAY)
    assert result.level == CustomerLevel.C4
    assert "age_answer_conflicts_with_records" in result.flag_codes


def test_minor_or_no_civil_capacity_is_lowest_category() -> None:
    assert assess(dict(BOLDEST, Q01="A"), today=TODAY).lowest_category
    no_capacity = assess(BOLDEST, {"civil_capacity": False}, today=TODAY)
    assert no_capacity.level == CustomerLevel.C1 and no_capacity.lowest_category
    assert "lowest_category_no_civil_capacity" in no_capacity.flag_codes


def test_stated_assets_above_records_use_the_records() -> None:
    result = assess(dict(MIDDLE, Q03="E"), {"financial_assets": 80_000}, today=TODAY)
    assert "stated_financial_assets_exceeds_records" in result.flag_codes
    assert result.dimensions["financial_capacity"] == 60.0  # Q03 read as B (2 points), as in MIDDLE


def test_refusal_is_c1_lowest_category() -> None:
    result = assess(None, today=TODAY)
    assert result.level == CustomerLevel.C1 and result.lowest_category and result.refused
    assert result.confidence == 0.0 and result.flag_codes == ("questionnaire_refused",)
    assert not assess(None, today=TODAY, config=RiskConfig(refusal_is_lowest_category=False)).lowest_category


@pytest.mark.parametrize(("answers", "named"), [
    (dict(MIDDLE, Q99="A"), "Q99"),
    (dict(MIDDLE, Q05="Z"), "Q05"),
    ({k: v for k, v in MIDDLE.items() if k != "Q11"}, "Q11"),
    (dict(MIDDLE, Q07=3), "Q07"),
])
def test_bad_answers_name_the_question(answers: dict, named: str) -> None:
    with pytest.raises(BadInputError) as err:
        assess(answers, today=TODAY)
    assert named in err.value.message and err.value.details["question"] == named


@pytest.mark.parametrize(("facts", "field"), [
    ({"age": 300}, "facts.age"),
    ({"annual_income": -1}, "facts.annual_income"),
    ({"financial_assets": float("nan")}, "facts.financial_assets"),
    ({"dependents": 1.5}, "facts.dependents"),
    ({"civil_capacity": "yes"}, "facts.civil_capacity"),
    ({"salary": 5}, "facts.salary"),
    ({"life_event": "lottery"}, "facts.life_event"),
])
def test_bad_facts_name_the_field(facts: dict, field: str) -> None:
    with pytest.raises(BadInputError) as err:
        assess(MIDDLE, facts, today=TODAY)
    assert err.value.message.startswith(field)
