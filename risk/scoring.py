"""Score a completed questionnaire into a five-dimension assessment and a C1–C5 level.

Pipeline (docs/risk-methodology.md §2–3):
1. Validate answers (every question once, known options) and facts.
2. Cautious reading: contradiction rules and records that contradict an answer cap that answer's
   score (min(score, cap) — never raises one); each becomes a flag and lowers confidence.
3. Dimension score = effective points / the dimension's maximum × 100; overall = weighted mean
   (equal weights: the common 100-point template).
4. Level rules (risk.rules): band, weakest link, senior cap, lowest category → C1.
A refusal (answers None) gives C1 (lowest category by default) with confidence 0.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import numpy as np

from products.errors import BadInputError
from risk.config import DEFAULT_CONFIG, DIMENSIONS, RiskConfig
from risk.facts import CustomerFacts, parse_facts
from risk.levels import CustomerLevel
from risk.questionnaire import BASIC, Question, Questionnaire, load_questionnaire
from risk.rules import apply_level_rules
from risk.validity import expiry_date

_FACT_NAMES = {"annual_income": ("年收入", "yearly income"), "financial_assets": ("金融资产", "financial assets")}


@dataclass(frozen=True)
class Flag:
    """Something a reviewer should see: a contradiction, a rule that capped the level, a protection."""

    code: str
    severity: str  # "info" | "warning" | "critical"
    text_zh: str
    text_en: str
    questions: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "severity": self.severity, "questions": list(self.questions),
                "text_zh": self.text_zh, "text_en": self.text_en}


@dataclass(frozen=True)
class Assessment:
    level: CustomerLevel
    score: float
    dimensions: dict[str, float]
    lowest_category: bool
    flags: tuple[Flag, ...]
    confidence: float
    questionnaire_version: str
    assessed_at: datetime
    expires_on: date
    band_level: CustomerLevel
    answers: dict[str, str] = field(default_factory=dict)
    facts: dict[str, Any] = field(default_factory=dict)
    refused: bool = False
    customer_id: str | None = None
    rules_version: str = DEFAULT_CONFIG.rules_version

    @property
    def max_product_level(self) -> int:
        return 1 if self.lowest_category else int(self.level)

    @property
    def flag_codes(self) -> tuple[str, ...]:
        return tuple(f.code for f in self.flags)

    def to_dict(self) -> dict[str, Any]:
        return {
            "customer_id": self.customer_id,
            "level": self.level.label,
            "level_name_zh": self.level.name_zh,
            "level_name_en": self.level.name_en,
            "score": self.score,
            "dimensions": dict(self.dimensions),
            "lowest_category": self.lowest_category,
            "max_product_level": f"R{self.max_product_level}",
            "band_level": self.band_level.label,
            "flags": [f.to_dict() for f in self.flags],
            "confidence": self.confidence,
            "questionnaire_version": self.questionnaire_version,
            "rules_version": self.rules_version,
            "assessed_at": self.assessed_at.isoformat(timespec="seconds"),
            "expires_on": self.expires_on.isoformat(),
            "refused": self.refused,
            "answers": dict(self.answers),
            "facts": dict(self.facts),
        }


def _moment(today: date | datetime | None) -> datetime:
    if today is None:
        return datetime.now(UTC).replace(microsecond=0)
    if isinstance(today, datetime):
        return today if today.tzinfo else today.replace(tzinfo=UTC)
    return datetime(today.year, today.month, today.day, tzinfo=UTC)


def validate_answers(answers: Mapping[str, Any], questionnaire: Questionnaire) -> dict[str, str]:
    """Check every question is answered exactly once with a known option; name the question if not."""
    if not isinstance(answers, Mapping):
        raise BadInputError("answers: expected an object mapping question id → option id",
                            details={"field": "answers"})
    clean: dict[str, str] = {}
    for qid, option_id in answers.items():
        question = questionnaire.question(str(qid))
        if question is None:
            raise BadInputError(f"answers.{qid}: unknown question (questionnaire {questionnaire.version} has "
                                f"{questionnaire.question_ids[0]}–{questionnaire.question_ids[-1]})",
                                details={"question": str(qid)})
        if not isinstance(option_id, str) or question.option(option_id.strip()) is None:
            valid = ", ".join(o.id for o in question.options)
            raise BadInputError(f"answers.{qid}: unknown option {option_id!r}; expected one of {valid}",
                                details={"question": str(qid), "option": str(option_id)})
        clean[question.id] = option_id.strip()
    missing = [q for q in questionnaire.question_ids if q not in clean]
    if missing:
        raise BadInputError(f"answers.{missing[0]}: question not answered ({len(missing)} missing: "
                            + ", ".join(missing) + ")", details={"question": missing[0], "missing": missing})
    return clean


def _score_band_of_value(question: Question, value: float) -> float | None:
    """Score of the option whose value_range holds a recorded fact (None if the question has no ranges)."""
    for option in question.options:
        if option.value_range is None:
            return None
        low, high = option.value_range
        if value >= low and (high is None or value < high):
            return option.score
    return None


def _age_from(question_answers: dict[str, str], questionnaire: Questionnaire) -> tuple[int | None, bool]:
    """The age floor of the answered age band, and whether that option is lowest-category (a minor)."""
    for q in questionnaire.questions:
        if q.dimension == BASIC and q.id in question_answers:
            opt = q.option(question_answers[q.id])
            if opt is not None and opt.age_range:
                return int(opt.age_range[0]), opt.lowest_category
    return None, False


def assess(answers: Mapping[str, Any] | None, facts: Mapping[str, Any] | CustomerFacts | None = None,
           today: date | datetime | None = None, questionnaire: Questionnaire | None = None,
           config: RiskConfig = DEFAULT_CONFIG, customer_id: str | None = None) -> Assessment:
    """Assess one customer. `answers=None` records a refusal (C1)."""
    qn = questionnaire or load_questionnaire()
    customer_facts = parse_facts(facts)
    moment = _moment(today)
    expires = expiry_date(moment.date(), config)
    if answers is None:
        return _refusal(qn, customer_facts, moment, expires, config, customer_id)
    chosen = validate_answers(answers, qn)
    options = {q.id: q.option(chosen[q.id]) for q in qn.questions}
    raw = {qid: opt.score for qid, opt in options.items()}
    effective = dict(raw)
    flags: list[Flag] = []
    penalties = 0

    for rule in qn.contradictions:
        if raw[rule.if_question] <= rule.if_max_score and raw[rule.then_question] >= rule.then_min_score:
            effective[rule.then_question] = min(effective[rule.then_question], rule.cap_score)
            flags.append(Flag(rule.code, "warning", rule.text_zh, rule.text_en,
                              (rule.if_question, rule.then_question)))
            penalties += 1

    for q in qn.questions:
        recorded = getattr(customer_facts, q.fact) if q.fact else None
        if recorded is None:
            continue
        cap = _score_band_of_value(q, recorded)
        if cap is not None and raw[q.id] > cap:
            effective[q.id] = min(effective[q.id], cap)
            name_zh, name_en = _FACT_NAMES.get(q.fact, (q.fact, q.fact))
            flags.append(Flag(f"stated_{q.fact}_exceeds_records", "warning",
                              f"问卷所选{name_zh}档位高于我行记录（{recorded:,.0f}元），按记录处理。",
                              f"The {name_en} band chosen in {q.id} is above our records (¥{recorded:,.0f}); "
                              "the records are used.", (q.id,)))
            penalties += 1

    answered_age, minor_by_answer = _age_from(chosen, qn)
    age = customer_facts.age if customer_facts.age is not None else answered_age
    if customer_facts.age is not None and answered_age is not None:
        band_q = next(q for q in qn.questions if q.dimension == BASIC and q.id in chosen)
        low, high = band_q.option(chosen[band_q.id]).age_range
        if not low <= customer_facts.age <= high:
            flags.append(Flag("age_answer_conflicts_with_records", "warning",
                              f"所选年龄段与记录年龄（{customer_facts.age}岁）不符；按记录处理。",
                              f"The age band chosen does not match the recorded age ({customer_facts.age}); "
                              "the records are used.", (band_q.id,)))
            penalties += 1
            minor_by_answer = False

    dim_max = qn.dimension_max()
    dimensions = {d: 0.0 for d in DIMENSIONS}
    for q in qn.questions:
        if q.dimension != BASIC:
            dimensions[q.dimension] += effective[q.id]
    dimensions = {d: round(100.0 * dimensions[d] / dim_max[d], 2) for d in DIMENSIONS}
    overall = round(sum(config.dimension_weights[d] * dimensions[d] for d in DIMENSIONS), 2)

    lowest_reasons: list[Flag] = []
    for q in qn.questions:
        opt = options[q.id]
        if opt.lowest_category and q.dimension != BASIC:
            lowest_reasons.append(Flag("lowest_category_no_loss", "critical",
                                       "客户表示不能承受任何损失：风险承受能力最低类别，仅可购买R1产品。",
                                       "The customer accepts no loss at all: lowest category, R1 products only.",
                                       (q.id,)))
    if minor_by_answer or (age is not None and age < config.adult_age) or not customer_facts.civil_capacity:
        lowest_reasons.append(Flag("lowest_category_no_civil_capacity", "critical",
                                   "客户不具有完全民事行为能力：风险承受能力最低类别，仅可购买R1产品。",
                                   "The customer lacks full civil capacity: lowest category, R1 products only."))
    lowest = bool(lowest_reasons)

    outcome = apply_level_rules(np.array([overall]), {d: np.array([v]) for d, v in dimensions.items()},
                                np.array([np.nan if age is None else age], dtype=float), np.array([lowest]), config)
    level = CustomerLevel(int(outcome.level[0]))
    flags.extend(lowest_reasons)
    if outcome.weakest_link_applied[0] and not lowest:
        flags.append(Flag("weakest_link_cap", "info",
                          f"风险偏好或投资期限得分较低，等级上限为C{int(outcome.weakest_link_cap[0])}。",
                          "A low risk-attitude or horizon score caps the level at "
                          f"C{int(outcome.weakest_link_cap[0])}.",
                          tuple(q.id for q in qn.questions if q.dimension in config.weakest_link_dimensions)))
    if outcome.senior[0]:
        flags.append(Flag("senior_enhanced_protection", "warning",
                          f"客户年满{config.senior_age}周岁，适用加强保护：推荐与购买前须额外提示风险。",
                          f"The customer is {config.senior_age} or older: enhanced protection, extra risk "
                          "warnings before any recommendation or purchase."))
    if outcome.senior_cap_applied[0] and not lowest:
        flags.append(Flag("senior_level_cap", "info",
                          f"年满{config.senior_age}周岁客户的等级上限为C{config.senior_level_cap}。",
                          f"Customers aged {config.senior_age}+ are capped at C{config.senior_level_cap}."))
    confidence = max(config.min_confidence, 1.0 - config.contradiction_confidence_penalty * penalties)
    return Assessment(level=level, score=overall, dimensions=dimensions, lowest_category=lowest,
                      flags=tuple(flags), confidence=round(confidence if penalties else 1.0, 2),
                      questionnaire_version=qn.version, assessed_at=moment, expires_on=expires,
                      band_level=CustomerLevel(int(outcome.band_level[0])), answers=chosen,
                      facts=customer_facts.to_dict(), customer_id=customer_id, rules_version=config.rules_version)


def _refusal(qn: Questionnaire, facts: CustomerFacts, moment: datetime, expires: date, config: RiskConfig,
             customer_id: str | None) -> Assessment:
    flag = Flag("questionnaire_refused", "critical",
                "客户拒绝填写风险测评问卷，视为C1保守型" + ("（风险承受能力最低类别）。" if
                                                   config.refusal_is_lowest_category else "。"),
                "The customer refused the questionnaire and is treated as C1"
                + (" (lowest category)." if config.refusal_is_lowest_category else "."))
    return Assessment(level=CustomerLevel.C1, score=0.0, dimensions=dict.fromkeys(DIMENSIONS, 0.0),
                      lowest_category=config.refusal_is_lowest_category, flags=(flag,), confidence=0.0,
                      questionnaire_version=qn.version, assessed_at=moment, expires_on=expires,
                      band_level=CustomerLevel.C1, facts=facts.to_dict(), refused=True, customer_id=customer_id,
                      rules_version=config.rules_version)
