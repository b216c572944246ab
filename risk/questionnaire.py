"""The risk questionnaire as versioned data (`risk/data/questionnaire_<version>.json`).

A questionnaire is loaded and validated once per version. Validation enforces what the scoring rules
rely on (docs/risk-methodology.md §2): options of a scored question are listed in rising score order,
a lowest-category option is the lowest-scored of its question, every dimension has questions, and a
contradiction rule's cautious reading is the highest option below its threshold (keeps scoring monotone).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from products.errors import BadInputError, DataError
from risk.config import DIMENSIONS

BASIC = "basic"
_CROSS_CHECKED_FACTS = frozenset({"annual_income", "financial_assets"})
_FILE_RE = re.compile(r"^questionnaire_(v\d+)\.json$")


@dataclass(frozen=True)
class Option:
    id: str
    text_zh: str
    text_en: str
    score: float
    lowest_category: bool = False
    age_range: tuple[int, int] | None = None
    value_range: tuple[float, float | None] | None = None  # [low, high) in yuan; high None = open

    def to_dict(self) -> dict[str, Any]:
        score = int(self.score) if float(self.score).is_integer() else self.score
        return {"id": self.id, "text_zh": self.text_zh, "text_en": self.text_en, "score": score}


@dataclass(frozen=True)
class Question:
    id: str
    dimension: str  # one of DIMENSIONS, or "basic" (collected, not scored)
    text_zh: str
    text_en: str
    options: tuple[Option, ...]
    fact: str | None = None  # the customer fact this question asks about (cross-checked with records)

    def option(self, option_id: str) -> Option | None:
        return next((o for o in self.options if o.id == option_id), None)

    @property
    def max_score(self) -> float:
        return max(o.score for o in self.options)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "dimension": self.dimension, "text_zh": self.text_zh, "text_en": self.text_en,
                "options": [o.to_dict() for o in self.options]}


@dataclass(frozen=True)
class ContradictionRule:
    """If the answer to `if_question` scores ≤ `if_max_score` and the answer to `then_question` scores
    ≥ `then_min_score`, the latter is read as `cap_score` (the highest option below the threshold)."""

    code: str
    if_question: str
    if_max_score: float
    then_question: str
    then_min_score: float
    cap_score: float
    text_zh: str
    text_en: str


@dataclass(frozen=True)
class Questionnaire:
    version: str
    effective_from: str
    title_zh: str
    title_en: str
    questions: tuple[Question, ...]
    contradictions: tuple[ContradictionRule, ...]

    def question(self, question_id: str) -> Question | None:
        return next((q for q in self.questions if q.id == question_id), None)

    @property
    def question_ids(self) -> tuple[str, ...]:
        return tuple(q.id for q in self.questions)

    def dimension_max(self) -> dict[str, float]:
        return {d: sum(q.max_score for q in self.questions if q.dimension == d) for d in DIMENSIONS}

    def to_dict(self) -> dict[str, Any]:
        return {"version": self.version, "effective_from": self.effective_from, "title_zh": self.title_zh,
                "title_en": self.title_en, "questions": [q.to_dict() for q in self.questions]}


def available_versions() -> list[str]:
    """Questionnaire versions shipped with the package, oldest first."""
    names = [p.name for p in resources.files("risk.data").iterdir()]
    versions = [m.group(1) for n in names if (m := _FILE_RE.match(n))]
    return sorted(versions, key=lambda v: int(v[1:]))


@cache
def load_questionnaire(version: str | None = None) -> Questionnaire:
    """Load one version (default: the latest) and validate it."""
    versions = available_versions()
    if not versions:
        raise DataError("no questionnaire data files found in risk/data")
    chosen = versions[-1] if version is None else version
    if chosen not in versions:
        raise BadInputError(f"questionnaire_version: unknown version {version!r}; available: {', '.join(versions)}",
                            details={"field": "questionnaire_version"})
    text = resources.files("risk.data").joinpath(f"questionnaire_{chosen}.json").read_text(encoding="utf-8")
    return parse_questionnaire(json.loads(text))


def parse_questionnaire(raw: dict[str, Any]) -> Questionnaire:
    """Build and validate a Questionnaire from its JSON form; DataError names what is wrong."""
    try:
        questions = tuple(_parse_question(q) for q in raw["questions"])
        by_id = {q.id: q for q in questions}
        rules = tuple(_parse_rule(r, by_id) for r in raw.get("contradictions", []))
        questionnaire = Questionnaire(str(raw["version"]), str(raw.get("effective_from", "")),
                                      str(raw.get("title_zh", "")), str(raw.get("title_en", "")), questions, rules)
    except (KeyError, TypeError, ValueError) as err:
        raise DataError(f"questionnaire data is malformed: {err!r}") from err
    _validate(questionnaire)
    return questionnaire


def _parse_question(q: dict[str, Any]) -> Question:
    options = tuple(
        Option(id=str(o["id"]), text_zh=o["text_zh"], text_en=o["text_en"], score=float(o["score"]),
               lowest_category=bool(o.get("lowest_category", False)),
               age_range=tuple(o["age_range"]) if "age_range" in o else None,
               value_range=tuple(o["value_range"]) if "value_range" in o else None)
        for o in q["options"])
    return Question(id=str(q["id"]), dimension=str(q["dimension"]), text_zh=q["text_zh"], text_en=q["text_en"],
                    options=options, fact=q.get("fact"))


def _parse_rule(r: dict[str, Any], by_id: dict[str, Question]) -> ContradictionRule:
    for part in ("if", "then"):
        if r[part]["question"] not in by_id:
            raise DataError(f"contradiction rule {r['code']}: unknown question {r[part]['question']!r}")
    then_q = by_id[r["then"]["question"]]
    threshold = float(r["then"]["min_score"])
    below = [o.score for o in then_q.options if o.score < threshold]
    if not below:
        raise ValueError(f"rule {r['code']}: no option of {then_q.id} scores below {threshold}")
    return ContradictionRule(code=r["code"], if_question=r["if"]["question"], if_max_score=float(r["if"]["max_score"]),
                             then_question=then_q.id, then_min_score=threshold, cap_score=max(below),
                             text_zh=r["text_zh"], text_en=r["text_en"])


def _validate(qn: Questionnaire) -> None:
    ids = [q.id for q in qn.questions]
    if len(set(ids)) != len(ids):
        raise DataError(f"questionnaire {qn.version}: duplicate question ids")
    if not 12 <= len(ids) <= 18:
        raise DataError(f"questionnaire {qn.version}: {len(ids)} questions; expected 12–18")
    for q in qn.questions:
        if q.dimension not in (*DIMENSIONS, BASIC):
            raise DataError(f"question {q.id}: unknown dimension {q.dimension!r}")
        option_ids = [o.id for o in q.options]
        if len(set(option_ids)) != len(option_ids) or len(option_ids) < 2:
            raise DataError(f"question {q.id}: needs at least two options with distinct ids")
        scores = [o.score for o in q.options]
        if q.dimension != BASIC and (any(s < 0 for s in scores) or scores != sorted(scores)):
            raise DataError(f"question {q.id}: option scores must be non-negative and listed in rising order")
        lowest = min(scores)
        if any(o.lowest_category and o.score != lowest for o in q.options):
            raise DataError(f"question {q.id}: a lowest-category option must carry the question's lowest score")
        if q.fact is not None and (q.fact not in _CROSS_CHECKED_FACTS or any(o.value_range is None
                                                                            for o in q.options)):
            raise DataError(f"question {q.id}: fact {q.fact!r} must be one of {sorted(_CROSS_CHECKED_FACTS)} "
                            "and every option needs a value_range")
    for dim, total in qn.dimension_max().items():
        if total <= 0:
            raise DataError(f"questionnaire {qn.version}: dimension {dim} has no scored question")
    if not any(q.dimension == BASIC and all(o.age_range for o in q.options) for q in qn.questions):
        raise DataError(f"questionnaire {qn.version}: needs an age question (options with age_range)")
