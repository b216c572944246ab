"""`advisor risk ...` end to end through Typer: JSON shapes and clean errors (exit 2, no traceback)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from advisor.cli import app
from risk.synthetic import synthetic_kyc

runner = CliRunner()
MIDDLE = {"Q01": "C", "Q02": "C", "Q03": "B", "Q04": "D", "Q05": "C", "Q06": "C", "Q07": "C", "Q08": "C",
          "Q09": "C", "Q10": "C", "Q11": "C", "Q12": "D", "Q13": "C", "Q14": "C"}


def _run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["risk", *args])
    assert "Traceback" not in result.output
    return result.exit_code, result.output


def test_questionnaire_json_shape() -> None:
    code, output = _run("questionnaire", "--json")
    payload = json.loads(output)
    assert code == 0 and payload["version"] == "v1"
    question = payload["questions"][1]
    assert set(question) == {"id", "dimension", "text_zh", "text_en", "options"}
    assert set(question["options"][0]) == {"id", "text_zh", "text_en", "score"}


def test_assess_json(tmp_path: Path) -> None:
    answers = tmp_path / "answers.json"
    answers.write_text(json.dumps(dict(MIDDLE, facts={"age": 38}, customer_id="c-9")), encoding="utf-8")
    code, output = _run("assess", "--answers", str(answers), "--as-of", "2026-04-01", "--json")
    payload = json.loads(output)
    assert code == 0
    assert payload["level"] == "C4" and payload["level_name_zh"] == "成长型" and payload["score"] == 61.0
    assert set(payload["dimensions"]) == {"financial_capacity", "knowledge_experience", "objective",
                                          "horizon_liquidity", "risk_attitude"}
    assert payload["expires_on"] == "2027-04-01" and payload["customer_id"] == "c-9"
    assert payload["lowest_category"] is False and payload["flags"] == [] and payload["confidence"] == 1.0


@pytest.mark.parametrize(("content", "named"), [
    (dict(MIDDLE, Q77="A"), "Q77"),
    (dict(MIDDLE, Q04="X"), "Q04"),
    ({k: v for k, v in MIDDLE.items() if k != "Q13"}, "Q13"),
    (dict(MIDDLE, facts={"age": 300}), "facts.age"),
    (dict(MIDDLE, facts={"annual_income": -10}), "facts.annual_income"),
])
def test_assess_bad_input_names_the_question(tmp_path: Path, content: dict, named: str) -> None:
    answers = tmp_path / "answers.json"
    answers.write_text(json.dumps(content), encoding="utf-8")
    code, output = _run("assess", "--answers", str(answers), "--json")
    assert code == 2 and named in output


def test_assess_duplicate_key_and_missing_file(tmp_path: Path) -> None:
    answers = tmp_path / "answers.json"
    body = json.dumps(MIDDLE)[:-1] + ', "Q05": "A"}'
    answers.write_text(body, encoding="utf-8")
    code, output = _run("assess", "--answers", str(answers))
    assert code == 2 and "Q05" in output and "duplicate" in output
    code, output = _run("assess", "--answers", str(tmp_path / "nope.json"))
    assert code == 2 and "nope.json" in output


def test_assess_refusal(tmp_path: Path) -> None:
    answers = tmp_path / "answers.json"
    answers.write_text('{"refused": true}', encoding="utf-8")
    payload = json.loads(_run("assess", "--answers", str(answers), "--json")[1])
    assert payload["level"] == "C1" and payload["lowest_category"] and payload["refused"]


def test_profile_batch_writes_profiles_and_rejects(tmp_path: Path) -> None:
    kyc = synthetic_kyc(200, seed=4)
    kyc.loc[5, "age"] = 300
    src, dst, rej = tmp_path / "kyc.parquet", tmp_path / "profiles.csv", tmp_path / "rejects.csv"
    kyc.to_parquet(src)
    code, output = _run("profile", "--kyc", str(src), "--out", str(dst), "--rejects", str(rej), "--json")
    summary = json.loads(output)
    assert code == 0 and summary["profiled"] == 199 and summary["rejected_rows"] == 1
    assert summary["rejects"][0]["field"] == "age"
    written = pd.read_csv(dst)
    assert len(written) == 199 and {"inferred_level", "evidence", "flag_level_gap"} <= set(written.columns)
    assert pd.read_csv(rej)["row"].tolist() == [6]  # counted from 1, the first record after the header


def test_check_and_tier_and_reassess(tmp_path: Path) -> None:
    payload = json.loads(_run("check", "--customer-level", "C2", "--product-level", "R4", "--product-code",
                              "110011", "--json")[1])
    assert payload["decision"] == "warn_and_confirm" and "110011" in payload["warning"]["text_zh"]
    payload = json.loads(_run("check", "--customer-level", "C2", "--product-level", "R4", "--kind",
                              "wealth_management", "--json")[1])
    assert payload["decision"] == "block"
    code, output = _run("check", "--customer-level", "C7", "--product-level", "R4")
    assert code == 2 and "customer_level" in output
    assert json.loads(_run("tier", "600000", "--json")[1])["tier"] == "affluent"
    previous = tmp_path / "prev.json"
    previous.write_text(json.dumps({"expires_on": "2026-01-01", "facts": {"age": 64}}), encoding="utf-8")
    facts = tmp_path / "facts.json"
    facts.write_text('{"age": 65}', encoding="utf-8")
    decision = json.loads(_run("reassess", "--previous", str(previous), "--facts", str(facts), "--as-of",
                               "2025-06-01", "--json")[1])
    assert decision["required"] and [r["code"] for r in decision["reasons"]] == ["age_band_changed"]


def test_confirm_records_or_refuses() -> None:
    code, output = _run("confirm", "--customer-id", "c1", "--product-code", "110011", "--customer-level", "C2",
                        "--product-level", "R4", "--channel", "app", "--json")
    record = json.loads(output)
    assert code == 0 and record["customer_level"] == "C2" and record["warning_text_version"]
    assert "110011" in record["text_shown"]
    code, output = _run("confirm", "--customer-id", "c1", "--product-code", "110011", "--customer-level", "C1",
                        "--product-level", "R2", "--lowest-category")
    assert code == 2 and "blocked" in output


def test_as_of_is_parsed_by_the_one_shared_helper(tmp_path: Path) -> None:
    """`risk` and `diagnose` read --as-of through `advisor.cli.common.parse_as_of`, so both give the same
    clean error for a bad date."""
    from datetime import date

    from advisor.cli import common, diagnose
    from advisor.cli import risk as risk_cli

    assert common.parse_as_of("2026-04-01") == date(2026, 4, 1) and common.parse_as_of(None) is None
    assert diagnose.parse_as_of is common.parse_as_of and risk_cli.parse_as_of is common.parse_as_of
    assert not hasattr(risk_cli, "_as_of")
    answers = tmp_path / "answers.json"
    answers.write_text(json.dumps(MIDDLE), encoding="utf-8")
    code, output = _run("assess", "--answers", str(answers), "--as-of", "2026-13-01")
    assert code == 2 and "--as-of: not a date (YYYY-MM-DD): '2026-13-01'" in output
    result = runner.invoke(app, ["diagnose", "--customer-json", str(answers), "--as-of", "01/04/2026"])
    assert result.exit_code == 2 and "--as-of: not a date (YYYY-MM-DD): '01/04/2026'" in result.output
