"""`advisor funds rank / lookthrough / overlap / style` on the demo and the real data."""

from __future__ import annotations

import csv
import io
import json

from typer.testing import CliRunner

from advisor.cli import app
from products.research import DIMENSIONS

runner = CliRunner()


def _run(*args: str):
    return runner.invoke(app, list(args))


def test_rank_json_rows_have_the_contract_keys():
    result = _run("funds", "rank", "--json")
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    rows = payload["funds"]
    assert rows and payload["as_of"]
    for row in rows:
        assert {"code", "name", "category", "score", "stars", "dimensions"} <= set(row)
        assert set(row["dimensions"]) == set(DIMENSIONS)


def test_rank_category_top_and_csv():
    result = _run("funds", "rank", "--category", "bond", "--top", "2", "--json")
    rows = json.loads(result.stdout)["funds"]
    assert len(rows) == 2 and {r["category"] for r in rows} == {"bond"}
    assert rows[0]["score"] >= rows[1]["score"]
    by_type = json.loads(_run("funds", "rank", "-c", "equity", "--json").stdout)["funds"]
    assert by_type and all(r["fund_type"] == "equity" for r in by_type)
    result = _run("funds", "rank", "--csv", "--top", "1")
    table = list(csv.DictReader(io.StringIO(result.stdout)))
    assert table and set(DIMENSIONS) <= set(table[0])


def test_rank_unknown_category_lists_valid_ones():
    result = _run("funds", "rank", "--category", "crypto")
    assert result.exit_code == 2
    text = " ".join(result.output.split())
    assert "unknown category" in text and "active_equity" in text and "money_market" in text


def test_rank_bad_date_and_weights_are_clean_errors():
    assert _run("funds", "rank", "--as-of", "not-a-date").exit_code == 2
    result = _run("funds", "rank", "--weights", "excess_return=abc")
    assert result.exit_code == 2 and "name=number" in " ".join(result.output.split())
    result = _run("funds", "rank", "--weights", "excess_return=1", "--json", "--top", "1")
    row = json.loads(result.stdout)["funds"][0]
    assert row["score"] == row["dimensions"]["excess_return"]


def test_rank_as_of_on_real_data(shared_data):
    result = _run("funds", "rank", "--as-of", "2021-12-31", "--category", "index", "--json", "--data",
                  str(shared_data))
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["as_of"] == "2021-12-31"
    stars = [r["stars"] for r in payload["funds"] if r["stars"] is not None]
    # ties (near-identical trackers share one rating) may move a cut by the size of their group
    from products.loading import load_universe
    from products.research import leaderboard

    board = leaderboard(load_universe(shared_data), "2021-12-31")
    board = board[(board["category"] == "index") & board["rated"]]
    largest_tie = int(board["rating_score"].value_counts().max())
    assert abs(stars.count(5) - 0.1 * len(stars)) <= max(1, largest_tie)
    assert {r["code"]: r["stars"] for r in payload["funds"] if r["stars"] is not None} == board["stars"].to_dict()


def test_lookthrough_overlap_and_style(shared_data):
    data = ["--data", str(shared_data)]
    result = _run("funds", "lookthrough", "512800", "--quarter", "2022-Q4", "--json", *data)
    assert result.exit_code == 0, result.output
    fund = json.loads(result.stdout)["funds"][0]
    assert max(fund["industries"], key=lambda k: fund["industries"][k] if k != "undisclosed" else 0) == "银行"
    result = _run("funds", "lookthrough", "512800", "000001", "--weights", "0.5,0.5", "--json", *data)
    assert result.exit_code == 0, result.output
    assert "shared_stocks" in json.loads(result.stdout)
    result = _run("funds", "overlap", "000118", "000119", "--json", *data)
    assert json.loads(result.stdout)["overlap"][0][1] == 1.0
    result = _run("funds", "style", "000216", "--json", *data)
    assert json.loads(result.stdout)["funds"][0]["gold"] > 0.9
    result = _run("funds", "style", "110011", "--holdings", "--json", *data)  # 易方达优质精选: HK-heavy
    payload = json.loads(result.stdout)
    assert payload["boards"][0]["HK"] > 0.1 and payload["industry_tilt"]["110011"]
    assert _run("funds", "lookthrough", "000000", *data).exit_code == 2


def test_funds_show_carries_the_research_card():
    from products.demo import demo_universe

    code = str(demo_universe().codes[5])
    result = _run("funds", "show", code, "--json")
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert {"dimensions", "stars", "look_through", "style"} <= set(payload)
    assert set(payload["style"]["weights"]) <= {"cn_large_cap", "cn_mid_small_cap", "cn_bond", "gold",
                                                "us_equity", "us_tech", "cash"}


def test_rank_max_risk_keeps_only_funds_at_or_below_the_level():
    """Peer groups mix R-levels: `--max-risk R3` (as in `funds list`) hides R4/R5 funds, before `--top`."""
    everything = json.loads(_run("funds", "rank", "--category", "active_equity", "--json").stdout)["funds"]
    assert {"R3", "R4"} <= {r["risk_level"] for r in everything}  # the group really is mixed
    result = _run("funds", "rank", "--category", "active_equity", "--max-risk", "R3", "--top", "2", "--json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)["funds"]
    suitable = [r["code"] for r in everything if r["risk_level"] in ("R1", "R2", "R3")]
    assert [r["code"] for r in rows] == suitable[:2]
    result = _run("funds", "rank", "--max-risk", "R1", "--csv")
    table = list(csv.DictReader(io.StringIO(result.stdout)))
    assert table and {r["risk_level"] for r in table} == {"1"}
    result = _run("funds", "rank", "--max-risk", "R9")
    assert result.exit_code == 2 and "--max-risk" in result.output
