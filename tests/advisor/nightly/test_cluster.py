"""The same partitions on a Dask LocalCluster of two worker processes give the same files as in-process."""

from __future__ import annotations

import pyarrow.parquet as pq
import pytest

from advisor.nightly.outputs import part_path
from advisor.nightly.runner import run_job
from products.errors import DataError

distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def cluster(context_cache_dir):
    """Two single-threaded worker processes, started and stopped by this module; they load the research
    context from the session's cache directory (built by the first run's client)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ADVISOR_CACHE_DIR", str(context_cache_dir))
        patch.delenv("ADVISOR_DATA_DIR", raising=False)
        with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                      env={"ADVISOR_CACHE_DIR": str(context_cache_dir)}) as local:
            yield local


def _same_files(a, b, names, partitions) -> None:
    for name in names:
        for p in partitions:
            left, right = pq.read_table(part_path(a, name, p)), pq.read_table(part_path(b, name, p))
            assert left.schema.equals(right.schema, check_metadata=True), (name, p)
            assert left.to_pandas().equals(right.to_pandas()), (name, p)  # bit for bit, NaN where NaN


def test_cluster_runs_give_the_in_process_results(cluster, flat_book, health_run, rebalance_run, tmp_path):
    address = cluster.scheduler_address
    for reference, job, names in ((health_run, "health_check", ("report", "rejects")),
                                  (rebalance_run, "rebalance", ("trades", "trades_summary", "rejects"))):
        outcome = run_job(job, flat_book.book, tmp_path / job, as_of=flat_book.as_of, scheduler=address)
        assert outcome.complete and sorted(outcome.ran) == list(range(5))
        _same_files(outcome.out, reference.out, names, range(5))
        assert pq.read_table(outcome.rejects_path).to_pandas().equals(pq.read_table(reference.rejects_path).to_pandas())
        summary = {k: v for k, v in outcome.summary.items() if k != "peak_rss_mb_per_worker"}
        expected = {k: v for k, v in reference.summary.items() if k != "peak_rss_mb_per_worker"}
        assert summary == expected
        workers = {record.split(":")[-1] for record in outcome.summary["peak_rss_mb_per_worker"]}
        assert len(workers) == 2  # both worker processes took partitions
        ready = outcome.workers["readiness"]
        assert len(ready) == 2 and all(r["ok"] for r in ready.values())


def test_workers_must_run_the_clients_code(cluster, monkeypatch):
    from advisor import context_cache
    from advisor.nightly.cluster import _check_versions

    with distributed.Client(cluster.scheduler_address) as client:
        _check_versions(client)  # same code: fine
        monkeypatch.setattr(context_cache, "code_version", lambda: "another")
        with pytest.raises(DataError, match="another version"):
            _check_versions(client)


def test_an_unreachable_scheduler_is_a_clear_error(flat_book, nightly_universe, tmp_path, monkeypatch):
    from advisor.nightly import cluster as module

    monkeypatch.setattr(module, "CONNECT_TIMEOUT", "1s")
    with pytest.raises(DataError, match="could not reach the Dask scheduler"):
        run_job("health_check", flat_book.book, tmp_path, as_of=flat_book.as_of, scheduler="tcp://127.0.0.1:9",
                universe=nightly_universe)
