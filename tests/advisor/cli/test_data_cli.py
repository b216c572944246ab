"""`advisor data import` / `advisor data check` on fixture_small, as an operator would run them."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
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


def test_check_of_an_import_reproduces_the_imports_findings(fixture_small: Path, tmp_path: Path) -> None:
    """`data check` on what `data import` wrote reports what the import reported: every check with the same
    count (it may add checks only the stored tables allow, never lose or double one)."""
    out = tmp_path / "canon"
    imported = runner.invoke(app, ["data", "import", str(fixture_small), "--out", str(out), "--json"])
    assert imported.exit_code == 0, imported.output
    checked = runner.invoke(app, ["data", "check", str(out), "--json"])
    assert checked.exit_code == 0, checked.output
    at_import = {(r["check"], r["severity"]): r["count"] for r in json.loads(imported.stdout)["summary"]}
    at_check = {(r["check"], r["severity"]): r["count"] for r in json.loads(checked.stdout)["summary"]}
    assert at_import, "the fixture has findings to reproduce"
    assert {k: at_check.get(k) for k in at_import} == at_import


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


# --------------------------------------------------------------------------------------------------
# A canonical directory whose tables are empty or missing: a clear verdict, never a traceback
# --------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def canonical_src(fixture_small: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("canon") / "full"
    assert runner.invoke(app, ["data", "import", str(fixture_small), "--out", str(out)]).exit_code == 0
    return out


def variant(src: Path, tmp_path: Path, table: str, how: str) -> Path:
    """A copy of `src` with `table`.parquet emptied (same schema) or deleted."""
    out = tmp_path / f"{table}_{how}"
    shutil.copytree(src, out)
    path = out / f"{table}.parquet"
    if how == "empty":
        pd.read_parquet(path).iloc[:0].to_parquet(path, index=False)
    else:
        path.unlink()
    return out


def test_check_fails_on_empty_nav_naming_the_file(canonical_src: Path, tmp_path: Path) -> None:
    empty = variant(canonical_src, tmp_path, "nav", "empty")
    result = runner.invoke(app, ["data", "check", str(empty), "--json"])
    assert result.exit_code == 1, result.output
    payload = json.loads(result.stdout)
    assert payload["ok"] is False and payload["counts"]["error"] == 1
    assert payload["findings"][0]["source"] == "nav.parquet"
    assert "no rows" in payload["findings"][0]["message"]
    table = runner.invoke(app, ["data", "check", str(empty), "--fail-on", "never"])
    assert table.exit_code == 1 and "FAILED" in table.stdout and "nav.parquet" in _text(table)
    propose = runner.invoke(app, ["propose", "--level", "C3", "--amount", "100000", "--horizon-years", "3",
                                  "--data", str(empty)])
    assert propose.exit_code == 2 and "nav.parquet" in _text(propose)
    assert "Traceback" not in result.output + table.output + propose.output


@pytest.mark.parametrize(("table", "how"), [("holdings", "empty"), ("holdings", "deleted"),
                                            ("benchmarks", "empty")])
def test_check_passes_on_empty_optional_tables_and_says_so(canonical_src: Path, tmp_path: Path, table: str,
                                                           how: str) -> None:
    path = variant(canonical_src, tmp_path, table, how)
    result = runner.invoke(app, ["data", "check", str(path), "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    gaps = [f for f in payload["findings"] if f["check"] == "optional_table_empty"]
    assert [(g["source"], g["severity"]) for g in gaps] == [(table, "info")]
    assert "unavailable" in gaps[0]["message"]


@pytest.mark.parametrize(("table", "how"), [("holdings", "empty"), ("holdings", "deleted")])
def test_propose_works_without_holdings(canonical_src: Path, tmp_path: Path, table: str, how: str) -> None:
    path = variant(canonical_src, tmp_path, table, how)
    result = runner.invoke(app, ["propose", "--level", "C3", "--amount", "100000", "--horizon-years", "3",
                                 "--data", str(path), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["lines"]


def test_check_of_the_shipped_data_passes_on_rows_the_loader_excluded(shared_data: Path) -> None:
    """Rows the loader leaves out (a fund-quarter whose top-10 sums above 100%) are reported as warnings
    naming the exclusion; the data the service uses has no error, so the check passes."""
    result = runner.invoke(app, ["data", "check", str(shared_data), "--json"])
    assert result.exit_code == 0, result.output[-2000:]
    payload = json.loads(result.stdout)
    assert payload["ok"] is True and payload["counts"]["error"] == 0
    excluded = [f for f in payload["findings"] if f["check"] == "holdings_over_100"]
    assert excluded and all(f["severity"] == "warning" and "excluded" in f["message"] for f in excluded)
