"""Bad rows are rejected with the reason and the run goes on; the files and summary say so."""

from __future__ import annotations

import json

import pandas as pd
import pyarrow.parquet as pq
import pytest

from advisor.demo_customers import generate
from advisor.diagnosis import diagnose_customer, diagnose_frames
from advisor.diagnosis.batch import diagnose_files
from products.errors import BadInputError
from tests.advisor.diagnosis.diagnosis_helpers import AS_OF, model_holdings, profile


def spoiled(ctx):
    customers, holdings = generate(ctx.universe, 50, seed=8, as_of=AS_OF)
    customers = customers.to_pandas()
    holdings = holdings.to_pandas()
    customers.loc[3, "risk_level"] = "C7"
    holdings.loc[0, "code"] = "123456"
    holdings.loc[1, "shares"] = -10.0
    holdings["purchase_date"] = holdings["purchase_date"].astype("str")
    holdings.loc[2, "purchase_date"] = "yesterday"
    return customers, holdings


def test_bad_rows_are_rejected_and_the_rest_is_processed(ctx):
    customers, holdings = spoiled(ctx)
    report, rejects = diagnose_frames(ctx, customers, holdings, as_of=AS_OF)
    assert len(report) == 49 and customers.loc[3, "customer_id"] not in set(report["customer_id"])
    reasons = set(rejects["reason"])
    assert {"unknown fund code", "negative shares", "unknown risk level 'C7'; expected C1–C5 (or 1–5)"} <= reasons
    assert any("purchase_date" in r for r in reasons)
    assert "customer row was rejected" in reasons  # the lots of the rejected customer
    first = holdings.loc[0, "customer_id"]
    assert report.set_index("customer_id").loc[first, "rejected_lots"] >= 1


def test_files_in_files_out(ctx, tmp_path):
    customers, holdings = spoiled(ctx)
    customers.to_parquet(tmp_path / "c.parquet")
    holdings.to_csv(tmp_path / "h.csv", index=False)
    outcome = diagnose_files(ctx, tmp_path / "c.parquet", tmp_path / "h.csv", tmp_path / "out" / "report.parquet",
                             tmp_path / "summary.json", as_of=AS_OF, chunk_size=20)
    report = pq.read_table(outcome.report_path)
    assert report.num_rows == 49
    assert report.column_names[:2] == ["customer_id", "health_score"]
    assert outcome.rejects_path.name == "report.rejects.parquet"
    rejects = pd.read_parquet(outcome.rejects_path)
    assert len(rejects) >= 4
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["customers"] == 49
    assert summary["rejected"]["customers"] == 1
    assert sum(summary["checks"]["above_level"].values()) == 49


def test_single_customer_bad_profile_names_the_field(ctx):
    with pytest.raises(BadInputError, match="risk_level"):
        diagnose_customer(ctx, {**profile("C8"), "holdings": []}, as_of=AS_OF)
    with pytest.raises(BadInputError, match="unknown field"):
        diagnose_customer(ctx, {**profile("C3"), "colour": "red"}, as_of=AS_OF)


def test_single_customer_bad_lot_is_listed_and_the_rest_checked(ctx):
    lots = [*model_holdings(ctx, 3, 100_000), {"code": "000000", "amount": 5, "purchase_date": "2025-01-01"}]
    report = diagnose_customer(ctx, {**profile("C3"), "holdings": lots}, as_of=AS_OF)
    assert report["rejected_lots"] == [{"index": len(lots) - 1, "field": "code", "reason": "unknown fund code"}]
    assert report["portfolio"]["fund_value"] == pytest.approx(100_000, rel=1e-3)


def test_a_customer_without_holdings_is_still_checked(ctx):
    report = diagnose_customer(ctx, {**profile("C3", cash=100_000), "holdings": []}, as_of=AS_OF)
    assert report["portfolio"]["fund_value"] == 0
    assert report["checks"]["top_fund"]["value"] is None
    assert report["checks"]["drift_total"]["severity"] == "critical"  # all cash against a balanced model
    assert report["actions"][0]["kind"] in ("rebalance", "proposal")
