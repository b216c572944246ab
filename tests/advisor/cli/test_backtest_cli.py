"""`advisor backtest`: the walk-forward grid as JSON and HTML, and clear errors for bad options."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from advisor.cli import app

runner = CliRunner()


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> tuple[dict, Path]:
    out = tmp_path_factory.mktemp("backtest")
    result = runner.invoke(app, ["backtest", "--start", "2024-04-01", "--end", "2024-08-30", "--levels", "C2,C5",
                                 "--horizons", "0.5,5", "--json", "--html", str(out / "report.html"),
                                 "--out", str(out / "report.json"), "--markdown", str(out / "grid.md")])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout), out


def test_json_report_has_the_grid_and_its_comparisons(report):
    payload, out = report
    assert payload["kind"] == "simulated_walk_forward" and payload["label"]["zh"] and payload["label"]["en"]
    results = payload["results"]
    assert {(r["level"], r["horizon_years"]) for r in results} == {("C2", 0.5), ("C2", 5.0), ("C5", 0.5), ("C5", 5.0)}
    for r in results:
        for key in ("start", "end", "annual_return", "annual_volatility", "max_drawdown", "turnover_per_year",
                    "fees_per_year", "fees_pct_per_year", "trades_per_year", "volatility_budget_used"):
            assert key in r
        assert -1 < r["annual_return"] < 1 and 0 <= r["annual_volatility"] < 1  # fractions, not percent
        assert r["max_drawdown"] <= 0 and r["customers"] == 5  # April … August starts
    c2 = next(r for r in results if r["level"] == "C2" and r["horizon_years"] == 5.0)
    c5 = next(r for r in results if r["level"] == "C5" and r["horizon_years"] == 5.0)
    assert c5["annual_volatility"] > c2["annual_volatility"]
    comparisons = payload["comparisons"]
    assert {"buy_and_hold", "passive_etf_mix", "in_sample_shown_today", "shown_at_start"} <= set(comparisons)
    assert len(comparisons["buy_and_hold"]) == 4 and all(r["trades_per_year"] == 0 for r in comparisons["buy_and_hold"])
    assert payload["checks"]["cash_identity_gap"] < 1e-6
    assert len(payload["cohorts"]) == 20 and payload["research"]
    assert json.loads((out / "report.json").read_text(encoding="utf-8"))["span"] == payload["span"]
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "模拟业绩" in page and page.count("<svg") == 3 and "http" not in page.split("<svg")[0]
    assert isinstance(payload["policy_checks"], list)
    grid = (out / "grid.md").read_text(encoding="utf-8")  # the tables docs/backtest-results.md records
    rows = [line for line in grid.splitlines() if line.startswith("| C")]
    assert len(rows) == 8 and "| C5 | 5y |" in grid  # the grid, then the alternatives, one row per group
    assert ("No finding" in grid) == (not payload["policy_checks"])


def test_short_runs_give_no_proposal_record_and_compare_to_a_baseline(report):
    from advisor.simulation.backtest import compare_to_baseline, proposal_records

    payload, out = report
    assert proposal_records(payload) == {}  # under a year: not shown to customers
    worse = json.loads(json.dumps(payload))
    for row in worse["results"]:
        row["annual_return"] -= 0.01
    rows = compare_to_baseline(payload, worse)
    assert len(rows) == 4 and all(r["annual_return"]["change"] == pytest.approx(0.01) for r in rows)
    (out / "bad.json").write_text('{"results": 3}', encoding="utf-8")
    result = runner.invoke(app, ["backtest", "--baseline", str(out / "bad.json")])
    assert result.exit_code == 2 and "baseline" in result.output  # refused before any simulation


@pytest.mark.parametrize(("args", "field"), [
    (["--levels", "C9"], "levels"), (["--horizons", "abc"], "horizons"), (["--start", "2024-13-01"], "start"),
    (["--amount", "-5"], "amount"), (["--calendar", "weekly"], "calendar"), (["--research", "daily"],
                                                                           "research_cadence"),
    (["--start", "2024-06-01", "--end", "2024-05-01"], "end"),
])
def test_bad_options_name_the_field(args, field):
    result = runner.invoke(app, ["backtest", *args])
    assert result.exit_code == 2
    assert "Traceback" not in result.output and field in result.output
