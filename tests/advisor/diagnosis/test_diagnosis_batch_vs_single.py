"""The batch and the single-customer path give identical results, whatever the chunking."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from advisor.demo_customers import generate
from advisor.diagnosis import default_rules, diagnose_customer, diagnose_frames
from tests.advisor.diagnosis.diagnosis_helpers import AS_OF

PROFILE = ("customer_id", "risk_level", "lowest_category", "assessment_expires_on", "age", "horizon_years",
           "monthly_expenses", "cash", "deposits", "wealth_products", "insurance", "rm_id")


def _plain(value):
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, np.generic):
        return value.item()
    return value


def payloads(customers: pd.DataFrame, holdings: pd.DataFrame) -> dict[str, dict]:
    lots = {cid: group for cid, group in holdings.groupby("customer_id", sort=False)}
    out = {}
    for row in customers.to_dict("records"):
        mine = lots.get(row["customer_id"], holdings.iloc[:0])
        out[row["customer_id"]] = {
            **{k: _plain(row[k]) for k in PROFILE if k in row},
            "holdings": [{k: _plain(v) for k, v in lot.items() if k != "customer_id"}
                         for lot in mine.to_dict("records")],
        }
    return out


@pytest.mark.parametrize("seed, chunk", [(11, 7), (12, 1000)])
def test_batch_rows_equal_single_customer_reports(ctx, seed, chunk):
    customers, holdings = generate(ctx.universe, 60, seed=seed, as_of=AS_OF, mean_holdings=7)
    report, rejects = diagnose_frames(ctx, customers, holdings, as_of=AS_OF, chunk_size=chunk)
    assert rejects.empty and len(report) == 60
    singles = payloads(customers.to_pandas(), holdings.to_pandas())
    for row in report.to_dict("records"):
        single = diagnose_customer(ctx, singles[row["customer_id"]], as_of=AS_OF)
        assert single["health_score"] == pytest.approx(row["health_score"], abs=1e-4)
        for rule in default_rules():
            check = single["checks"][rule.id]
            assert check["severity"] == row[rule.id], (row["customer_id"], rule.id)
            if check["value"] is None:
                assert np.isnan(row[f"{rule.id}_value"])
            else:
                assert check["value"] == pytest.approx(row[f"{rule.id}_value"], rel=1e-5, abs=1e-6)
        for family, score in single["sub_scores"].items():
            assert score == pytest.approx(row[f"score_{family}"])
        expected_actions = [a["id"] for a in single["actions"]]
        batch_actions = [row[f"action_{k}"] for k in (1, 2, 3) if isinstance(row[f"action_{k}"], str)]
        assert batch_actions == expected_actions


def test_chunking_does_not_change_the_report(ctx):
    customers, holdings = generate(ctx.universe, 300, seed=5, as_of=AS_OF)
    whole, _ = diagnose_frames(ctx, customers, holdings, as_of=AS_OF, chunk_size=10_000)
    pieces, _ = diagnose_frames(ctx, customers, holdings, as_of=AS_OF, chunk_size=37)
    pd.testing.assert_frame_equal(whole, pieces)


def test_shuffled_lots_give_the_same_report(ctx):
    customers, holdings = generate(ctx.universe, 200, seed=6, as_of=AS_OF)
    ordered, _ = diagnose_frames(ctx, customers, holdings, as_of=AS_OF)
    shuffled = holdings.take(np.random.default_rng(0).permutation(holdings.num_rows))
    mixed, _ = diagnose_frames(ctx, customers, shuffled, as_of=AS_OF, chunk_size=50)
    pd.testing.assert_frame_equal(ordered, mixed, check_exact=False, rtol=1e-6)


def test_two_worker_processes_give_the_same_report(ctx):
    import pyarrow as pa

    from advisor.diagnosis import prepare
    from advisor.diagnosis.engine import diagnose_tables

    customers, holdings = generate(ctx.universe, 1500, seed=9, as_of=AS_OF)
    inputs = prepare(ctx, customers, holdings, AS_OF)
    one = pa.concat_tables(diagnose_tables(ctx, inputs, chunk_size=400, workers=1)).to_pandas()
    two = pa.concat_tables(diagnose_tables(ctx, inputs, chunk_size=400, workers=2)).to_pandas()
    pd.testing.assert_frame_equal(one, two)
