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


def _skipped_for_lots(customers, holdings) -> set[str]:
    """Customers (other than the bad-level one) owning one of the three spoiled lots."""
    return set(holdings.loc[[0, 1, 2], "customer_id"].astype(str)) - {str(customers.loc[3, "customer_id"])}


def test_bad_rows_are_rejected_and_the_rest_is_processed(ctx):
    customers, holdings = spoiled(ctx)
    report, rejects = diagnose_frames(ctx, customers, holdings, as_of=AS_OF)
    skipped = _skipped_for_lots(customers, holdings)
    assert len(report) == 49 - len(skipped) and customers.loc[3, "customer_id"] not in set(report["customer_id"])
    reasons = set(rejects["reason"])
    assert {"unknown fund code", "negative shares", "unknown risk level 'C7'; expected C1–C5 (or 1–5)"} <= reasons
    assert any("purchase_date" in r for r in reasons)
    assert "customer row was rejected" in reasons  # the lots of the rejected customer
    # the batch policy: a customer with a rejected lot is skipped (no advice on part of the holdings), said so
    assert not skipped & set(report["customer_id"].astype(str))
    named = rejects[(rejects["table"] == "customers") & (rejects["field"] == "holdings")]
    assert set(named["customer_id"].astype(str)) == skipped
    assert named["reason"].str.startswith("customer skipped:").all()


def test_diagnose_and_rebalance_reject_the_same_rows_alike(ctx, tmp_path):
    """One policy and one rejects file for both batch doors: same rows (from 1), fields and reasons."""
    from advisor.batch_io import rejects_path_for, write_rejects
    from advisor.rebalancing import rebalance_book

    customers, holdings = spoiled(ctx)
    diagnosed = diagnose_files(ctx, customers, holdings, tmp_path / "report.parquet", as_of=AS_OF)
    rebalanced = rebalance_book(ctx.universe, customers, holdings, as_of=AS_OF)
    written = write_rejects(rebalanced.rejects, rejects_path_for(tmp_path / "trades.parquet"))
    keys = ["table", "customer_id", "row", "field", "reason"]
    a = pd.read_parquet(diagnosed.rejects_path)[keys].sort_values(keys).reset_index(drop=True)
    b = pd.read_parquet(written)[keys].sort_values(keys).reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b)
    bad_level = a[(a["table"] == "customers") & (a["field"] == "risk_level")]
    assert bad_level["row"].tolist() == [4]  # the fourth customer record, counted from 1
    assert set(rebalanced.summary["customer_id"].astype(str)) == set(
        pq.read_table(diagnosed.report_path).column("customer_id").to_pylist())


def test_files_in_files_out(ctx, tmp_path):
    customers, holdings = spoiled(ctx)
    customers.to_parquet(tmp_path / "c.parquet")
    holdings.to_csv(tmp_path / "h.csv", index=False)
    outcome = diagnose_files(ctx, tmp_path / "c.parquet", tmp_path / "h.csv", tmp_path / "out" / "report.parquet",
                             tmp_path / "summary.json", as_of=AS_OF, chunk_size=20)
    report = pq.read_table(outcome.report_path)
    assert report.num_rows == 49 - len(_skipped_for_lots(customers, holdings))
    assert report.column_names[:2] == ["customer_id", "health_score"]
    assert outcome.rejects_path.name == "report.rejects.parquet"
    rejects = pd.read_parquet(outcome.rejects_path)
    assert len(rejects) >= 4
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["customers"] == report.num_rows
    assert summary["rejected"]["customers"] == 1 + len(_skipped_for_lots(customers, holdings))
    assert sum(summary["checks"]["above_level"].values()) == report.num_rows


def test_single_customer_bad_profile_names_the_field(ctx):
    with pytest.raises(BadInputError, match="risk_level"):
        diagnose_customer(ctx, {**profile("C8"), "holdings": []}, as_of=AS_OF)
    with pytest.raises(BadInputError, match="unknown field"):
        diagnose_customer(ctx, {**profile("C3"), "colour": "red"}, as_of=AS_OF)


def test_single_customer_bad_lot_is_refused_naming_it(ctx):
    """As in the batch, no check on part of the holdings: the bad lot is named by its place in the list."""
    lots = [*model_holdings(ctx, 3, 100_000), {"code": "000000", "amount": 5, "purchase_date": "2025-01-01"}]
    with pytest.raises(BadInputError) as err:
        diagnose_customer(ctx, {**profile("C3"), "holdings": lots}, as_of=AS_OF)
    assert err.value.details["field"] == f"holdings[{len(lots) - 1}].code"
    assert "unknown fund code" in str(err.value)


def test_a_customer_without_holdings_is_still_checked(ctx):
    report = diagnose_customer(ctx, {**profile("C3", cash=100_000), "holdings": []}, as_of=AS_OF)
    assert report["portfolio"]["fund_value"] == 0
    assert report["checks"]["top_fund"]["value"] is None
    assert report["checks"]["drift_total"]["severity"] == "critical"  # all cash against a balanced model
    assert report["actions"][0]["kind"] in ("rebalance", "proposal")
