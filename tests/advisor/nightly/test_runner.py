"""Partitioned runs equal one run over the whole book; failures are reported and re-run alone."""

from __future__ import annotations

import json
import shutil

import pandas as pd
import pyarrow.parquet as pq
import pytest

from advisor.batch_io import rejects_for_people
from advisor.diagnosis import diagnosis_context
from advisor.diagnosis.batch import diagnose_files
from advisor.nightly.jobs import Job, PartitionResult, get_job
from advisor.nightly.outputs import read_output
from advisor.nightly.runner import run_job
from advisor.rebalancing import rebalance_book
from advisor.rebalancing.metrics import run_summary
from products.errors import BadInputError
from tests.advisor.nightly.conftest import plain

REJECT_KEYS = ["table", "customer_id", "row", "field", "reason"]


def _rejects(frame: pd.DataFrame) -> pd.DataFrame:
    return plain(frame[REJECT_KEYS].astype({"row": "int64"}), REJECT_KEYS)


def test_health_check_by_partition_equals_one_run_over_the_book(health_run, flat_book, nightly_universe, tmp_path):
    assert health_run.complete and len(health_run.ran) == 5
    whole = diagnose_files(diagnosis_context(nightly_universe), flat_book.customers_file, flat_book.holdings_file,
                           tmp_path / "report.parquet", as_of=flat_book.as_of, workers=1)
    expected = plain(pq.read_table(whole.report_path).to_pandas(), ["customer_id"])
    got = plain(read_output(health_run.out, "report").to_pandas(), ["customer_id"])[expected.columns]
    pd.testing.assert_frame_equal(got, expected, check_exact=True)
    # rejects name the same rows of the same files, with the same reasons
    pd.testing.assert_frame_equal(_rejects(pq.read_table(health_run.rejects_path).to_pandas()),
                                  _rejects(pq.read_table(whole.rejects_path).to_pandas()))
    merged, single = health_run.summary, whole.summary
    for key in ("customers", "health_score", "sub_scores_mean", "checks", "actions", "first_actions", "lots",
                "rejected"):
        assert merged[key] == single[key], key
    assert merged["complete"] is True and merged["partitions"] == {"total": 5, "done": 5, "failed": [], "missing": []}


def test_rebalance_by_partition_equals_one_run_over_the_book(rebalance_run, flat_book, nightly_universe):
    assert rebalance_run.complete
    whole = rebalance_book(nightly_universe, flat_book.customers_file, flat_book.holdings_file, as_of=flat_book.as_of)
    trades = plain(read_output(rebalance_run.out, "trades").to_pandas(), ["customer_id", "code", "action"])
    pd.testing.assert_frame_equal(trades, plain(whole.trades, ["customer_id", "code", "action"])[trades.columns],
                                  check_exact=True, check_dtype=False)
    summary = plain(read_output(rebalance_run.out, "trades_summary").to_pandas(), ["customer_id"])
    pd.testing.assert_frame_equal(summary, plain(whole.summary, ["customer_id"])[summary.columns],
                                  check_exact=True, check_dtype=False)
    pd.testing.assert_frame_equal(_rejects(pq.read_table(rebalance_run.rejects_path).to_pandas()),
                                  _rejects(rejects_for_people(whole.rejects)))
    merged = rebalance_run.summary
    assert merged["customers"] == len(whole.summary) and merged["trades"] == len(whole.trades)
    assert merged["by_reason"] == whole.summary["reason"].astype("str").value_counts().to_dict()
    assert merged["total_fee"] == pytest.approx(whole.summary["fee"].sum(), abs=0.01)
    assert merged["rejected_rows"] == len(whole.rejects) > 0
    # the batch summary adds up over partitions: shares of customers by status, of value by trade reason
    single = run_summary(whole.summary, whole.trades)
    for key in ("by_status", "value_by_trade_reason"):
        assert merged[key] == pytest.approx(single[key], abs=1e-6), key
        assert sum(merged[key].values()) == pytest.approx(1.0, abs=1e-5), key
    for key in ("share_trading", "round_trip_value", "drift_removed_yuan", "trades_per_trading_customer"):
        assert merged[key] == pytest.approx(single[key], rel=1e-9), key


def test_rerun_is_a_no_op_and_never_duplicates(health_run, flat_book, nightly_universe, tmp_path):
    out = tmp_path / "run"
    shutil.copytree(health_run.out, out)
    again = run_job("health_check", flat_book.book, out, as_of=flat_book.as_of, scheduler="none",
                    universe=nightly_universe)
    assert again.ran == [] and again.complete
    forced = run_job("health_check", flat_book.book, out, as_of=flat_book.as_of, scheduler="none",
                     universe=nightly_universe, force=True, partitions=[2])
    assert forced.ran == [2] and forced.missing == [0, 1, 3, 4] and not forced.complete
    done = run_job("health_check", flat_book.book, out, as_of=flat_book.as_of, scheduler="none",
                   universe=nightly_universe)
    assert sorted(done.ran) == [0, 1, 3, 4] and done.complete
    report = read_output(done.out, "report")
    assert report.num_rows == len(set(report["customer_id"].to_pylist())) == done.summary["customers"]
    with pytest.raises(BadInputError, match="holds another run"):
        run_job("health_check", flat_book.book, out, as_of=pd.Timestamp("2025-12-31").date(),
                scheduler="none", universe=nightly_universe)


def test_a_failed_partition_is_reported_and_rerun_alone(flat_book, nightly_universe, tmp_path):
    book = tmp_path / "book"
    shutil.copytree(flat_book.book, book)
    damaged = book / "holdings" / "part=3" / "part-0.parquet"
    good = damaged.read_bytes()
    damaged.write_bytes(b"not parquet")
    first = run_job("health_check", book, tmp_path / "out", as_of=flat_book.as_of, scheduler="none",
                    universe=nightly_universe)
    assert list(first.failed) == [3] and not first.complete and sorted(first.done) == [0, 1, 2, 4]
    assert first.failed[3]["type"] and first.failed[3]["message"]
    assert not (tmp_path / "out" / "report" / "part=3").exists()  # a failed partition leaves no rows
    status = json.loads((tmp_path / "out" / "run.json").read_text())
    assert status["state"] == "failed" and "3" in status["failed"]
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["complete"] is False and summary["partitions"]["failed"] == [3]
    assert not (tmp_path / "out" / "rejects.parquet").exists()  # merged only for a complete run

    damaged.write_bytes(good)  # the bank repairs the file and runs the same command again
    again = run_job("health_check", book, tmp_path / "out", as_of=flat_book.as_of, scheduler="none",
                    universe=nightly_universe)
    assert again.ran == [3] and again.complete
    report = read_output(again.out, "report")
    assert report.num_rows == len(set(report["customer_id"].to_pylist())) == again.summary["customers"]
    # every customer but the bad level, the duplicate and those skipped for a rejected lot
    rejects = pq.read_table(again.rejects_path).to_pandas()
    customer_rows = (rejects["table"] == "customers").sum()
    assert customer_rows >= 3 and again.summary["customers"] == flat_book.customers.num_rows - customer_rows


def test_job_errors_fail_the_partition_not_the_run(flat_book, nightly_universe, tmp_path):
    def run(ctx, customers, holdings):
        if ctx.partition == 1:
            raise RuntimeError("boom in partition 1")
        return PartitionResult({"ids": customers.select(["customer_id"])},
                               pd.DataFrame(columns=REJECT_KEYS), {"n": customers.num_rows})

    job = Job("count_ids", run, lambda parts: {"n": sum(p["n"] for p in parts)}, ("ids",))
    outcome = run_job(job, flat_book.book, tmp_path / "o", as_of=flat_book.as_of, scheduler="none",
                      universe=nightly_universe)
    assert list(outcome.failed) == [1] and outcome.failed[1]["message"] == "boom in partition 1"
    assert outcome.summary["n"] == read_output(outcome.out, "ids").num_rows < flat_book.customers.num_rows


def test_options_and_names_are_checked(flat_book, nightly_universe, tmp_path):
    with pytest.raises(BadInputError, match="unknown job"):
        get_job("no_such_job")
    with pytest.raises(BadInputError, match="turnover_cap"):
        run_job("rebalance", flat_book.book, tmp_path, options={"turnover_cap": 5}, universe=nightly_universe)
    with pytest.raises(BadInputError, match="calendar"):
        run_job("rebalance", flat_book.book, tmp_path, options={"calendar": "weekly"}, universe=nightly_universe)
    with pytest.raises(BadInputError, match="unknown health-check option"):
        run_job("health_check", flat_book.book, tmp_path, options={"rules": 3}, universe=nightly_universe)
    with pytest.raises(BadInputError, match="scheduler"):
        run_job("health_check", flat_book.book, tmp_path, scheduler="yarn", universe=nightly_universe)
    with pytest.raises(BadInputError, match="not in the book"):
        run_job("health_check", flat_book.book, tmp_path, partitions=[9], universe=nightly_universe)
