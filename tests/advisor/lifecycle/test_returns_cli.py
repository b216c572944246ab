"""`advisor plan returns`: a batch of one gives the same numbers as the batch."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from advisor.cli import app


@pytest.fixture(scope="module")
def book(tmp_path_factory, demo_universe):
    from advisor.demo_customers import generate

    folder = tmp_path_factory.mktemp("returns")
    customers, holdings = generate(demo_universe, 40, seed=3, as_of=demo_universe.as_of)
    customers.to_pandas().to_parquet(folder / "customers.parquet")
    holdings.to_pandas().to_parquet(folder / "holdings.parquet")
    return folder


def test_one_customer_json_equals_its_batch_row(book):
    runner = CliRunner()
    result = runner.invoke(app, ["plan", "returns", "--customers", str(book / "customers.parquet"), "--holdings",
                                 str(book / "holdings.parquet"), "--out", str(book / "r.parquet"),
                                 "--as-of", "2026-02-13", "--json"])
    assert result.exit_code == 0, result.output
    batch = pd.read_parquet(book / "r.parquet").set_index("customer_id")
    customers = pd.read_parquet(book / "customers.parquet")
    lots = pd.read_parquet(book / "holdings.parquet")
    cid = customers["customer_id"].iloc[5]
    payload = {"customer_id": cid, "risk_level": customers["risk_level"].iloc[5],
               "holdings": [{"code": r.code, "shares": None if pd.isna(r.shares) else r.shares,
                             "amount": None if pd.isna(r.amount) else r.amount,
                             "purchase_date": str(r.purchase_date)[:10]}
                            for r in lots[lots["customer_id"] == cid].itertuples()]}
    (book / "one.json").write_text(json.dumps(payload))
    one = runner.invoke(app, ["plan", "returns", "--customer-json", str(book / "one.json"), "--as-of", "2026-02-13",
                              "--json"])
    assert one.exit_code == 0, one.output
    report = json.loads(one.stdout)
    row = batch.loc[cid]
    assert report["market_value"] == pytest.approx(row["market_value"], abs=0.01)
    assert report["windows"]["1y"]["twr"] == pytest.approx(row["twr_1y"], abs=1e-6)
    assert report["windows"]["inception"]["xirr"] == pytest.approx(row["xirr_inception"], abs=1e-6)
    assert report["cost_basis_estimated"] is True
    assert sum(f["market_value"] for f in report["funds"]) == pytest.approx(report["market_value"], abs=0.05)


def test_bad_input_is_one_clear_line(tmp_path):
    (tmp_path / "bad.json").write_text(json.dumps({"customer_id": "x", "ledger": [], "colour": "red"}))
    result = CliRunner().invoke(app, ["plan", "returns", "--customer-json", str(tmp_path / "bad.json")])
    assert result.exit_code == 2
    assert "colour" in result.output and "Traceback" not in result.output
