"""The questionnaire data file and its validation; answer-file parsing."""

from __future__ import annotations

import copy
import json
from importlib import resources

import pytest

from products.errors import BadInputError, DataError
from risk.answers_io import parse_answer_document, parse_json_text, read_answer_file
from risk.config import DIMENSIONS
from risk.questionnaire import BASIC, available_versions, load_questionnaire, parse_questionnaire

RAW = json.loads(resources.files("risk.data").joinpath("questionnaire_v1.json").read_text(encoding="utf-8"))


def test_questionnaire_covers_five_dimensions_in_two_languages() -> None:
    qn = load_questionnaire()
    assert qn.version == available_versions()[-1] == "v1"
    assert 12 <= len(qn.questions) <= 18
    assert {q.dimension for q in qn.questions} == {*DIMENSIONS, BASIC}
    assert all(v == 20 for v in qn.dimension_max().values())  # the 100-point template
    for q in qn.questions:
        assert q.text_zh and q.text_en
        assert all(o.text_zh and o.text_en for o in q.options)
    payload = qn.to_dict()
    assert set(payload["questions"][0]) == {"id", "dimension", "text_zh", "text_en", "options"}
    assert set(payload["questions"][0]["options"][0]) == {"id", "text_zh", "text_en", "score"}


def test_unknown_version_is_named() -> None:
    with pytest.raises(BadInputError, match="questionnaire_version"):
        load_questionnaire("v9")


@pytest.mark.parametrize(("mutate", "message"), [
    (lambda d: d["questions"][3]["options"].reverse(), "rising order"),
    (lambda d: d["questions"][11]["options"][1].update(lowest_category=True), "lowest score"),
    (lambda d: d["questions"].__setitem__(4, dict(d["questions"][4], id="Q04")), "duplicate question"),
    (lambda d: d["questions"][2].update(dimension="luck"), "unknown dimension"),
    (lambda d: d["contradictions"][0]["then"].update(min_score=0), "malformed"),
    (lambda d: d.update(questions=d["questions"][:8], contradictions=[]), "expected 12–18"),
    (lambda d: d["contradictions"][1]["if"].update(question="Q99"), "unknown question 'Q99'"),
    (lambda d: d["questions"][3].update(fact="debts"), "fact 'debts'"),
])
def test_invalid_questionnaire_data_is_rejected(mutate, message: str) -> None:
    raw = copy.deepcopy(RAW)
    mutate(raw)
    with pytest.raises(DataError, match=message):
        parse_questionnaire(raw)


def test_duplicate_keys_are_detected_and_named() -> None:
    with pytest.raises(BadInputError) as err:
        parse_json_text('{"Q01": "A", "Q02": "B", "Q01": "C"}', "answers.json")
    assert err.value.details["question"] == "Q01"
    with pytest.raises(BadInputError, match="line 1"):
        parse_json_text('{"Q01": ', "answers.json")


def test_answer_document_forms(tmp_path) -> None:
    flat = parse_answer_document({"Q01": "A", "facts": {"age": 40}, "customer_id": 7})
    assert flat.answers == {"Q01": "A"} and flat.facts == {"age": 40} and flat.customer_id == "7"
    nested = parse_answer_document({"answers": {"Q01": "A"}})
    assert nested.answers == {"Q01": "A"}
    assert parse_answer_document({"refused": True}).answers is None
    with pytest.raises(BadInputError, match="refused"):
        parse_answer_document({"refused": True, "Q01": "A"})
    with pytest.raises(BadInputError, match="Q02"):
        parse_answer_document({"answers": {"Q01": "A"}, "Q02": "B"})
    answers = tmp_path / "a.json"
    facts = tmp_path / "f.json"
    answers.write_text('{"Q01": "B", "facts": {"age": 30}}', encoding="utf-8")
    facts.write_text('{"age": 31}', encoding="utf-8")
    with pytest.raises(BadInputError, match="once"):
        read_answer_file(answers, facts)
