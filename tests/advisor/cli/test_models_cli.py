"""`advisor models` and `advisor propose` as a relationship manager would run them."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from advisor.cli import app

runner = CliRunner()


def test_models_json_has_fifteen_rows_and_assumptions() -> None:
    result = runner.invoke(app, ["models", "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert len(payload["models"]) == 15
    assert payload["model_version"] and payload["universe_as_of"]
    for row in payload["models"]:
        total = sum(row[c] for c in ("cash", "bond", "cn_equity", "global_equity", "gold"))
        assert abs(total - 1.0) < 1e-9
    assert set(payload["assumptions"]["expected_returns"]) == {"cash", "bond", "cn_equity", "global_equity", "gold"}


def test_models_table_and_previous_file(tmp_path: Path) -> None:
    first = runner.invoke(app, ["models", "--json"])
    prev = tmp_path / "models.json"
    prev.write_text(first.stdout, encoding="utf-8")
    again = runner.invoke(app, ["models", "--previous", str(prev)])
    assert again.exit_code == 0, again.output
    assert "C5 进取型" in again.stdout and "long" in again.stdout
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    failed = runner.invoke(app, ["models", "--previous", str(bad)])
    assert failed.exit_code == 2 and "previous" in failed.output


def test_propose_json() -> None:
    result = runner.invoke(app, ["propose", "--level", "C3", "--amount", "100000", "--horizon-years", "3",
                                 "--target-return", "0.05", "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["level"] == "C3"
    assert int(payload["strategy_risk_level"][1]) <= 3
    paid = sum(round(line["amount"] * 100) + round(line["fee"] * 100) for line in payload["lines"])
    assert paid + round(payload["cash_remainder"] * 100) == 10_000_000
    assert all(int(line["risk_level"][1]) <= 3 for line in payload["lines"])
    assert payload["goal_probability"] is not None
    # past performance is the policy's simulated record when one was computed, never an in-sample backtest
    assert payload["historical"] is None or payload["historical"]["kind"] == "simulated_walk_forward"


def test_propose_table_and_lowest_category() -> None:
    result = runner.invoke(app, ["propose", "--level", "C4", "--amount", "20000", "--horizon-years", "2",
                                 "--lowest-category"])
    assert result.exit_code == 0, result.output
    assert "R1" in result.stdout and "R2" not in result.stdout.split("cash remainder")[0]


def test_bad_inputs_exit_cleanly_naming_the_field() -> None:
    for args, field in ((["--level", "C9", "--amount", "1000", "--horizon-years", "3"], "level"),
                        (["--level", "C3", "--amount", "0", "--horizon-years", "3"], "amount"),
                        (["--level", "C3", "--amount", "1000", "--horizon-years", "-1"], "horizon_years")):
        result = runner.invoke(app, ["propose", *args, "--json"])
        assert result.exit_code == 2, result.output
        assert field in result.output and "Traceback" not in result.output


def test_propose_on_fixture_data(fixture_small: Path) -> None:
    result = runner.invoke(app, ["propose", "--level", "C5", "--amount", "50000", "--horizon-years", "5",
                                 "--data", str(fixture_small), "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["lines"]
    assert all(int(line["risk_level"][1]) <= 5 for line in payload["lines"])


def test_committee_views_from_a_file(tmp_path: Path) -> None:
    views = tmp_path / "views.json"
    views.write_text(json.dumps({"views": [{"asset_class": "cn_equity", "expected_return": 0.12,
                                            "confidence": 0.8}]}), encoding="utf-8")
    base = json.loads(runner.invoke(app, ["models", "--json"]).stdout)
    bullish = runner.invoke(app, ["models", "--json", "--assumptions", str(views)])
    assert bullish.exit_code == 0, bullish.output
    payload = json.loads(bullish.stdout)
    equity_mu = lambda p: p["assumptions"]["expected_returns"]["cn_equity"]  # noqa: E731
    assert equity_mu(payload) > equity_mu(base)
    c5 = lambda p: next(r for r in p["models"] if r["level"] == "C5" and r["horizon"] == "long")  # noqa: E731
    assert c5(payload)["cn_equity"] >= c5(base)["cn_equity"]
    views.write_text(json.dumps({"views": "up"}), encoding="utf-8")
    bad = runner.invoke(app, ["propose", "--level", "C3", "--amount", "1000", "--horizon-years", "1",
                              "--assumptions", str(views)])
    assert bad.exit_code == 2 and "views" in bad.output
