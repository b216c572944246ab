"""Partitions on Dask distributed: a local cluster sized to the machine, or a bank's cluster by address.

Each partition is one task, `advisor.nightly.runner.run_partition(spec, partition)`: the task carries
only paths and the run's options, every worker reads its partition from the shared book and writes its
outputs beside the others, and the client receives a small status record. Workers load the universe and
its research context once, at start (`ContextPlugin`, from the context cache), and must run the same
version of the package as the client (checked before any task is sent).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from distributed import WorkerPlugin

from advisor.nightly import outputs
from advisor.nightly.runner import RunSpec, run_partition
from products.errors import DataError

log = logging.getLogger(__name__)

PLUGIN_NAME = "advisor-context"
CONNECT_TIMEOUT = "30s"
_READY: dict[str, Any] = {}


class ContextPlugin(WorkerPlugin):
    """Dask worker plugin: load the universe and its research context when the worker starts, off the
    worker's event loop, and record how long the worker took from process start to ready."""

    idempotent = False

    def __init__(self, data: str | None):
        self.data = data

    async def setup(self, worker: Any) -> None:
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, warm_worker, self.data)

    def teardown(self, worker: Any) -> None:
        return None


def warm_worker(data: str | None) -> dict[str, Any]:
    """Load the universe and its context in this process; returns (and remembers) the timings:
    `context_seconds` from the first import of the advisor package to ready (what the context cache
    saves), `ready_seconds` from the start of the worker process (Dask's own start-up included)."""
    started = time.time()
    import psutil

    from advisor.context_cache import code_version, warm_universe

    try:
        universe = warm_universe(data)
        status = {"ok": True, "universe_version": universe.version}
    except Exception as err:  # the tasks report it, each as a failed partition, with the error
        log.warning("advisor context could not be loaded on this worker: %s", err)
        status = {"ok": False, "error": f"{type(err).__name__}: {err}"}
    now = time.time()
    process_start = psutil.Process().create_time()
    _READY.update(status, pid=os.getpid(), code_version=code_version(), context_seconds=round(now - started, 3),
                  ready_seconds=round(now - process_start, 3))
    return dict(_READY)


def readiness() -> dict[str, Any]:
    """This worker's start-up record (`warm_worker`), for the run manifest and the benchmarks."""
    return dict(_READY)


def worker_code_version() -> str:
    from advisor.context_cache import code_version

    return code_version()


# Dask's nanny starts every worker with MALLOC_TRIM_THRESHOLD_=65536 (distributed.yaml). Setting it at all
# turns off glibc's dynamic mmap threshold, so each partition's large arrays are mmapped, unmapped on free and
# faulted in again: the rebalancing workers spent 46% of their CPU in the kernel. Our local workers keep
# glibc's default (None unsets the variable; a bank's own cluster is configured by its operators).
LOCAL_WORKER_CONFIG = {"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None}


@contextlib.contextmanager
def connect(scheduler: str, workers: int | None, tasks: int) -> Iterator[Any]:
    """A Dask client: on a new local cluster (one single-threaded worker process per core, at most one
    per task), or connected to the scheduler at `scheduler`."""
    from distributed import Client, LocalCluster

    if scheduler == "local":
        import dask

        n = max(1, min(workers or os.cpu_count() or 1, tasks))
        with dask.config.set(LOCAL_WORKER_CONFIG), \
                LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None,
                             silence_logs=logging.ERROR) as cluster, Client(cluster) as client:
            yield client
        return
    try:
        client = Client(scheduler, timeout=CONNECT_TIMEOUT)
    except (OSError, TimeoutError) as err:
        raise DataError(f"could not reach the Dask scheduler at {scheduler}: {err}", code="scheduler_unreachable",
                        details={"scheduler": scheduler}) from None
    try:
        yield client
    finally:
        client.close()


def _check_versions(client: Any) -> None:
    from advisor.context_cache import code_version

    ours = code_version()
    theirs = client.run(worker_code_version)
    different = {address: version for address, version in theirs.items() if version != ours}
    if different:
        raise DataError(f"{len(different)} Dask worker(s) run another version of the advisor package than this "
                        f"client ({ours}): {', '.join(sorted(different))[:300]}; install the same version on "
                        "every worker", code="worker_version_mismatch", details={"client": ours, **different})


def dask_partitions(spec: RunSpec, todo: list[int], scheduler: str, workers: int | None,
                    info: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Run `todo` partitions as Dask tasks; yields each partition's status record as it completes."""
    from distributed import as_completed

    with connect(scheduler, workers, len(todo)) as client:
        _check_versions(client)
        client.register_plugin(ContextPlugin(spec.data), name=PLUGIN_NAME)
        run_id = uuid.uuid4().hex[:8]
        futures = {client.submit(run_partition, spec, p, key=f"advisor-{spec.job}-{run_id}-part-{p}", pure=False): p
                   for p in todo}
        for future in as_completed(futures):
            p = futures[future]
            try:
                record = future.result()
            except Exception as err:  # the worker died (memory, kill) or the task could not run at all
                record = _lost_partition(spec, p, err)
            yield record
        ready = client.run(readiness)
        info.update(kind="local cluster" if scheduler == "local" else "dask cluster", scheduler=scheduler,
                    workers=len(ready), readiness=ready)


def _lost_partition(spec: RunSpec, partition: int, err: BaseException) -> dict[str, Any]:
    from pathlib import Path

    from advisor.nightly.jobs import get_job

    out = Path(spec.out)
    outputs.remove_partition(out, (*get_job(spec.job).outputs, outputs.REJECTS), partition)
    record = {"partition": partition, "fingerprint": spec.fingerprint, "status": "failed", "worker": "lost",
              "error": {"type": type(err).__name__, "message": f"the task did not complete on the cluster: {err}"},
              "finished_at": datetime.now(UTC).isoformat(timespec="seconds")}
    outputs.write_json(outputs.status_path(out, partition), record)
    return record
