"""`advisor funds list / show` on the embedded demo universe and on the real fixture."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from advisor.cli import app

runner = CliRunner()

METRIC_KEYS = {"annual_return", "annual_volatility", "max_drawdown", "sharpe", "sortino", "calmar",
               "excess_return", "tracking_error", "information_ratio", "beta", "alpha", "monthly_win_rate",
               "up_capture", "down_capture"}


def run_json(*args: str) -> dict:
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_list_has_every_fund_with_fees_and_levels(demo_universe) -> None:
    payload = run_json("funds", "list")
    assert payload["count"] == len(demo_universe.funds)
    row = payload["funds"][0]
    assert set(row) >= {"code", "name", "type", "asset_class", "risk_level", "fees", "min_purchase"}
    assert {r["risk_level"] for r in payload["funds"]} <= {"R1", "R2", "R3", "R4", "R5"}
    assert set(row["fees"]) >= {"subscription_rate", "redemption", "running_cost"}
    equity = next(r for r in payload["funds"] if r["type"] == "equity" and r["fees"]["subscription_rate"])
    assert equity["fees"]["redemption"].startswith("<7d 1.50%")  # the regulatory 7-day floor is visible


def test_list_filters(demo_universe) -> None:
    payload = run_json("funds", "list", "--max-risk", "R2")
    assert payload["count"] > 0
    assert all(r["risk_level"] in ("R1", "R2") for r in payload["funds"])
    expected = int((demo_universe.funds["risk_level"] <= 2).sum())
    assert payload["count"] == expected
    bonds = run_json("funds", "list", "--type", "bond")
    assert bonds["count"] > 0 and all(r["type"] == "bond" for r in bonds["funds"])
    gold = run_json("funds", "list", "--asset-class", "gold")
    assert gold["count"] > 0 and all(r["asset_class"] == "gold" for r in gold["funds"])
    chinese = run_json("funds", "list", "--type", "债券型")
    assert chinese["count"] == bonds["count"]


def test_list_table_output() -> None:
    result = runner.invoke(app, ["funds", "list", "--max-risk", "R1"])
    assert result.exit_code == 0
    assert "R1" in result.output


@pytest.mark.parametrize(("args", "option"), [
    (["--max-risk", "R9"], "--max-risk"),
    (["--type", "spaceship"], "--type"),
    (["--asset-class", "crypto"], "--asset-class"),
])
def test_list_bad_options_exit_2_naming_the_option(args, option) -> None:
    result = runner.invoke(app, ["funds", "list", *args])
    assert result.exit_code == 2
    assert option in result.output


def test_show_reports_metrics_rolling_and_benchmark(demo_universe) -> None:
    from products.analytics import compute_metrics, fund_benchmark_returns

    code = demo_universe.funds.index[demo_universe.funds["fund_type"] == "equity"][0]
    payload = run_json("funds", "show", code)
    assert payload["code"] == code
    assert payload["risk_level"] == f"R{int(demo_universe.funds.at[code, 'risk_level'])}"
    assert set(payload["metrics"]) >= METRIC_KEYS
    assert payload["metrics"]["max_drawdown"] < 0
    assert set(payload["rolling"]) == {"1y", "3y", "5y"}
    assert payload["benchmark"]["weights"]
    assert "subscription_tiers" in payload["fees"] and "profile" in payload
    assert set(payload) >= {"dimensions", "stars", "look_through", "style"}  # the research card, merged
    expected = compute_metrics(demo_universe.returns[[code]], fund_benchmark_returns(demo_universe)[[code]])
    assert payload["metrics"]["annual_return"] == pytest.approx(expected.at[code, "annual_return"], rel=1e-12)
    assert payload["metrics"]["beta"] == pytest.approx(expected.at[code, "beta"], rel=1e-12)


def test_show_window_and_risk_free(demo_universe) -> None:
    code = demo_universe.funds.index[demo_universe.funds["fund_type"] == "index"][0]
    base = run_json("funds", "show", code, "--start", "2022-01-01", "--end", "2023-12-31")
    assert base["window"]["start"] >= "2022-01-01" and base["window"]["end"] <= "2023-12-31"
    with_rf = run_json("funds", "show", code, "--start", "2022-01-01", "--end", "2023-12-31", "--risk-free", "0.02")
    assert with_rf["metrics"]["sharpe"] < base["metrics"]["sharpe"]
    assert with_rf["metrics"]["annual_return"] == pytest.approx(base["metrics"]["annual_return"])
    assert base["rolling"]["3y"]["n_windows"] == 0  # a two-year window has no 3-year sub-window
    assert not any(w["code"] == "short_history" for w in base["warnings"])
    short = run_json("funds", "show", code, "--start", "2025-06-01")
    assert any(w["code"] == "short_history" and w["message_zh"] for w in short["warnings"])


def test_show_table_output(demo_universe) -> None:
    code = demo_universe.funds.index[0]
    result = runner.invoke(app, ["funds", "show", code])
    assert result.exit_code == 0
    assert code in result.output and "Sharpe" in result.output and "distributions 分红" in result.output


@pytest.mark.parametrize(("args", "option"), [
    (["--start", "2027-01-01"], "--start"),  # after the data's end
    (["--start", "2027-01-01", "--end", "2027-06-30"], "--start"),
    (["--start", "1990-01-01", "--end", "1990-06-30"], "--end"),  # before the fund's first price
])
def test_a_window_without_prices_is_an_error_naming_the_option(demo_universe, args, option) -> None:
    """Not a card of dashes: the refusal names the option and the span the data has."""
    code = demo_universe.funds.index[0]
    result = runner.invoke(app, ["funds", "show", code, *args])
    assert result.exit_code == 2, result.output
    assert option in result.output and "empty_window" in result.output and "Traceback" not in result.output


def test_show_unknown_code_exits_2_naming_it() -> None:
    result = runner.invoke(app, ["funds", "show", "123456", "--json"])
    assert result.exit_code == 2
    assert "123456" in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize(("args", "option"), [
    (["--start", "2021-13-45"], "--start"),
    (["--end", "yesterday-ish"], "--end"),
    (["--start", "2024-01-01", "--end", "2023-01-01"], "--start"),
    (["--risk-free", "5"], "--risk-free"),
])
def test_show_bad_options_exit_2_naming_the_option(demo_universe, args, option) -> None:
    code = demo_universe.funds.index[0]
    result = runner.invoke(app, ["funds", "show", code, *args])
    assert result.exit_code == 2
    assert option in result.output
    assert "Traceback" not in result.output


def test_show_on_the_real_fixture(fixture_small) -> None:
    """The small real slice: a real QDII fund with its parsed Nasdaq benchmark."""
    payload = run_json("funds", "show", "000055", "--data", str(fixture_small))
    assert payload["benchmark"]["weights"] == {"us_tech": 1.0}
    assert payload["metrics"]["annual_volatility"] > 0.1
    assert payload["type"] == "qdii_equity"


def test_benchmarks_command_reports_coverage(demo_universe) -> None:
    payload = run_json("funds", "benchmarks")
    assert sum(payload["coverage"].values()) == len(demo_universe.funds) == payload["count"]
    assert all(abs(sum(f["weights"].values()) - 1) < 1e-9 for f in payload["funds"] if f["weights"])
    partial = run_json("funds", "benchmarks", "--source", "approximated")
    assert partial["count"] == payload["coverage"]["approximated"]
    assert all(f["source"] == "approximated" and f["approximations"] for f in partial["funds"])
    bad = runner.invoke(app, ["funds", "benchmarks", "--source", "guessed"])
    assert bad.exit_code == 2 and "--source" in bad.output


@pytest.mark.parametrize(("table", "part", "words"), [("holdings", "look_through", "no holdings disclosed"),
                                                      ("benchmarks", "style", "style unavailable")])
def test_show_without_an_optional_table_says_unavailable(demo_universe, tmp_path, table, part, words) -> None:
    """An empty holdings / benchmarks table: `funds show` still answers, the dependent part says why not."""
    import pandas as pd

    from products.canonical import write_canonical

    write_canonical(demo_universe, tmp_path)
    path = tmp_path / f"{table}.parquet"
    pd.read_parquet(path).iloc[:0].to_parquet(path, index=False)
    payload = run_json("funds", "show", "900030", "--data", str(tmp_path))
    assert words in payload[part]["unavailable"]
    assert payload["metrics"]["annual_return"] is not None
    text = runner.invoke(app, ["funds", "show", "900030", "--data", str(tmp_path)])
    assert text.exit_code == 0 and words in " ".join(text.stdout.split())
