"""`advisor rebalance`: a whole book to Parquet with rejects and summary, and one customer as JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from advisor.cli import app

runner = CliRunner()
AS_OF = "2026-02-13"  # the demo universe's date


@pytest.fixture
def book(tmp_path: Path) -> tuple[Path, Path]:
    customers = pd.DataFrame({
        "customer_id": ["A", "B", "C", "D"],
        "risk_level": ["C3", "C2", "C9", "C4"],
        "horizon_years": [3.0, 5.0, 2.0, 0.5],
        "cash": [1000.0, 0.0, 0.0, 50.0],
        "cash_flow": [0.0, 20_000.0, 0.0, 0.0],
        "previous_risk_level": ["C3", "C4", "C3", "C4"],
    })
    holdings = pd.DataFrame({
        "customer_id": ["A", "A", "B", "B", "C", "D", "D", "ghost"],
        "code": ["900026", "900026", "900041", "900005", "900005", "900001", "999999", "900001"],
        "amount": [60_000.0, 20_000.0, 30_000.0, 10_000.0, 5000.0, 10_000.0, 100.0, 10.0],
        "purchase_date": ["2024-01-05", "2026-02-10", "2023-06-01", "2025-03-01", "2024-01-01", "2025-01-01",
                          "2025-01-01", "2025-01-01"],
    })
    c_path, h_path = tmp_path / "customers.csv", tmp_path / "holdings.csv"
    customers.to_csv(c_path, index=False)
    holdings.to_csv(h_path, index=False)
    return c_path, h_path


def test_batch_writes_trades_summary_and_rejects(book: tuple[Path, Path], tmp_path: Path) -> None:
    c_path, h_path = book
    out = tmp_path / "trades.parquet"
    result = runner.invoke(app, ["rebalance", "--customers", str(c_path), "--holdings", str(h_path),
                                 "--out", str(out), "--as-of", AS_OF, "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["customers"] == 2  # A and B; C has a bad level, D an unknown fund
    trades = pd.read_parquet(out)
    assert set(trades.columns) >= {"customer_id", "code", "action", "amount", "shares", "fee", "lot_dates"}
    assert set(trades["customer_id"].astype(str)) <= {"A", "B"}
    # B (lowered from C4 to C2) never buys above R2 and reduces the R3+ fund
    b = trades[trades["customer_id"] == "B"]
    assert (b.loc[b["action"].isin(["buy", "switch_in"]), "fund_risk_level"] <= 2).all()
    assert b.loc[b["code"] == "900041", "action"].isin(["sell", "switch_out"]).all()
    summary = pd.read_parquet(out.with_name("trades_summary.parquet"))
    assert {"reason", "reason_zh", "reason_en", "triggers", "fee", "before_cn_equity", "after_cn_equity"} <= set(
        summary.columns)
    rejects = pd.read_parquet(out.with_name("trades.rejects.parquet"))
    reasons = " ".join(rejects["reason"])
    assert "risk level" in reasons and "unknown fund code" in reasons and "not in customers" in reasons
    assert set(rejects["customer_id"]) >= {"C", "D", "ghost"}


def test_single_customer_json(tmp_path: Path) -> None:
    path = tmp_path / "one.json"
    path.write_text(json.dumps({
        "customer": {"customer_id": "Z1", "risk_level": "C3", "horizon_years": 3},
        "holdings": [{"code": "900026", "amount": 50_000, "purchase_date": "2025-01-05"},
                     {"code": "900005", "amount": 20_000, "purchase_date": "2023-03-01"}],
        "cash_flow": 5000,
    }), encoding="utf-8")
    result = runner.invoke(app, ["rebalance", "--customer-json", str(path), "--as-of", AS_OF, "--json"])
    assert result.exit_code == 0, result.output
    answer = json.loads(result.stdout)
    assert answer["customer_id"] == "Z1" and answer["status"] == "trade"
    assert {t["name"] for t in answer["triggers"]} >= {"drift", "deposit"}
    assert answer["reason"]["zh"] and answer["reason"]["en"]
    assert answer["trades"] and all(t["action"] in {"buy", "sell", "switch_in", "switch_out"}
                                    for t in answer["trades"])
    assert all(t["reason"] and t["reason_zh"] and t["reason_en"] for t in answer["trades"])
    assert {c["asset_class"] for c in answer["portfolio"]["classes"]} == {"cash", "bond", "cn_equity",
                                                                        "global_equity", "gold"}
    sold = sum(t["amount"] - t["fee"] for t in answer["trades"] if t["action"] in ("sell", "switch_out"))
    bought = sum(t["amount"] for t in answer["trades"] if t["action"] in ("buy", "switch_in"))
    assert answer["cash"]["remainder"] == pytest.approx(5000 + sold - bought, abs=0.1)


def test_bad_input_is_a_clear_error_not_a_traceback(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text("{not json", encoding="utf-8")
    result = runner.invoke(app, ["rebalance", "--customer-json", str(path)])
    assert result.exit_code == 2 and "Traceback" not in result.output
    path.write_text(json.dumps({"customer": {"customer_id": "Q", "risk_level": "C7"}, "holdings": []}))
    result = runner.invoke(app, ["rebalance", "--customer-json", str(path), "--as-of", AS_OF])
    assert result.exit_code == 2 and "risk" in result.output.lower()
    result = runner.invoke(app, ["rebalance", "--customers", "x.csv"])
    assert result.exit_code == 2 and "--holdings" in result.output


@pytest.mark.parametrize("cap", ["nan", "inf", "-inf", "-0.1", "2.5"])
def test_turnover_cap_out_of_range_is_rejected(book: tuple[Path, Path], tmp_path: Path, cap: str) -> None:
    c_path, h_path = book
    result = runner.invoke(app, ["rebalance", "--customers", str(c_path), "--holdings", str(h_path),
                                 "--out", str(tmp_path / "t.parquet"), "--as-of", AS_OF, "--turnover-cap", cap])
    assert result.exit_code == 2, result.output
    assert "--turnover-cap" in result.output
    assert not (tmp_path / "t.parquet").exists()


def test_lowest_category_is_reported_and_never_buys_above_r1(tmp_path: Path) -> None:
    path = tmp_path / "low.json"
    path.write_text(json.dumps({
        "customer": {"customer_id": "L1", "risk_level": "C1", "lowest_category": True, "horizon_years": 3},
        "holdings": [{"code": "900026", "amount": 30_000, "purchase_date": "2024-01-05"},
                     {"code": "900005", "amount": 20_000, "purchase_date": "2023-03-01"}],
        "cash_flow": 50_000,
    }), encoding="utf-8")
    result = runner.invoke(app, ["rebalance", "--customer-json", str(path), "--as-of", AS_OF, "--json"])
    assert result.exit_code == 0, result.output
    answer = json.loads(result.stdout)
    assert answer["lowest_category"] is True
    buys = [t for t in answer["trades"] if t["action"] in ("buy", "switch_in")]
    assert all(t["fund_risk_level"] == "R1" for t in buys)
    assert any(t["code"] == "900026" and t["action"] in ("sell", "switch_out") for t in answer["trades"])
    # the batch summary carries the flag too
    customers = pd.DataFrame({"customer_id": ["L1", "N1"], "risk_level": ["C1", "C3"],
                              "lowest_category": [True, False], "cash_flow": [50_000.0, 50_000.0],
                              "monthly_expenses": [30_000.0, 0.0]})  # L1's reserve is short: cash is held in a
    # money fund (R1); N1's deposit buys the model's bond and equity funds
    holdings = pd.DataFrame({"customer_id": ["L1", "N1"], "code": ["900005", "900005"],
                             "amount": [20_000.0, 20_000.0], "purchase_date": ["2023-03-01", "2023-03-01"]})
    customers.to_csv(tmp_path / "c.csv", index=False)
    holdings.to_csv(tmp_path / "h.csv", index=False)
    out = tmp_path / "t.parquet"
    result = runner.invoke(app, ["rebalance", "--customers", str(tmp_path / "c.csv"), "--holdings",
                                 str(tmp_path / "h.csv"), "--out", str(out), "--as-of", AS_OF])
    assert result.exit_code == 0, result.output
    summary = pd.read_parquet(out.with_name("t_summary.parquet")).set_index("customer_id")
    assert bool(summary.loc["L1", "lowest_category"]) and not bool(summary.loc["N1", "lowest_category"])
    trades = pd.read_parquet(out)
    low_buys = trades[(trades["customer_id"] == "L1") & trades["action"].isin(["buy", "switch_in"])]
    assert len(low_buys) and (low_buys["fund_risk_level"] <= 1).all()


def test_positions_out_chains_plans_a_second_run_the_same_day_trades_nothing(book: tuple[Path, Path],
                                                                            tmp_path: Path) -> None:
    c_path, h_path = book
    first = tmp_path / "one" / "trades.parquet"
    after = tmp_path / "one" / "holdings_after.parquet"
    result = runner.invoke(app, ["rebalance", "--customers", str(c_path), "--holdings", str(h_path),
                                 "--out", str(first), "--positions-out", str(after), "--as-of", AS_OF, "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["share_trading"] > 0 and sum(payload["by_status"].values()) == pytest.approx(1.0)
    assert payload["value_by_trade_reason"] and payload["positions_out"] == str(after)
    lots = pd.read_parquet(after)
    assert list(lots.columns) == ["customer_id", "code", "shares", "amount", "purchase_date"]
    customers_after = Path(payload["customers_out"])
    assert "cash_flow" not in pd.read_parquet(customers_after).columns
    second = tmp_path / "two" / "trades.parquet"
    result = runner.invoke(app, ["rebalance", "--customers", str(customers_after), "--holdings", str(after),
                                 "--out", str(second), "--as-of", AS_OF, "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["customers"] == 2
    first_summary = pd.read_parquet(first.with_name("trades_summary.parquet")).set_index("customer_id")
    done = first_summary.index[(first_summary["status"] == "trade") & ~first_summary["turnover_capped"]]
    assert "B" in done
    trades = pd.read_parquet(second)
    assert not trades["customer_id"].astype(str).isin(done).any()
    # rejected customers keep their lots as given and are rejected again
    rejects = pd.read_parquet(second.with_name("trades.rejects.parquet"))
    assert {"C", "D"} <= set(rejects["customer_id"])


def test_the_trade_date_defaults_to_the_data_and_a_date_far_beyond_it_is_refused(book: tuple[Path, Path],
                                                                                   tmp_path: Path) -> None:
    """Not today: the demo's prices end 2026-02-13, so a book is rebalanced on that date unless told
    otherwise; a date a quarter past the data is refused naming the option; a week past it is warned about."""
    c_path, h_path = book
    out = tmp_path / "trades.parquet"
    default = runner.invoke(app, ["rebalance", "--customers", str(c_path), "--holdings", str(h_path),
                                  "--out", str(out), "--json"])
    assert default.exit_code == 0, default.output
    payload = json.loads(default.stdout)
    assert payload["as_of"] == AS_OF and payload["data_freshness"]["stale"] is False
    far = runner.invoke(app, ["rebalance", "--customers", str(c_path), "--holdings", str(h_path),
                              "--out", str(out), "--as-of", "2026-12-01"])
    assert far.exit_code == 2 and "stale_data" in far.output and "as_of" in far.output
    late = runner.invoke(app, ["rebalance", "--customers", str(c_path), "--holdings", str(h_path),
                               "--out", str(out), "--as-of", "2026-03-10", "--json"])
    assert late.exit_code == 0, late.output
    assert json.loads(late.stdout)["data_freshness"]["stale"] is True
    assert "2026-02-13" in late.stderr
