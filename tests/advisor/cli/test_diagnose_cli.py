"""`advisor demo-data customers` and `advisor diagnose`, batch and single, end to end."""

from __future__ import annotations

import json

import pandas as pd
from typer.testing import CliRunner

from advisor.cli import app

runner = CliRunner()


def test_demo_data_then_batch_diagnose(tmp_path):
    result = runner.invoke(app, ["demo-data", "customers", "--n", "300", "--seed", "2", "--out", str(tmp_path),
                                 "--as-of", "2026-03-01", "--json"])
    assert result.exit_code == 0, result.output
    made = json.loads(result.stdout)
    assert made["customers"] == 300 and made["lots"] >= 300
    out = tmp_path / "report.parquet"
    result = runner.invoke(app, ["diagnose", "--customers", str(tmp_path / "customers.parquet"),
                                 "--holdings", str(tmp_path / "holdings.parquet"), "--out", str(out),
                                 "--summary", str(tmp_path / "summary.json"), "--as-of", "2026-03-01",
                                 "--chunk-size", "128", "--json"])
    assert result.exit_code == 0, result.output
    report = pd.read_parquet(out)
    assert len(report) == 300 and report["customer_id"].is_unique
    assert report["health_score"].between(0, 100).all()
    assert {"score_risk", "above_level", "above_level_value", "liquidity", "action_1"} <= set(report.columns)
    assert (tmp_path / "report.rejects.parquet").exists()
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["customers"] == 300


def test_single_customer_json(tmp_path):
    payload = {"customer_id": "c1", "risk_level": "C2", "assessment_expires_on": "2027-01-01", "age": 35,
               "horizon_years": 3, "monthly_expenses": 6000, "cash": 1000, "insurance": None,
               "holdings": [{"code": "900042", "amount": 50000, "purchase_date": "2025-05-01"},
                            {"code": "900005", "shares": 10000, "purchase_date": "2024-05-01"}]}
    path = tmp_path / "customer.json"
    path.write_text(json.dumps(payload))
    result = runner.invoke(app, ["diagnose", "--customer-json", str(path), "--as-of", "2026-03-01", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    rules = {f["rule"] for f in report["findings"]}
    assert {"above_level", "liquidity", "no_insurance"} <= rules
    assert len(report["actions"]) == 3
    assert all(f["explanation_zh"] and f["explanation_en"] for f in report["findings"])
    result = runner.invoke(app, ["diagnose", "--customer-json", str(path), "--as-of", "2026-03-01"])
    assert result.exit_code == 0 and "health score" in result.stdout


def test_single_customer_json_in_the_rebalance_shape_gives_the_same_report(tmp_path):
    customer = {"customer_id": "c1", "risk_level": "C2", "assessment_expires_on": "2027-01-01", "age": 35,
                "horizon_years": 3, "monthly_expenses": 6000, "cash": 1000}
    lots = [{"code": "900042", "amount": 50000, "purchase_date": "2025-05-01"}]
    flat, nested = tmp_path / "flat.json", tmp_path / "nested.json"
    flat.write_text(json.dumps({**customer, "holdings": lots}))
    nested.write_text(json.dumps({"customer": customer, "holdings": lots, "cash_flow": 5000}))
    reports = []
    for path in (flat, nested):
        result = runner.invoke(app, ["diagnose", "--customer-json", str(path), "--as-of", "2026-03-01", "--json"])
        assert result.exit_code == 0, result.output
        reports.append(json.loads(result.stdout))
    assert reports[0] == reports[1]


def test_bad_input_is_a_clear_error_not_a_traceback(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text("{not json")
    result = runner.invoke(app, ["diagnose", "--customer-json", str(path), "--json"])
    assert result.exit_code == 2 and "Traceback" not in result.output
    result = runner.invoke(app, ["diagnose", "--customers", str(tmp_path / "missing.parquet")])
    assert result.exit_code == 2 and "--holdings" in result.output
    path.write_text(json.dumps({"risk_level": "C3", "holdings": "none"}))
    result = runner.invoke(app, ["diagnose", "--customer-json", str(path), "--json"])
    assert result.exit_code == 2 and "holdings" in result.output


def _write_batch(tmp_path, customers: pd.DataFrame) -> tuple[str, str]:
    cust = tmp_path / "customers.parquet"
    hold = tmp_path / "holdings.parquet"
    customers.to_parquet(cust)
    pd.DataFrame({"customer_id": pd.Series(["c1"], dtype="str"), "code": ["900042"], "amount": [1000.0],
                  "purchase_date": pd.to_datetime(["2025-01-02"])}).to_parquet(hold)
    return str(cust), str(hold)


def test_batch_with_no_valid_customer_reports_n_a_and_still_writes_files(tmp_path):
    """All rows rejected (or an empty table): no mean score to print, but the report and rejects are written."""
    cases = {
        "all_rejected": pd.DataFrame({"customer_id": ["c1", "c2"], "risk_level": ["C9", "X"]}),
        "empty": pd.DataFrame({"customer_id": pd.Series([], dtype="str"), "risk_level": pd.Series([], dtype="str")}),
    }
    for name, customers in cases.items():
        folder = tmp_path / name
        folder.mkdir()
        cust, hold = _write_batch(folder, customers)
        out = folder / "report.parquet"
        result = runner.invoke(app, ["diagnose", "--customers", cust, "--holdings", hold, "--out", str(out),
                                     "--as-of", "2026-03-01"])
        assert result.exit_code == 0, (name, result.output)
        assert "mean health score: —" in result.stdout and "Traceback" not in result.output
        assert out.exists() and len(pd.read_parquet(out)) == 0
        rejects = pd.read_parquet(folder / "report.rejects.parquet")
        assert (rejects["table"] == "customers").sum() == len(customers)
        assert (rejects["table"] == "holdings").sum() == 1  # the lot's customer is missing or rejected
