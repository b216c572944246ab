"""Property-based proof of the scoring rules (hypothesis)."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from products.errors import BadInputError
from risk.config import RiskConfig
from risk.levels import CustomerLevel
from risk.questionnaire import BASIC, load_questionnaire
from risk.scoring import assess
from risk.suitability import allowed_max_product_level, is_suitable

QN = load_questionnaire()
SCORED = [q for q in QN.questions if q.dimension != BASIC]
AGE_Q = next(q for q in QN.questions if q.dimension == BASIC)
TODAY = date(2026, 6, 1)
FAST = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def answer_sets(draw: st.DrawFn) -> dict[str, str]:
    return {q.id: draw(st.sampled_from([o.id for o in q.options])) for q in QN.questions}


facts_strategy = st.one_of(
    st.none(),
    st.fixed_dictionaries({}, optional={
        "age": st.integers(0, 120),
        "annual_income": st.floats(0, 5e6),
        "financial_assets": st.floats(0, 2e7),
        "civil_capacity": st.booleans(),
    }),
)


@FAST
@given(answers=answer_sets(), facts=facts_strategy, data=st.data())
def test_a_more_tolerant_option_never_lowers_the_level(answers: dict, facts: dict | None, data: st.DataObject) -> None:
    question = data.draw(st.sampled_from(SCORED))
    current = question.option(answers[question.id])
    bolder = [o for o in question.options if o.score > current.score]
    if not bolder:
        return
    choice = data.draw(st.sampled_from(bolder))
    before = assess(answers, facts, today=TODAY)
    after = assess(dict(answers, **{question.id: choice.id}), facts, today=TODAY)
    assert int(after.level) >= int(before.level)
    assert after.score >= before.score
    for dim in before.dimensions:
        assert after.dimensions[dim] >= before.dimensions[dim]


@FAST
@given(answers=answer_sets(), facts=facts_strategy)
def test_every_complete_answer_set_gives_a_valid_result(answers: dict, facts: dict | None) -> None:
    result = assess(answers, facts, today=TODAY)
    assert result.level in set(CustomerLevel)
    assert 0 <= result.score <= 100
    assert all(0 <= v <= 100 for v in result.dimensions.values())
    assert 0.3 <= result.confidence <= 1.0
    assert result.expires_on == date(2027, 6, 1)
    payload = result.to_dict()
    assert payload["level"] == result.level.label and payload["lowest_category"] == result.lowest_category
    # a contradiction or a records conflict always lowers confidence, and only then
    conflicts = [f for f in result.flags if f.code.startswith(("stated_", "age_answer")) or
                 any(f.code == r.code for r in QN.contradictions)]
    assert (result.confidence < 1.0) == bool(conflicts)


@FAST
@given(answers=answer_sets(), facts=facts_strategy)
def test_lowest_category_is_always_c1_and_r1_only(answers: dict, facts: dict | None) -> None:
    result = assess(answers, facts, today=TODAY)
    triggered = (answers["Q12"] == "A" or (answers[AGE_Q.id] == "A" and not (facts or {}).get("age"))
                 or (facts or {}).get("civil_capacity") is False or ((facts or {}).get("age", 99) < 18))
    if triggered:
        assert result.lowest_category
    if result.lowest_category:
        assert result.level == CustomerLevel.C1
        assert result.max_product_level == 1
        assert allowed_max_product_level(result.level, True) == 1
        assert is_suitable([1] * 5, [1, 2, 3, 4, 5], True).tolist() == [True, False, False, False, False]


@FAST
@given(age_option=st.sampled_from(["B", "C", "D", "E"]))
def test_extremes(age_option: str) -> None:
    boldest = {q.id: q.options[-1].id for q in QN.questions} | {AGE_Q.id: age_option}
    cautious = {q.id: q.options[0].id for q in QN.questions} | {AGE_Q.id: age_option}
    assert assess(boldest, today=TODAY).level == CustomerLevel.C5
    assert assess(cautious, today=TODAY).level == CustomerLevel.C1


@FAST
@given(answers=answer_sets())
def test_senior_level_never_above_the_cap(answers: dict) -> None:
    result = assess(answers, {"age": 66}, today=TODAY)
    assert int(result.level) <= 4 and "senior_enhanced_protection" in result.flag_codes
    unlimited = assess(answers, {"age": 66}, today=TODAY, config=RiskConfig(senior_level_cap=None))
    assert int(unlimited.level) >= int(result.level)


@settings(max_examples=100, deadline=None)
@given(answers=answer_sets(), data=st.data())
def test_unknown_option_is_named(answers: dict, data: st.DataObject) -> None:
    question = data.draw(st.sampled_from(QN.questions))
    bad = data.draw(st.text(min_size=1, max_size=3).filter(lambda s: question.option(s.strip()) is None))
    with pytest.raises(BadInputError) as err:
        assess(dict(answers, **{question.id: bad}), today=TODAY)
    assert err.value.details["question"] == question.id and question.id in err.value.message


@settings(max_examples=100, deadline=None)
@given(answers=answer_sets(), data=st.data())
def test_missing_answer_is_named(answers: dict, data: st.DataObject) -> None:
    question = data.draw(st.sampled_from(QN.questions))
    with pytest.raises(BadInputError) as err:
        assess({k: v for k, v in answers.items() if k != question.id}, today=TODAY)
    assert err.value.details["question"] == question.id


@pytest.mark.parametrize("rule", QN.contradictions, ids=lambda r: r.code)
@pytest.mark.parametrize("base", ["middle", "boldest"])
def test_contradiction_rules_keep_every_step_monotone(rule, base: str) -> None:
    """Walk the if- and then-question through all their options, with the other one at each option."""
    pick = (lambda q: q.options[len(q.options) // 2]) if base == "middle" else (lambda q: q.options[-1])
    answers = {q.id: pick(q).id for q in QN.questions} | {AGE_Q.id: "C"}
    if_q, then_q = QN.question(rule.if_question), QN.question(rule.then_question)
    for fixed, walked in ((if_q, then_q), (then_q, if_q)):
        for fixed_option in fixed.options:
            results = [assess(answers | {fixed.id: fixed_option.id, walked.id: o.id}, today=TODAY)
                       for o in walked.options]
            levels = [int(r.level) for r in results]
            scores = [r.score for r in results]
            assert levels == sorted(levels), (rule.code, fixed.id, fixed_option.id, levels)
            assert scores == sorted(scores), (rule.code, fixed.id, fixed_option.id, scores)


@settings(max_examples=100, deadline=None)
@given(answers=answer_sets(), extra=st.text(min_size=1, max_size=6))
def test_unknown_question_is_named(answers: dict, extra: str) -> None:
    if QN.question(extra) is not None:
        return
    with pytest.raises(BadInputError) as err:
        assess(dict(answers, **{extra: "A"}), today=TODAY)
    assert err.value.details["question"] == extra
