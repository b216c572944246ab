"""`advisor data import` / `advisor data check` on fixture_small, as an operator would run them."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
from click.testing import Result
from typer.testing import CliRunner

from advisor.cli import app

runner = CliRunner()


def test_import_then_check(fixture_small: Path, tmp_path: Path) -> None:
    out = tmp_path / "canon"
    result = runner.invoke(app, ["data", "import", str(fixture_small), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "funds" in result.stdout and "Validation findings" in result.stdout
    assert (out / "manifest.json").exists() and (out / "nav.parquet").exists()

    checked = runner.invoke(app, ["data", "check", str(out), "--json"])
    assert checked.exit_code == 0, checked.output
    payload = json.loads(checked.stdout)
    assert payload["layout"] == "canonical" and payload["ok"] is True
    assert payload["counts"]["error"] == 0
    assert {"check", "severity", "count", "funds"} <= set(payload["summary"][0])
    assert all({"code", "date", "row", "check", "severity", "message"} <= set(f) for f in payload["findings"])

    table = runner.invoke(app, ["data", "check", str(out), "--show", "3"])
    assert table.exit_code == 0 and "OK" in table.stdout
    strict = runner.invoke(app, ["data", "check", str(out), "--fail-on", "warning"])
    assert strict.exit_code == 1 and "FAILED" in strict.stdout  # fixture has one repaired return


def test_import_json_counts(fixture_small: Path, tmp_path: Path) -> None:
    result = runner.invoke(app, ["data", "import", str(fixture_small), "--out", str(tmp_path / "c"), "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["counts"]["funds"] == 27 and payload["counts"]["money_market_funds"] == 3
    assert payload["row_counts"]["funds"] == 27


def test_check_reports_errors_with_exit_1(fixture_small: Path, tmp_path: Path) -> None:
    out = tmp_path / "canon"
    assert runner.invoke(app, ["data", "import", str(fixture_small), "--out", str(out)]).exit_code == 0
    holdings = pd.read_parquet(out / "holdings.parquet")
    first = holdings[(holdings["fund_code"] == holdings["fund_code"].iloc[0])
                     & (holdings["quarter"] == holdings["quarter"].iloc[0])].index
    holdings.loc[first, "weight"] = 0.5  # a top-10 summing far above 100%
    holdings.to_parquet(out / "holdings.parquet", index=False)
    result = runner.invoke(app, ["data", "check", str(out), "--json"])
    assert result.exit_code == 1
    payload = json.loads(result.stdout)
    assert payload["ok"] is False
    assert any(f["check"] == "holdings_over_100" for f in payload["findings"])


def test_check_uses_data_env(fixture_small: Path, monkeypatch) -> None:
    monkeypatch.setenv("ADVISOR_DATA_DIR", str(fixture_small))
    result = runner.invoke(app, ["data", "check", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["layout"] == "fixture"


def _text(result: Result) -> str:
    return " ".join(result.output.split())


def test_clean_errors_not_tracebacks(tmp_path: Path, fixture_small: Path) -> None:
    missing = runner.invoke(app, ["data", "check", str(tmp_path / "nope")])
    assert missing.exit_code == 2 and "does not exist" in _text(missing)
    nothing = runner.invoke(app, ["data", "check"])
    assert nothing.exit_code == 2 and "give a directory" in _text(nothing)
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "notes.txt").write_text("keep me")
    busy = runner.invoke(app, ["data", "import", str(fixture_small), "--out", str(tmp_path / "busy")])
    assert busy.exit_code == 2 and "not a canonical directory" in _text(busy)
    bad = runner.invoke(app, ["data", "check", str(fixture_small), "--fail-on", "sometimes"])
    assert bad.exit_code == 2 and "--fail-on" in _text(bad)
    assert "Traceback" not in missing.output + nothing.output + busy.output + bad.output
